"""Seed the real regime's categories, agencies, document types and each category's requirements."""

from django.db import migrations


def seed(apps, schema_editor):
    from vpnregistry.accounts.reference import seed as seed_reference

    seed_reference(apps)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_onboarding")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
