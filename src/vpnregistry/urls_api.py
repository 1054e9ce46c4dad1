"""Routes of /api/v1/: each app's API views (`<app>/api/`), routed here at the top with the other URLconfs;
`vpnregistry/api/` holds the shared parts those views use (schema, parsers, permissions, pagination).
"""

from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from vpnregistry.accounts.api import views as accounts
from vpnregistry.allowlist.api import views as allowlist
from vpnregistry.applications.api import views as applications
from vpnregistry.applications.api import views_documents as documents
from vpnregistry.notifications.api import views as notifications
from vpnregistry.registrations.api import views as registrations
from vpnregistry.restrictions.api import views as restrictions
from vpnregistry.restrictions.api import views_complaints as complaints
from vpnregistry.transparency.api import views as transparency

router = DefaultRouter()
router.register("operators", accounts.OperatorViewSet, basename="operator")
router.register("applications", applications.ApplicationViewSet, basename="application")
router.register("resources", applications.ResourceViewSet, basename="resource")
router.register("registrations", applications.RegistrationWithRenewalViewSet, basename="registration")
router.register("rejection-reasons", applications.RejectionReasonViewSet, basename="rejection-reason")
router.register("districts", accounts.DistrictViewSet, basename="district")
router.register("services", restrictions.ServiceViewSet, basename="service")
router.register("events", restrictions.EventViewSet, basename="event")
router.register("complaints", complaints.ComplaintViewSet, basename="complaint")
router.register("notifications", notifications.NotificationViewSet, basename="notification")
# Sign-up, members, documents and operators' space changes (issue 4 items 1, 2, 10).
router.register("organisation/members", accounts.MemberViewSet, basename="member")
router.register("organisation/invitations", accounts.InvitationViewSet, basename="invitation")
router.register("documents", documents.DocumentViewSet, basename="document")
router.register("space-changes", registrations.SpaceChangeViewSet, basename="space-change")

app_name = "api"
urlpatterns = [
    path("me/", accounts.MeView.as_view(), name="me"),
    path("me/token/", accounts.MyTokenView.as_view(), name="my-token"),
    path("organisation/export/", transparency.OrganisationExportView.as_view(), name="organisation-export"),
    path("queue/", applications.QueueView.as_view(), name="queue"),
    path("signup/", accounts.SignupView.as_view(), name="signup"),
    path("signup/verify/", accounts.SignupVerifyView.as_view(), name="signup-verify"),
    path("signup/resend/", accounts.SignupResendView.as_view(), name="signup-resend"),
    path("invitations/accept/", accounts.InvitationAcceptView.as_view(), name="invitation-accept"),
    path("exemptions/check", restrictions.ExemptionCheckView.as_view(), name="exemption-check"),
    path("exemptions/jobs/<int:pk>/", restrictions.ExemptionJobView.as_view(), name="exemption-job"),
    path(
        "exemptions/jobs/<int:pk>/result",
        restrictions.ExemptionJobResultView.as_view(),
        name="exemption-job-result",
    ),
    path("allowlist/index.json", allowlist.AllowlistIndexView.as_view(), name="allowlist-index"),
    path(
        "allowlist/index.json.minisig",
        allowlist.AllowlistIndexSignatureView.as_view(),
        name="allowlist-index-signature",
    ),
    path("allowlist/operators/", allowlist.OperatorSyncView.as_view(), name="allowlist-operators"),
    path("allowlist/key.pub", allowlist.AllowlistKeyView.as_view(), name="allowlist-key"),
    re_path(
        r"^allowlist/(?P<which>(?:latest|\d+))\.(?P<name>[a-z0-9][a-z0-9_.-]*?)\.minisig$",
        allowlist.AllowlistFileSignatureView.as_view(),
        name="allowlist-file-signature",
    ),
    re_path(
        r"^allowlist/(?P<which>(?:latest|\d+))\.(?P<name>[a-z0-9][a-z0-9_.-]*)$",
        allowlist.AllowlistFileView.as_view(),
        name="allowlist-file",
    ),
    path(
        "events/<int:pk>/statement.json",
        restrictions.EventStatementView.as_view(),
        name="event-statement",
    ),
    path(
        "events/<int:pk>/statement.json.minisig",
        restrictions.EventStatementSignatureView.as_view(),
        name="event-statement-signature",
    ),
    # Registration certificates and the public status of applications.
    path(
        "registrations/<int:pk>/certificate.pdf",
        registrations.CertificatePdfView.as_view(),
        name="registration-certificate",
    ),
    path("certificates/<str:code>/", registrations.CertificateCheckView.as_view(), name="certificate-check"),
    path("status/", applications.PublicStatusView.as_view(), name="public-status"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script as a file, so the docs work under a CSP without inline script;
    # Swagger UI sets element styles from that script, so this one page allows inline styles.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api:schema")
        ),
        name="docs",
    ),
    path("", include(router.urls)),
]
