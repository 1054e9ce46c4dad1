"""Fill `state_changed_at` from the audit log (one UPDATE, done in the database) and seed step targets."""

from django.db import migrations
from django.db.models import CharField, F, OuterRef, Q, Subquery
from django.db.models.functions import Cast, Coalesce

# Days the regulator allows per step to begin with; officers change them on the turnaround page.
TARGETS = {"agency": 5, "operator": 3, "decision": 3, "payment": 10, "appeal": 15}


def fill(apps, schema_editor):
    Application = apps.get_model("applications", "Application")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    entered = (
        AuditEvent.objects.filter(
            object_type="application",
            object_id=Cast(OuterRef("pk"), CharField()),
            to_state=OuterRef("state"),
        )
        .filter(~Q(from_state=F("to_state")))
        .order_by("-seq")
        .values("at")[:1]
    )
    Application.objects.update(state_changed_at=Coalesce(Subquery(entered), "submitted_at", "created_at"))
    StepTarget = apps.get_model("applications", "StepTarget")
    for step, days in TARGETS.items():
        StepTarget.objects.get_or_create(step=step, defaults={"days": days})


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0005_queues_notifications"),
        ("audit", "0002_checkpoints"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
