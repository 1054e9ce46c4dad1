"""Routes of the certificate pages (the holder's PDF, the public check) and the public status page."""

from django.urls import path

from vpnregistry.portal import views_public as views

urlpatterns = [
    path("registrations/<int:pk>/certificate.pdf", views.certificate_pdf, name="certificate-pdf"),
    path("verify/", views.certificate_verify, name="certificate-verify"),
    path("verify/<str:code>/", views.certificate_check, name="certificate-check"),
    path("status/", views.status, name="status"),
]
