"""Publish a snapshot if anything is due; for cron, and to catch up by hand."""

from django.core.management.base import BaseCommand

from vpnregistry.allowlist.publication import publish_pending
from vpnregistry.allowlist.services import write_index


class Command(BaseCommand):
    # Run by cron every minute or so: Django's system checks (loading every URLconf and view, about a
    # second) guard a deploy, not each publication; the worker's publication skips them too.
    requires_system_checks = []
    help = (
        "Publish the next allowlist snapshot when anything has changed since the latest one (known "
        "from the pending changes, without building the allowlist)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="publish even when nothing has changed")
        parser.add_argument(
            "--reset-session",
            action="store_true",
            help="start a new session: clients must accept it deliberately (--accept-reset)",
        )

    def handle(self, *args, force=False, reset_session=False, **options):
        outcome = publish_pending(force=force, reset_session=reset_session)
        snapshot = outcome.snapshot
        if snapshot is None:
            write_index()
            why = "nothing was due" if not outcome.due else "the changes left the allowlist as it was"
            self.stdout.write(f"Nothing has changed ({why}); no new snapshot (the index was re-signed).")
        else:
            self.stdout.write(
                f"Published serial {snapshot.serial} of session {snapshot.session}: "
                f"{snapshot.ipv4_count} IPv4, {snapshot.ipv6_count} IPv6 entries, "
                f"{snapshot.msisdn_count} mobile numbers."
            )
