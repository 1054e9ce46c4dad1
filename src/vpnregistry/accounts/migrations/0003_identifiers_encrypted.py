"""Identifiers encrypted at rest: widen the columns, add blind indexes, encrypt what is there."""

from django.db import migrations, models

import vpnregistry.fieldcrypt
import vpnregistry.identifiers

FIELDS = ("ntn", "secp_number", "pseb_number", "cnic")
INDEXED = ("ntn", "cnic")


def _canonical(field, value):
    from vpnregistry.identifiers import IdentifierError, normalise

    value = (value or "").strip()
    try:
        return normalise(field, value)
    except IdentifierError:
        return value  # kept as it was (now encrypted); the next edit must correct it


def encrypt_existing(apps, schema_editor):
    from vpnregistry import fieldcrypt

    Organisation = apps.get_model("accounts", "Organisation")
    # Here the columns are still plain text: read, normalise, encrypt, index.
    for org in (
        Organisation.objects.using(schema_editor.connection.alias).order_by("pk").iterator(chunk_size=500)
    ):
        changes = {}
        for field in FIELDS:
            value = _canonical(field, getattr(org, field))
            changes[field] = fieldcrypt.encrypt(value) if value else ""
            if field in INDEXED:
                changes[f"{field}_index"] = fieldcrypt.blind_index(field, value) if value else None
        Organisation.objects.using(schema_editor.connection.alias).filter(pk=org.pk).update(**changes)


def decrypt_existing(apps, schema_editor):
    from vpnregistry import fieldcrypt

    Organisation = apps.get_model("accounts", "Organisation")
    rows = Organisation.objects.using(schema_editor.connection.alias).order_by("pk")
    for pk, *tokens in rows.values_list("pk", *FIELDS).iterator(chunk_size=500):
        plain = {f: (fieldcrypt.decrypt(t) if t else "") for f, t in zip(FIELDS, tokens, strict=True)}
        Organisation.objects.using(schema_editor.connection.alias).filter(pk=pk).update(**plain)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_province_district"),
    ]

    operations = [
        # 1. Plain text columns wide enough for a token.
        *[
            migrations.AlterField(model_name="organisation", name=field, field=models.TextField(blank=True))
            for field in FIELDS
        ],
        # 2. The blind indexes.
        migrations.AddField(
            model_name="organisation",
            name="cnic_index",
            field=models.CharField(max_length=64, null=True, blank=True, editable=False, db_index=True),
        ),
        migrations.AddField(
            model_name="organisation",
            name="ntn_index",
            field=models.CharField(max_length=64, null=True, blank=True, editable=False),
        ),
        # 3. Encrypt what is there (and back, when migrating backwards).
        migrations.RunPython(encrypt_existing, decrypt_existing),
        # 4. From now on the model reads and writes tokens.
        migrations.AlterField(
            model_name="organisation",
            name="cnic_index",
            field=vpnregistry.fieldcrypt.BlindIndexField(db_index=True, source="cnic"),
        ),
        migrations.AlterField(
            model_name="organisation",
            name="ntn_index",
            field=vpnregistry.fieldcrypt.BlindIndexField(source="ntn"),
        ),
        migrations.AlterField(
            model_name="organisation",
            name="cnic",
            field=vpnregistry.fieldcrypt.EncryptedTextField(
                blank=True,
                validators=[vpnregistry.identifiers.validate_cnic],
                verbose_name="CNIC of the responsible person",
            ),
        ),
        migrations.AlterField(
            model_name="organisation",
            name="ntn",
            field=vpnregistry.fieldcrypt.EncryptedTextField(
                blank=True, validators=[vpnregistry.identifiers.validate_ntn], verbose_name="NTN"
            ),
        ),
        migrations.AlterField(
            model_name="organisation",
            name="pseb_number",
            field=vpnregistry.fieldcrypt.EncryptedTextField(
                blank=True,
                validators=[vpnregistry.identifiers.validate_reference],
                verbose_name="PSEB number",
            ),
        ),
        migrations.AlterField(
            model_name="organisation",
            name="secp_number",
            field=vpnregistry.fieldcrypt.EncryptedTextField(
                blank=True,
                validators=[vpnregistry.identifiers.validate_reference],
                verbose_name="SECP number",
            ),
        ),
        migrations.AddConstraint(
            model_name="organisation",
            constraint=models.UniqueConstraint(fields=("ntn_index",), name="organisation_unique_ntn"),
        ),
    ]
