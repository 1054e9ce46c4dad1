"""Check the audit chain against the signed checkpoints and name the first broken record."""

from django.core.management.base import BaseCommand, CommandError

from vpnregistry.audit.services import record_verify_run, verify_chain


class Command(BaseCommand):
    help = (
        "Verify the audit log's hash chain and every signed checkpoint; exits non-zero when broken. "
        "By default (nightly) only the records after the newest checkpoint that the last successful "
        "run verified are read; the records every checkpoint counted, that anchor among them, are "
        "still looked up and checked, so a truncation, or a rewrite reaching a checkpointed record, "
        "shows either way. An edit to any other record before the anchor shows only with --full "
        "(weekly). After a failed run, or with no checkpoint yet, the whole log is read. "
        "The result is kept for the auditors' page."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--full",
            action="store_true",
            help="read every record, not only those after the last verified checkpoint (run weekly)",
        )
        parser.add_argument("--no-record", action="store_true", help="do not keep this run's result")

    def handle(self, *args, **options):
        report = verify_chain(incremental=not options["full"])
        if not options["no_record"]:
            record_verify_run(report)
        how = f" ({report.note})" if report.note else ""
        if not report.ok:
            raise CommandError(
                f"audit record {report.first_bad_seq}: {report.problem} "
                f"({report.checked} records verified before it){how}"
            )
        self.stdout.write(
            f"The audit chain verifies: {report.checked} records, "
            f"{report.checkpoints} signed checkpoints{how}."
        )
