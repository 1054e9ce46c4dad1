"""Expire what has run out, remind holders 30 and 7 days ahead, republish: for cron, idempotent.
It also refreshes SQLite's planner statistics, which SQLite does not keep by itself, and removes
what a killed publisher left of its temporary files. The same as the scheduler's `vpnregistry.sweep`."""

from django.core.management.base import BaseCommand

from vpnregistry.worker.tasks import sweep


class Command(BaseCommand):
    help = "Expire registrations whose validity has ended, send expiry reminders, and republish."

    def handle(self, *args, **options):
        report = sweep.run()
        self.stdout.write(
            f"expired {report['expired']}, reminded {report['reminded']}, "
            + (
                f"published serial {report['published_serial']}"
                if report["published_serial"]
                else "allowlist unchanged"
            )
        )
