"""Notification and OutgoingMail now belong to the notifications app (notifications 0001); their
tables stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0010_redundant_fk_indexes"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="outgoingmail", name="recipient"),
                migrations.DeleteModel(name="Notification"),
                migrations.DeleteModel(name="OutgoingMail"),
            ],
            database_operations=[],
        ),
    ]
