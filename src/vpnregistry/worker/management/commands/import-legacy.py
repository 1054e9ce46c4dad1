"""Load registrations from the register kept before this one; all rows are checked first."""

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vpnregistry.allowlist.publication import publish_pending
from vpnregistry.applications import legacy
from vpnregistry.celery import broker_url
from vpnregistry.registrations.outbox import start_publisher

PROGRESS_EVERY = 10.0  # seconds between progress lines when stderr is not a terminal


class Command(BaseCommand):
    help = (
        "Import existing registrations from a CSV file (columns: organisation, category, value, operator, "
        "subscriber_id, valid_from, valid_until, and optionally district). Every row is checked first; "
        "nothing is written if any row is bad, unless --skip-invalid, and a bad row is never written. "
        "Rows are written in batches; a run cut short is finished by running it again."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="import the good rows, report the rest"
        )
        parser.add_argument(
            "--batch", type=int, default=legacy.BATCH, help=f"rows per transaction (default {legacy.BATCH})"
        )

    def handle(self, *args, file, skip_invalid=False, batch=legacy.BATCH, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        try:
            text = Path(file).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file}: {exc}") from None
        started = time.monotonic()
        checked = legacy.check_file(text)
        del text
        for line, reason in checked.errors:
            self.stderr.write(f"{file}:{line}: {reason}")
        if checked.errors and not skip_invalid:
            raise CommandError(
                f"{len(checked.errors)} bad row(s); nothing was imported "
                "(fix them, or use --skip-invalid to import the good rows)"
            )
        total = len(checked.rows)
        self.stderr.write(
            f"checked {total + len(checked.errors):,} rows in {time.monotonic() - started:.1f} s: "
            f"{total:,} to import, {len(checked.errors):,} bad"
        )
        tty = sys.stderr.isatty()
        shown = time.monotonic()

        def progress(done: int, total: int) -> None:
            nonlocal shown
            message = f"written {done:,} of {total:,} rows"
            if tty:
                self.stderr.write(f"\r{message}", ending="")
                self.stderr.flush()
            elif done == total or time.monotonic() - shown >= PROGRESS_EVERY:
                self.stderr.write(message)
                shown = time.monotonic()

        started = time.monotonic()
        result = legacy.import_rows(checked, progress=progress, batch_size=batch)
        if tty and total:
            self.stderr.write("")
        for line, reason in result.refused:
            self.stderr.write(f"{file}:{line}: {reason}")
        self.stderr.write(f"wrote {result.created:,} rows in {time.monotonic() - started:.1f} s")
        # Each batch recorded its wish to publish. With a worker, it publishes them as it does an
        # approval's (at a million rows, tens of seconds this command need not wait for); without
        # one, publishing here also covers a run cut short before.
        snapshot = None
        to_worker = bool(broker_url())
        if to_worker:
            start_publisher()
            self.stderr.write("publication asked of the worker")
        else:
            started = time.monotonic()
            snapshot = publish_pending().snapshot
            if snapshot is not None:
                self.stderr.write(f"published serial {snapshot.serial} in {time.monotonic() - started:.1f} s")
        bad = len(checked.errors) + len(result.refused)
        self.stdout.write(
            f"{result.created} imported, {result.already} already there, {bad} skipped as bad"
            + (f"; published serial {snapshot.serial}" if snapshot else "")
            + ("; publication asked of the worker" if to_worker else "")
        )
        if result.refused and not skip_invalid:
            raise CommandError(
                f"{len(result.refused)} row(s) were registered to another organisation, or left their "
                "operator's space, while the file was being imported; they were not written, the others were"
            )
