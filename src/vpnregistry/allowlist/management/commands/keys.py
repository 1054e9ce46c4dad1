"""The signing keys: show them, or (development) rotate in two steps: announce the next key, switch to it.

In production the keys are given (VPNREGISTRY_SIGNING_KEY_FILE, VPNREGISTRY_SIGNING_NEXT_KEY_FILE) and
rotation is a deploy; `keys show` lists them and the retired keys the database keeps.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from vpnregistry.allowlist.services import write_index
from vpnregistry.signing import keys
from vpnregistry.signing.models import SigningPublicKey


class Command(BaseCommand):
    help = (
        "Show the allowlist signing keys, or rotate them (development: `keys rotate` announces, a later "
        "call switches; production rotates by deploying the key files)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["show", "rotate"])
        parser.add_argument(
            "--force",
            action="store_true",
            help="switch to the announced key before it has been announced long enough",
        )

    def handle(self, *args, action, force=False, **options):
        if action == "show":
            current = keys.current_key().public
            self.stdout.write(f"current  {current.key_id_hex}  {current.to_minisign()}")
            announced = keys.next_key()
            if announced:
                self.stdout.write(
                    f"next     {announced.key.public.key_id_hex}  {announced.key.public.to_minisign()}"
                    f"  (announced {announced.created_at:%Y-%m-%d %H:%M} UTC)"
                )
            shown = {current.key_id_hex} | ({announced.key.public.key_id_hex} if announced else set())
            for row in SigningPublicKey.objects.exclude(key_id__in=shown):
                seen = f"{row.first_seen:%Y-%m-%d}"
                self.stdout.write(f"retired  {row.key_id}  {row.public}  (first seen {seen})")
            return
        try:
            rotation = keys.rotate(
                min_announce=timedelta(seconds=settings.ALLOWLIST_KEY_ANNOUNCE_SECONDS), force=force
            )
        except keys.KeysGiven as exc:
            raise CommandError(str(exc)) from None
        if rotation.step == "waiting":
            raise CommandError(f"key {rotation.key_id}: {rotation.detail}")
        with transaction.atomic():
            write_index()
        self.stdout.write(f"{rotation.step} key {rotation.key_id}: {rotation.detail}.")
