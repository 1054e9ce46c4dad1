"""Two-factor authenticators: `list` who has one, `reset USER` after a lost phone."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django_otp.plugins.otp_totp.models import TOTPDevice

from vpnregistry.accounts import two_factor
from vpnregistry.accounts.models import User


class Command(BaseCommand):
    help = (
        "TOTP authenticators: `list` (who has one, staff without one), `reset USER` (removes it; "
        "the user sets up a new one at the next login)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "reset"])
        parser.add_argument("username", nargs="?")
        parser.add_argument("--reason", default="", help="why (kept in the audit log)")

    def handle(self, *args, action, username=None, reason="", **options):
        if action == "list":
            enrolled = TOTPDevice.objects.filter(confirmed=True).values("user_id")
            users = (
                User.objects.filter(Q(role__in=two_factor.STAFF_ROLES) | Q(id__in=enrolled), is_active=True)
                .order_by("username")
                .only("id", "username", "role")
            )
            enrolled = set(enrolled.values_list("user_id", flat=True))
            for user in users.iterator():
                if user.id in enrolled:
                    state = "enrolled"
                elif two_factor.must_use_totp(user):
                    state = "not enrolled (set up at next login)"
                else:
                    continue
                self.stdout.write(f"{user.username:<24} {user.role:<10} {state}")
            return
        if not username:
            raise CommandError("`totp reset` needs a username")
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"no user {username!r}") from None
        removed = two_factor.reset(actor=None, user=user, reason=reason)
        self.stdout.write(
            f"Removed {username}'s authenticator; a new one is set up at the next login."
            if removed
            else f"{username} had no authenticator."
        )
