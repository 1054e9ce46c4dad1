"""vpnregistry rotate-field-keys: re-encrypt every encrypted column with the first field key."""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand, CommandError

from vpnregistry import fieldcrypt
from vpnregistry.audit.services import record


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value (organisations' identifiers) with the first key of "
        "VPNREGISTRY_FIELD_KEYS and recompute the blind indexes, in batches, each in a transaction. "
        "Then --check must report 0 before the old key is removed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500, help="rows per transaction (500)")
        parser.add_argument(
            "--check", action="store_true", help="only count the rows not yet under the first key"
        )
        parser.add_argument(
            "--new-key", action="store_true", help="print a new key to put first in VPNREGISTRY_FIELD_KEYS"
        )

    def handle(self, *args, batch: int, check: bool, new_key: bool, **options):
        if new_key:
            self.stdout.write(Fernet.generate_key().decode())
            return
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        try:
            if check:
                stale = fieldcrypt.count_stale(batch)
                for label, count in stale.items():
                    self.stdout.write(f"{label}: {count} row(s) not under the first key")
                if any(stale.values()):
                    raise CommandError("some rows are still under an older key: run rotate-field-keys")
                return
            done = fieldcrypt.rotate(batch=batch)
        except fieldcrypt.FieldKeyError as exc:
            raise CommandError(str(exc)) from None
        record(
            actor=None, action="field_keys.rotate", object_type="registry", object_id="field-keys", data=done
        )
        for label, count in done.items():
            self.stdout.write(f"{label}: {count} row(s) re-encrypted under the first key")
