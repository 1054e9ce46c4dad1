"""Routes of the workflow pages beyond the five steps (see views_workflow)."""

from django.urls import path

from vpnregistry.portal import views_workflow as views

urlpatterns = [
    path("applications/new/csv/", views.application_csv, name="application-csv"),
    path("applications/<int:pk>/resources/", views.application_resources, name="application-resources"),
    path("applications/<int:pk>/withdraw/", views.application_withdraw, name="application-withdraw"),
    path("applications/<int:pk>/payment/", views.application_payment, name="application-payment"),
    path("applications/<int:pk>/voucher/", views.application_voucher, name="application-voucher"),
    path("applications/<int:pk>/appeal/", views.application_appeal, name="application-appeal"),
    path(
        "applications/<int:pk>/appeal-decision/",
        views.application_appeal_decision,
        name="application-appeal-decision",
    ),
    path("registrations/<int:pk>/renew/", views.registration_renew, name="registration-renew"),
    path("attestations/", views.attestation_queue, name="attestation-queue"),
]
