"""Restore the registry from a backup made by `vpnregistry backup`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vpnregistry.audit.services import verify_chain
from vpnregistry.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Replace the database and files with those of a backup (the files into the storages configured "
        "now); then verify the audit chain."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, file, yes=False, **options):
        source = Path(file)
        if not source.exists():
            raise CommandError(f"{source}: no such file")
        if not yes and input("This replaces the registry's data. Type 'restore' to go on: ") != "restore":
            raise CommandError("not restored")
        try:
            restore(source)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        report = verify_chain()
        if not report.ok:
            raise CommandError(f"restored, but the audit chain breaks at record {report.first_bad_seq}")
        self.stdout.write(f"Restored from {source}; the audit chain verifies ({report.checked} records).")
