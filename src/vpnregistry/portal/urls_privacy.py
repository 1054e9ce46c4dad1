"""Routes of the organisation's own page and the download of everything held about it."""

from django.urls import path

from vpnregistry.portal import views_privacy as views

urlpatterns = [
    path("organisation/", views.organisation, name="organisation"),
    path("organisation/export/", views.organisation_export, name="organisation-export"),
]
