"""API tokens kept as a SHA-256 digest (accounts.ApiToken) instead of in clear (DRF's authtoken table).

Every existing token is carried over as its digest, with its creation time (so it expires when it
did) and its first characters as the prefix, and removed from the clear table: the tokens in use keep
working, and the database no longer holds them. Going back is not possible (the tokens are not
kept): the reverse only removes the digests.
"""

import hashlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def hash_tokens(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in Token.objects.all().iterator():
        ApiToken.objects.create(
            user_id=token.user_id,
            prefix=token.key.removeprefix("vr_")[:8],
            digest=hashlib.sha256(token.key.encode()).hexdigest(),
            created=token.created,
        )
    Token.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_number_blocks"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("prefix", models.CharField(max_length=12)),
                ("digest", models.CharField(max_length=64, unique=True)),
                ("created", models.DateTimeField()),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_token",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created"],
            },
        ),
        migrations.RunPython(hash_tokens, migrations.RunPython.noop),
    ]
