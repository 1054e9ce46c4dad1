"""Issue, revoke and list API tokens (for operators' sync clients and other machines).

A token is printed once, when issued: only its digest is kept, so it cannot be shown again.
"""

from django.core.management.base import BaseCommand, CommandError

from vpnregistry.accounts.authentication import issue_token, revoke_token, token_expires
from vpnregistry.accounts.models import ApiToken, User
from vpnregistry.audit.services import record


class Command(BaseCommand):
    help = "API tokens: `issue USER` (replaces any old one; printed once), `revoke USER`, `list`."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["issue", "revoke", "list"])
        parser.add_argument("username", nargs="?")

    def handle(self, *args, action, username=None, **options):
        if action == "list":
            for token in ApiToken.objects.select_related("user").order_by("user__username"):
                used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
                self.stdout.write(
                    f"{token.user.username:<24} {token.user.role:<10} vr_{token.prefix}… "
                    f"expires {token_expires(token):%Y-%m-%d} last used {used}"
                )
            return
        if not username:
            raise CommandError(f"`tokens {action}` needs a username")
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"no user {username!r}") from None
        if action == "revoke":
            removed = revoke_token(user)
            record(actor=None, action="token.revoke", obj=user, object_type="user")
            self.stdout.write(f"Revoked {username}'s token." if removed else f"{username} had no token.")
            return
        key = issue_token(user)
        record(actor=None, action="token.issue", obj=user, object_type="user")
        self.stdout.write(key)
