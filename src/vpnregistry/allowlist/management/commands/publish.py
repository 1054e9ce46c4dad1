"""Publish a snapshot if the allowlist has changed; for cron, when publication is rate-limited."""

from django.core.management.base import BaseCommand

from vpnregistry.allowlist.services import publish_snapshot, write_index


class Command(BaseCommand):
    help = "Publish the next allowlist snapshot when anything has changed since the latest one."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="publish even when nothing has changed")
        parser.add_argument(
            "--reset-session",
            action="store_true",
            help="start a new session: clients must accept it deliberately (--accept-reset)",
        )

    def handle(self, *args, force=False, reset_session=False, **options):
        snapshot = publish_snapshot(force=force, reset_session=reset_session)
        if snapshot is None:
            write_index()
            self.stdout.write("Nothing has changed; no new snapshot (the index was re-signed).")
        else:
            self.stdout.write(
                f"Published serial {snapshot.serial} of session {snapshot.session}: "
                f"{snapshot.ipv4_count} IPv4, {snapshot.ipv6_count} IPv6 entries, "
                f"{snapshot.msisdn_count} mobile numbers."
            )
