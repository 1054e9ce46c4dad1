"""Notifications and outgoing mail move here from the applications app: the same tables (the models
keep `db_table`), so this migration changes Django's picture only."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import vpnregistry.fieldcrypt


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("applications", "0010_redundant_fk_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("subject", models.CharField(max_length=200)),
                        ("body", models.TextField(blank=True)),
                        ("link", models.CharField(blank=True, max_length=300)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("read_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "recipient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "applications_notification",
                        "ordering": ["-id"],
                        "indexes": [
                            models.Index(fields=["recipient", "-id"], name="notification_recipient"),
                            models.Index(
                                condition=models.Q(("read_at__isnull", True)),
                                fields=["recipient"],
                                name="notification_unread",
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="OutgoingMail",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("to", models.CharField(max_length=254)),
                        ("subject", models.CharField(max_length=255)),
                        ("body", vpnregistry.fieldcrypt.EncryptedTextField(blank=True)),
                        (
                            "state",
                            models.CharField(
                                choices=[("pending", "Pending"), ("sent", "Sent"), ("failed", "Failed")],
                                default="pending",
                                max_length=8,
                            ),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("next_attempt_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("last_error", models.CharField(blank=True, max_length=300)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "recipient",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "applications_outgoingmail",
                        "ordering": ["-id"],
                        "indexes": [models.Index(fields=["state", "next_attempt_at"], name="mail_state_due")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
