"""Top-level routes."""

from django.contrib import admin
from django.urls import include, path

from vpnregistry.portal import views as portal_views
from vpnregistry.portal import views_monitoring

urlpatterns = [
    path("healthz", portal_views.healthz, name="healthz"),
    path("readyz", views_monitoring.readyz, name="readyz"),
    path("metrics", views_monitoring.metrics, name="metrics"),
    path("api/v1/", include("vpnregistry.urls_api")),
    # The regulator's reference data (categories, documents, agencies, rejection reasons): officers.
    path("admin/", admin.site.urls),
    # Django's language switch, which also stores the choice on a signed-in account.
    path("i18n/setlang/", portal_views.set_language, name="set_language"),
    path("", include("vpnregistry.portal.urls")),
]

# Under /api/ Django's own refusals answer in JSON like the API's; elsewhere they are Django's pages.
handler400 = "vpnregistry.api.errors.bad_request"
handler404 = "vpnregistry.api.errors.not_found"
handler500 = "vpnregistry.api.errors.server_error"
