"""Sign-up with a verified email, invitations, and an organisation admin's management of members."""

from __future__ import annotations

import re

import pytest
from django.core import mail, signing
from django.test import Client

from tests.auth import login
from tests.factories import PASSWORD, UserFactory
from vpnregistry.accounts import onboarding
from vpnregistry.accounts.models import Invitation, Organisation, Role, User
from vpnregistry.audit.models import AuditEvent
from vpnregistry.errors import InvalidInput, NotAllowed, WrongState

SIGNUP = {
    "name": "Shalimar Software (Pvt) Ltd",
    "category": "company",
    "ntn": "1234567-8",
    "email": "Admin@Shalimar.example",
    "username": "shalimar-admin",
    "password": "a long and unusual passphrase 2026",
}


def can_log_in(username, password) -> bool:
    response = Client().post("/login/", {"username": username, "password": password})
    return response.status_code == 302


def link_token(message) -> str:
    return re.search(r"/(?:signup/verify|invitations)/([^/\s]+)/", message.body).group(1)


@pytest.fixture
def signed_up(world, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        return onboarding.organisation_register(**SIGNUP)


def test_signup_creates_the_organisation_and_an_inactive_admin_and_mails_a_link(signed_up):
    user = signed_up
    organisation = user.organisation
    assert organisation.name == SIGNUP["name"] and organisation.category.code == "company"
    assert organisation.ntn == "1234567-8"
    assert user.role == Role.APPLICANT and user.is_org_admin
    assert not user.is_active and user.email_verified_at is None
    assert user.email == "admin@shalimar.example" and user.check_password(SIGNUP["password"])
    assert [m.to for m in mail.outbox] == [["admin@shalimar.example"]]
    assert "/signup/verify/" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="organisation.signup", object_id=str(organisation.pk)).exists()
    assert not can_log_in(SIGNUP["username"], SIGNUP["password"])


def test_the_link_activates_the_account_once(signed_up):
    token = link_token(mail.outbox[0])
    user = onboarding.email_verify(token=token)
    assert user.is_active and user.email_verified_at is not None
    assert can_log_in(SIGNUP["username"], SIGNUP["password"])
    with pytest.raises(WrongState):
        onboarding.email_verify(token=token)
    assert AuditEvent.objects.filter(action="user.verify-email", object_id=str(user.pk)).count() == 1


def test_a_removed_member_cannot_come_back_through_an_old_signup_link(signed_up):
    token = link_token(mail.outbox[0])
    onboarding.email_verify(token=token)
    User.objects.filter(pk=signed_up.pk).update(is_active=False)
    with pytest.raises(WrongState):
        onboarding.email_verify(token=token)
    assert not User.objects.get(pk=signed_up.pk).is_active


def test_bad_tampered_and_expired_links_are_refused(signed_up, settings):
    token = link_token(mail.outbox[0])
    for bad in ["", "nonsense", token[:-2] + ("AA" if not token.endswith("AA") else "BB")]:
        with pytest.raises(InvalidInput):
            onboarding.email_verify(token=bad)
    # A link signed for an invitation is no sign-up link.
    forged = signing.dumps({"u": signed_up.pk, "e": signed_up.email}, salt=onboarding.INVITATION_SALT)
    with pytest.raises(InvalidInput):
        onboarding.email_verify(token=forged)
    settings.SIGNUP_LINK_SECONDS = -1
    with pytest.raises(InvalidInput) as exc:
        onboarding.email_verify(token=token)
    assert "expired" in exc.value.errors["token"][0]
    assert not User.objects.get(pk=signed_up.pk).is_active


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": " "}, "name"),
        ({"category": "astronauts"}, "category"),
        ({"email": "not an address"}, "email"),
        ({"username": "bad name!"}, "username"),
        ({"password": "123"}, "password"),  # Django's validators
        ({"password": "shalimar-admin"}, "password"),  # too like the username
        ({"ntn": "x" * 21}, "ntn"),
        ({"cnic": "123"}, "cnic"),  # the identifiers' own formats
    ],
)
def test_signup_refusals_name_the_field_and_save_nothing(world, change, field):
    before = Organisation.objects.count(), User.objects.count()
    with pytest.raises(InvalidInput) as exc:
        onboarding.organisation_register(**{**SIGNUP, **change})
    assert field in exc.value.errors
    assert (Organisation.objects.count(), User.objects.count()) == before


def test_resend_mails_a_new_link_only_to_a_waiting_account(signed_up):
    mail.outbox.clear()
    onboarding.verification_resend(email="ADMIN@shalimar.example")
    assert len(mail.outbox) == 1
    onboarding.email_verify(token=link_token(mail.outbox[0]))
    onboarding.verification_resend(email="admin@shalimar.example")  # active now: nothing
    onboarding.verification_resend(email="nobody@example.org")
    assert len(mail.outbox) == 1


def test_signup_pages_and_api(world, django_capture_on_commit_callbacks):
    client = Client()
    assert client.get("/signup/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/signup/", {**SIGNUP})
    assert response.status_code == 200 and b"Check your email" in response.content
    token = link_token(mail.outbox[-1])
    page = client.get(f"/signup/verify/{token}/")
    assert page.status_code == 200 and not User.objects.get(username=SIGNUP["username"]).is_active
    assert client.post(f"/signup/verify/{token}/").status_code == 302
    assert User.objects.get(username=SIGNUP["username"]).is_active
    assert client.post(f"/signup/verify/{token}/").status_code == 400  # used

    bad = client.post("/signup/", {**SIGNUP, "username": "other", "password": "1"})
    assert bad.status_code == 200 and b'aria-invalid="true"' in bad.content

    api = world.client(None)
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            "/api/v1/signup/",
            {**SIGNUP, "username": "api-admin", "email": "api@example.org", "name": "API Ltd", "ntn": ""},
            format="json",
        )
    assert created.status_code == 202 and created.json()["username"] == "api-admin"
    assert "ntn" not in created.json()
    verified = api.post("/api/v1/signup/verify/", {"token": link_token(mail.outbox[-1])}, format="json")
    assert verified.status_code == 200
    assert api.post("/api/v1/signup/verify/", {"token": "x"}, format="json").status_code == 400
    assert api.post("/api/v1/signup/", {"name": "x"}, format="json").status_code == 400


# --- members ----------------------------------------------------------------------------------


@pytest.fixture
def admin(world):
    world.applicant.is_org_admin = True
    world.applicant.save(update_fields=["is_org_admin"])
    return world.applicant


def invite(admin, email, capture):
    with capture(execute=True):
        invitation = onboarding.member_invite(actor=admin, email=email)
    return invitation, link_token(mail.outbox[-1])


def test_an_admin_invites_and_the_invited_person_joins_once(world, admin, django_capture_on_commit_callbacks):
    invitation, token = invite(admin, "New.Person@example.org", django_capture_on_commit_callbacks)
    assert mail.outbox[-1].to == ["new.person@example.org"] and world.org.name in mail.outbox[-1].subject
    assert onboarding.invitation_from(token) == invitation
    member = onboarding.invitation_accept(token=token, username="new-person", password=PASSWORD)
    assert member.organisation == world.org and member.role == Role.APPLICANT
    assert member.is_active and not member.is_org_admin and member.email == "new.person@example.org"
    assert member.email_verified_at is not None
    invitation.refresh_from_db()
    assert invitation.accepted_user == member and invitation.accepted_at is not None
    with pytest.raises(WrongState):
        onboarding.invitation_accept(token=token, username="again", password=PASSWORD)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"member.invite", "member.join"} <= actions


def test_invitation_refusals(world, admin, settings, django_capture_on_commit_callbacks):
    with pytest.raises(NotAllowed):
        onboarding.member_invite(actor=world.other_applicant, email="x@example.org")  # not an admin
    for outsider in (world.agency, world.operator, world.officer, world.auditor):
        with pytest.raises(NotAllowed):
            onboarding.member_invite(actor=outsider, email="x@example.org")
    with pytest.raises(InvalidInput):
        onboarding.member_invite(actor=admin, email="not-an-address")
    with pytest.raises(InvalidInput):
        onboarding.member_invite(actor=admin, email="other-applicant@example.org")  # an active account
    _invitation, token = invite(admin, "late@example.org", django_capture_on_commit_callbacks)
    with pytest.raises(InvalidInput):
        onboarding.invitation_accept(token=token, username="x", password="1")  # weak password
    with pytest.raises(InvalidInput):
        onboarding.invitation_accept(token=token, username="applicant", password=PASSWORD)  # taken
    settings.INVITATION_LINK_SECONDS = -1
    with pytest.raises(InvalidInput):
        onboarding.invitation_accept(token=token, username="late", password=PASSWORD)
    assert not User.objects.filter(username="late").exists()
    assert not Invitation.objects.filter(accepted_at__isnull=False).exists()


def test_an_admin_removes_a_member_who_then_cannot_sign_in(world, admin):
    member = UserFactory(username="leaver", organisation=world.org)
    api = world.client(member)
    assert api.get("/api/v1/me/").status_code == 200 and can_log_in("leaver", PASSWORD)
    onboarding.member_remove(actor=admin, member=member)
    member.refresh_from_db()
    assert not member.is_active
    assert api.get("/api/v1/me/").status_code == 401  # its token went with it
    assert not can_log_in("leaver", PASSWORD)
    with pytest.raises(WrongState):
        onboarding.member_remove(actor=admin, member=member)
    assert AuditEvent.objects.filter(action="member.remove", object_id=str(member.pk)).exists()


def test_the_last_admin_cannot_be_removed_or_demoted(world, admin):
    with pytest.raises(WrongState):
        onboarding.member_remove(actor=admin, member=admin)
    with pytest.raises(WrongState):
        onboarding.member_set_admin(actor=admin, member=admin, admin=False)
    second = UserFactory(username="second", organisation=world.org)
    onboarding.member_set_admin(actor=admin, member=second, admin=True)
    second.refresh_from_db()
    onboarding.member_remove(actor=second, member=admin)  # there is another admin now
    admin.refresh_from_db()
    assert not admin.is_active
    with pytest.raises(WrongState):
        onboarding.member_remove(actor=second, member=second)


def test_nobody_touches_another_organisations_members(world, admin):
    world.other_applicant.is_org_admin = True
    world.other_applicant.save(update_fields=["is_org_admin"])
    member = UserFactory(username="mine", organisation=world.org)
    with pytest.raises(NotAllowed):
        onboarding.member_remove(actor=world.other_applicant, member=member)
    with pytest.raises(NotAllowed):
        onboarding.member_set_admin(actor=world.other_applicant, member=member, admin=True)
    with pytest.raises(NotAllowed):
        onboarding.member_for(world.other_applicant, member.pk)
    with pytest.raises(NotAllowed):
        onboarding.member_remove(actor=world.officer, member=member)
    member.refresh_from_db()
    assert member.is_active and not member.is_org_admin
    # Through the API and the portal too.
    other = world.client(world.other_applicant)
    assert other.post(f"/api/v1/organisation/members/{member.pk}/remove/").status_code == 403
    listed = {m["username"] for m in other.get("/api/v1/organisation/members/").json()["results"]}
    assert "mine" not in listed and "other-applicant" in listed
    portal = Client()
    login(portal, world.other_applicant)
    assert portal.post(f"/organisation/members/{member.pk}/remove/").status_code == 403
    assert b"mine" not in portal.get("/organisation/members/").content
    member.refresh_from_db()
    assert member.is_active


def test_members_page_and_api(world, admin, django_capture_on_commit_callbacks):
    for n in range(30):
        UserFactory(username=f"m{n:02d}", organisation=world.org)
    portal = Client()
    login(portal, admin)
    first = portal.get("/organisation/members/")
    assert first.status_code == 200 and b"m29" in first.content and b"m00" not in first.content
    older = re.search(rb'href="\?before=(\d+)"', first.content).group(1).decode()
    assert b"m00" in portal.get(f"/organisation/members/?before={older}").content
    with django_capture_on_commit_callbacks(execute=True):
        assert portal.post("/organisation/members/invite/", {"email": "p@example.org"}).status_code == 302
    assert mail.outbox[-1].to == ["p@example.org"]
    leaver = User.objects.get(username="m05")
    assert portal.post(f"/organisation/members/{leaver.pk}/remove/").status_code == 302
    leaver.refresh_from_db()
    assert not leaver.is_active

    api = world.client(admin)
    page = api.get("/api/v1/organisation/members/").json()
    assert len(page["results"]) == 50 or page["next"] is None
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/v1/organisation/invitations/", {"email": "q@example.org"}, format="json")
    assert created.status_code == 201
    token = link_token(mail.outbox[-1])
    joined = world.client(None).post(
        "/api/v1/invitations/accept/",
        {"token": token, "username": "q-user", "password": PASSWORD},
        format="json",
    )
    assert joined.status_code == 201 and joined.json()["username"] == "q-user"
    q = User.objects.get(username="q-user")
    made = api.post(f"/api/v1/organisation/members/{q.pk}/admin/", {"admin": True}, format="json")
    assert made.status_code == 200 and made.json()["is_org_admin"] is True
    assert world.client(world.agency).get("/api/v1/organisation/members/").status_code == 403

    invited = Client().get(f"/invitations/{token}/")
    assert invited.status_code == 409 or invited.status_code == 400  # used already


def test_one_organisation_per_ntn(signed_up, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = onboarding.organisation_register(
            **{**SIGNUP, "username": "again", "email": "again@example.org"}
        )
    assert again is None
    assert Organisation.objects.filter(name=SIGNUP["name"]).count() == 1
    assert not User.objects.filter(username="again").exists()
    assert [m.to for m in mail.outbox] == [["again@example.org"]] and "NTN" in mail.outbox[0].body


# --- sign-up says nothing of who is registered ------------------------------------------------

# Each conflict, and the address the truth is mailed to: the existing account's holder when the
# address is in use (given); otherwise the address of the attempt (None).
CONFLICTS = [
    pytest.param({"username": "APPLICANT"}, None, "username APPLICANT is taken", id="username"),
    pytest.param(
        {"email": "Applicant@Example.org"}, "applicant@example.org", "Someone tried to register", id="email"
    ),
    pytest.param({"ntn": "1234567-8"}, None, "NTN is registered already", id="ntn"),
]


@pytest.fixture
def ntn_holder(world):
    world.org.ntn = "1234567-8"
    world.org.save()
    return world.org


def _attempt(who: str, change=None) -> dict:
    return {
        **SIGNUP,
        "name": "Same Name",
        "ntn": "",
        "email": f"{who}@shalimar.example",
        "username": who,
        **(change or {}),
    }


@pytest.mark.parametrize(("change", "mailed_to", "truth"), CONFLICTS)
def test_signup_answers_the_same_whether_or_not_a_username_email_or_ntn_is_taken(
    world, ntn_holder, change, mailed_to, truth, django_capture_on_commit_callbacks
):
    """The API and the portal answer a taken username, address or NTN as a fresh sign-up; nothing is
    saved, and the email tells the truth to the address's owner."""

    def api(data):
        with django_capture_on_commit_callbacks(execute=True):
            response = world.client(None).post("/api/v1/signup/", data, format="json")
        body = response.json()
        assert body.pop("username") == data["username"]
        return response.status_code, body

    def portal(data):
        with django_capture_on_commit_callbacks(execute=True):
            response = Client().post("/signup/", data)
        return response.status_code, _without_csrf(response.content.decode().replace(data["email"], "@"))

    for ask in (api, portal):
        fresh = ask(_attempt(f"fresh-{ask.__name__}"))
        before = Organisation.objects.count(), User.objects.count()
        mail.outbox.clear()
        attempt = _attempt(f"taken-{ask.__name__}", change)
        assert ask(attempt) == fresh
        assert fresh[0] in {200, 202}
        assert (Organisation.objects.count(), User.objects.count()) == before
        assert [m.to for m in mail.outbox] == [[mailed_to or attempt["email"]]]
        assert truth in mail.outbox[0].body and "/signup/verify/" not in mail.outbox[0].body
        assert not User.objects.filter(username=attempt["username"]).exists()


def _without_csrf(page: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", re.sub(r"csrftoken=[^;]*", "", page))
