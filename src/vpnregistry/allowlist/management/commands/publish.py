"""Publish a snapshot if the allowlist has changed: for cron, when publication is rate-limited."""

from django.core.management.base import BaseCommand

from vpnregistry.allowlist.services import publish_snapshot


class Command(BaseCommand):
    help = "Publish the next allowlist snapshot when anything has changed since the latest one."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="publish even when nothing has changed")

    def handle(self, *args, force=False, **options):
        snapshot = publish_snapshot(force=force)
        if snapshot is None:
            self.stdout.write("Nothing has changed; no new snapshot.")
        else:
            self.stdout.write(
                f"Published serial {snapshot.serial} ({snapshot.ipv4_count} IPv4, "
                f"{snapshot.ipv6_count} IPv6 entries)."
            )
