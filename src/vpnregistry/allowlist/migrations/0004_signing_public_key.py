"""Public keys of signing keys, kept in the database; those a development keys folder holds are copied."""

import json
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def copy_keys_from_folder(apps, schema_editor):
    from vpnregistry.signing.minisign import SignatureError, parse_secret_key

    SigningPublicKey = apps.get_model("allowlist", "SigningPublicKey")
    folder = Path(settings.ALLOWLIST_KEYS_DIR)
    paths = [folder / "current.json", folder / "next.json"]
    if (folder / "retired").is_dir():
        paths += sorted((folder / "retired").glob("*.json"))
    for path in paths:
        try:
            text = path.read_text()
            public = parse_secret_key(text).public
            created = datetime.fromisoformat(json.loads(text)["created_at"])
        except (OSError, ValueError, KeyError, SignatureError):
            continue
        SigningPublicKey.objects.get_or_create(
            key_id=public.key_id_hex,
            defaults={"public": public.to_minisign(), "first_seen": created or timezone.now()},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("allowlist", "0003_publication_due"),
    ]

    operations = [
        migrations.CreateModel(
            name="SigningPublicKey",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key_id", models.CharField(max_length=16, unique=True)),
                ("public", models.CharField(max_length=64)),
                ("first_seen", models.DateTimeField()),
            ],
            options={"ordering": ["first_seen", "id"]},
        ),
        migrations.RunPython(copy_keys_from_folder, migrations.RunPython.noop),
    ]
