"""Check the whole audit chain and name the first broken record."""

from django.core.management.base import BaseCommand, CommandError

from vpnregistry.audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain."

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"audit record {report.first_bad_seq}: {report.problem} "
                f"({report.checked} records verified before it)"
            )
        self.stdout.write(f"The audit chain verifies: {report.checked} records.")
