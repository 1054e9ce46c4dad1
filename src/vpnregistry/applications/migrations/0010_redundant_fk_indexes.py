"""A resource's application and operator lose their single-column indexes: resource_app_operator and
resource_operator_state lead with them, and each index costs every resource written.

Only the indexes go: the foreign keys stay as they are (Django would drop and re-add each
constraint, validating every row again under the table's lock). DROP INDEX holds the lock a moment.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0010_user_language"), ("applications", "0009_rejection_reason_urdu_name")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "applications_resource_application_id_eaf4e7ad"',
                    'CREATE INDEX IF NOT EXISTS "applications_resource_application_id_eaf4e7ad" ON "applications_resource" ("application_id")',
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="resource",
                    name="application",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="resources",
                        to="applications.application",
                    ),
                )
            ],
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "applications_resource_operator_id_880b06ee"',
                    'CREATE INDEX IF NOT EXISTS "applications_resource_operator_id_880b06ee" ON "applications_resource" ("operator_id")',
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="resource",
                    name="operator",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="resources",
                        to="accounts.operator",
                    ),
                )
            ],
        ),
    ]
