"""Load the demo world once; running it again changes nothing."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from vpnregistry import demo
from vpnregistry.transparency.statistics import refresh_statistics


class Command(BaseCommand):
    help = "Load demo organisations, operators, staff and applications (development only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo data refuses to load when DEBUG is off")
        if demo.is_loaded():
            if demo.accounts_path().exists():
                self.stdout.write(f"Demo data is already loaded; the accounts are in {demo.accounts_path()}.")
                return
            accounts = demo.reset_credentials()
            self.stdout.write("Demo data was loaded but its accounts file was missing: new credentials.")
        else:
            # The demo's own notifications (sent as its transaction commits) would only be noise.
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
                accounts = demo.load()
            # What the scheduled job would have stored by now: the statistics page has figures at once.
            refresh_statistics()
        path = demo.write_accounts(accounts)
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (also in {path}, mode 0600):"))
        for a in accounts:
            totp = f"  totp {a.totp_secret}" if a.totp_secret else ""
            self.stdout.write(f"  {a.role:<10} {a.username:<16} password {a.password}  token {a.token}{totp}")
        self.stdout.write(
            "Staff log in with a code from their totp secret as well (an authenticator app, or "
            "`oathtool --totp -b SECRET`)."
        )
