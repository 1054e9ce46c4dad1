"""Back up the registry (database, keys, published files, documents, evidence) into one file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from vpnregistry.backup import BackupError, backup


class Command(BaseCommand):
    help = "Write the whole registry into a .tar.gz (it holds the signing keys: keep it safe)."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="where to write (default: vpnregistry-TIME.tar.gz)")

    def handle(self, *args, file=None, **options):
        target = Path(file or f"vpnregistry-{timezone.now():%Y%m%dT%H%M%SZ}.tar.gz")
        try:
            backup(target)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Backed up to {target} ({target.stat().st_size:,} bytes).")
