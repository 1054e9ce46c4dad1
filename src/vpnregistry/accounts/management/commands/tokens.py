"""Issue, revoke and list API tokens (for operators' sync clients and other machines)."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from vpnregistry.accounts.models import User
from vpnregistry.audit.services import record


class Command(BaseCommand):
    help = "API tokens: `issue USER` (replaces any old one), `revoke USER`, `list`."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["issue", "revoke", "list"])
        parser.add_argument("username", nargs="?")

    def handle(self, *args, action, username=None, **options):
        if action == "list":
            for token in Token.objects.select_related("user").order_by("user__username"):
                expires = token.created + timedelta(days=settings.API_TOKEN_DAYS)
                self.stdout.write(
                    f"{token.user.username:<24} {token.user.role:<10} expires {expires:%Y-%m-%d}"
                )
            return
        if not username:
            raise CommandError(f"`tokens {action}` needs a username")
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"no user {username!r}") from None
        removed, _ = Token.objects.filter(user=user).delete()
        if action == "revoke":
            record(actor=None, action="token.revoke", obj=user, object_type="user")
            self.stdout.write(f"Revoked {username}'s token." if removed else f"{username} had no token.")
            return
        token = Token.objects.create(user=user)
        record(actor=None, action="token.issue", obj=user, object_type="user")
        self.stdout.write(token.key)
