"""Check the whole audit chain against the signed checkpoints and name the first broken record."""

from django.core.management.base import BaseCommand, CommandError

from vpnregistry.audit.services import record_verify_run, verify_chain


class Command(BaseCommand):
    help = (
        "Verify the audit log's hash chain and every signed checkpoint; exits non-zero when broken. "
        "The result is kept for the auditors' page."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-record", action="store_true", help="do not keep this run's result")

    def handle(self, *args, **options):
        report = verify_chain()
        if not options["no_record"]:
            record_verify_run(report)
        if not report.ok:
            raise CommandError(
                f"audit record {report.first_bad_seq}: {report.problem} "
                f"({report.checked} records verified before it)"
            )
        self.stdout.write(
            f"The audit chain verifies: {report.checked} records, {report.checkpoints} signed checkpoints."
        )
