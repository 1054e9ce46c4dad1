"""A registration's organisation and operator lose their single-column indexes: reg_org_id,
reg_org_state and reg_operator_id lead with them, and each index costs every registration written.

Only the indexes go: the foreign keys stay as they are (Django would drop and re-add each
constraint, validating every row again under the table's lock). DROP INDEX holds the lock a moment.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0010_user_language"), ("registrations", "0009_porting_declarations")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "registrations_registration_operator_id_20107f36"',
                    'CREATE INDEX IF NOT EXISTS "registrations_registration_operator_id_20107f36" ON "registrations_registration" ("operator_id")',
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="registration",
                    name="operator",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="registrations",
                        to="accounts.operator",
                    ),
                )
            ],
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "registrations_registration_organisation_id_da1ebd68"',
                    'CREATE INDEX IF NOT EXISTS "registrations_registration_organisation_id_da1ebd68" ON "registrations_registration" ("organisation_id")',
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="registration",
                    name="organisation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="registrations",
                        to="accounts.organisation",
                    ),
                )
            ],
        ),
    ]
