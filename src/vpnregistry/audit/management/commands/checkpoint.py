"""Sign and keep today's checkpoint of the audit log (for cron: at most one a UTC day)."""

from django.core.management.base import BaseCommand, CommandError

from vpnregistry.audit.services import make_checkpoint


class Command(BaseCommand):
    help = "Sign the audit log's length and latest hash; idempotent per UTC day unless --force."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="make another checkpoint today")

    def handle(self, *args, **options):
        try:
            result = make_checkpoint(force=options["force"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        cp = result.checkpoint
        verb = "Signed" if result.created else "Already signed today"
        self.stdout.write(f"{verb}: checkpoint of {cp.day}, {cp.count} records, hash {cp.hash[:16]}…")
