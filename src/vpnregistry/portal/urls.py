"""Routes of the portal pages."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from vpnregistry.portal import views, views_complaints, views_events, views_registrations

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="portal/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # A forgotten password, reset by email.
    path("", include("vpnregistry.portal.urls_passwords")),
    path("applications/", views.application_list, name="application-list"),
    path("applications/new/", views.application_new, name="application-new"),
    path("applications/<int:pk>/", views.application_detail, name="application-detail"),
    path("applications/<int:pk>/submit/", views.application_submit, name="application-submit"),
    path("applications/<int:pk>/submitted/", views.application_submitted, name="application-submitted"),
    path("applications/<int:pk>/verify/", views.application_verify, name="application-verify"),
    path("applications/<int:pk>/decide/", views.application_decide, name="application-decide"),
    path("resources/<int:pk>/attest/", views.resource_attest, name="resource-attest"),
    # Bulk resources, withdrawal, the fee, appeals, renewal (issue 4); before the registrations'
    # routes, whose registrations/<pk>/<step>/ would otherwise take registrations/<pk>/renew/.
    path("", include("vpnregistry.portal.urls_workflow")),
    path("", include(views_registrations.urlpatterns)),
    path("allowlist/", views.allowlist, name="allowlist"),
    path("events/", views_events.calendar, name="events"),
    path("events/new/", views_events.event_new, name="event-new"),
    path("events.json", views_events.events_json, name="events-json"),
    path("events.ics", views_events.events_ics, name="events-ics"),
    # Exemption statements and complaints (issue 6).
    path("", include(views_complaints.urlpatterns)),
    # The audit log for auditors and the public statistics live in modules of their own.
    path("", include("vpnregistry.portal.urls_transparency")),
    # The login's second step (TOTP) and setting up an authenticator.
    path("", include("vpnregistry.portal.urls_two_factor")),
    # The organisation's own page and its data export (privacy).
    path("", include("vpnregistry.portal.urls_privacy")),
    # Registration certificates and the public status of applications.
    path("", include("vpnregistry.portal.urls_public")),
    path("", include("vpnregistry.portal.urls_queues")),
    # Sign-up, members, documents and operators' space changes (issue 4 items 1, 2, 10).
    path("", include("vpnregistry.portal.urls_onboarding")),
]
