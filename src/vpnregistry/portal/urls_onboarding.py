"""Routes of sign-up, organisation members and documents, and operators' address-space changes."""

from django.urls import path

from vpnregistry.portal import views_onboarding as v

urlpatterns = [
    path("signup/", v.signup, name="signup"),
    path("signup/verify/<str:token>/", v.signup_verify, name="signup-verify"),
    path("signup/resend/", v.signup_resend, name="signup-resend"),
    path("invitations/<str:token>/", v.invitation_accept, name="invitation-accept"),
    path("organisation/members/", v.organisation_members, name="organisation-members"),
    path("organisation/members/invite/", v.organisation_invite, name="organisation-invite"),
    path("organisation/members/<int:pk>/remove/", v.member_remove, name="member-remove"),
    path("organisation/members/<int:pk>/admin/", v.member_admin, name="member-admin"),
    path("documents/", v.document_list, name="documents"),
    path("documents/<int:pk>/", v.document_download, name="document-download"),
    path("organisations/<int:pk>/documents/", v.organisation_documents, name="organisation-documents"),
    path("space/", v.space_changes, name="space-changes"),
    path("space/<int:pk>/decide/", v.space_change_decide, name="space-change-decide"),
]
