"""Expire what has run out, remind holders 30 and 7 days ahead, republish: for cron, idempotent."""

from django.core.management.base import BaseCommand

from vpnregistry.registrations.services import sweep


class Command(BaseCommand):
    help = "Expire registrations whose validity has ended, send expiry reminders, and republish."

    def handle(self, *args, **options):
        report = sweep()
        self.stdout.write(
            f"expired {len(report.expired)}, reminded {len(report.reminded)}, "
            + (
                f"published serial {report.published_serial}"
                if report.published_serial
                else "allowlist unchanged"
            )
        )
