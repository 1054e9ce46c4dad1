"""Delete the documents of organisations whose last registration ended long enough ago: for cron."""

from django.conf import settings
from django.core.management.base import BaseCommand

from vpnregistry.applications.documents import purge_documents


class Command(BaseCommand):
    help = (
        "Delete the files of organisations' documents VPNREGISTRY_DOCUMENT_RETENTION_DAYS after their last "
        "registration ended (rows stay, marked deleted; each deletion is audited). Idempotent."
    )

    def handle(self, *args, **options):
        deleted = purge_documents()
        self.stdout.write(f"deleted {deleted} documents (retention {settings.DOCUMENT_RETENTION_DAYS} days)")
