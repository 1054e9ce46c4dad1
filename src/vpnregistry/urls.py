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
