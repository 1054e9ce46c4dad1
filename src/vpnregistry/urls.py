"""Top-level routes."""

from django.urls import include, path

from vpnregistry.applications.admin import site as admin_site
from vpnregistry.portal import views as portal_views

urlpatterns = [
    # The regulator's reference lists (rejection reasons), for staff accounts only.
    path("admin/", admin_site.urls),
    path("healthz", portal_views.healthz, name="healthz"),
    path("api/v1/", include("vpnregistry.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("vpnregistry.portal.urls")),
]

# Under /api/ Django's own refusals answer in JSON like the API's; elsewhere they are Django's pages.
handler400 = "vpnregistry.api.errors.bad_request"
handler404 = "vpnregistry.api.errors.not_found"
handler500 = "vpnregistry.api.errors.server_error"
