"""Expire what has run out, remind holders 30 and 7 days ahead, republish: for cron, idempotent.
It also refreshes SQLite's planner statistics, which SQLite does not keep by itself."""

from django.core.management.base import BaseCommand

from vpnregistry.db import refresh_planner_statistics
from vpnregistry.registrations.services import sweep


class Command(BaseCommand):
    help = "Expire registrations whose validity has ended, send expiry reminders, and republish."

    def handle(self, *args, **options):
        report = sweep()
        refresh_planner_statistics()
        self.stdout.write(
            f"expired {len(report.expired)}, reminded {len(report.reminded)}, "
            + (
                f"published serial {report.published_serial}"
                if report.published_serial
                else "allowlist unchanged"
            )
        )
