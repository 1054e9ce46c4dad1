"""Load registrations from the register kept before this one; all rows are checked first."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vpnregistry.allowlist.services import publish_snapshot
from vpnregistry.registrations import legacy


class Command(BaseCommand):
    help = (
        "Import existing registrations from a CSV file (columns: organisation, category, value, operator, "
        "subscriber_id, valid_from, valid_until, and optionally district). Every row is checked first; "
        "nothing is written if any row is bad, unless --skip-invalid."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="import the good rows, report the rest"
        )

    def handle(self, *args, file, skip_invalid=False, **options):
        try:
            text = Path(file).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file}: {exc}") from None
        checked = legacy.check_file(text)
        for line, reason in checked.errors:
            self.stderr.write(f"{file}:{line}: {reason}")
        if checked.errors and not skip_invalid:
            raise CommandError(
                f"{len(checked.errors)} bad row(s); nothing was imported "
                "(fix them, or use --skip-invalid to import the good rows)"
            )
        total = len(checked.rows)
        tty = sys.stderr.isatty()

        def progress(done: int) -> None:
            if tty and (done % 500 == 0 or done == total):
                sys.stderr.write(f"\rimported {done:,} of {total:,} rows")

        result = legacy.import_rows(checked.rows, progress=progress)
        if tty:
            sys.stderr.write("\n")
        snapshot = publish_snapshot() if result.created else None
        self.stdout.write(
            f"{result.created} imported, {result.already} already there, {len(checked.errors)} skipped as bad"
            + (f"; published serial {snapshot.serial}" if snapshot else "")
        )
