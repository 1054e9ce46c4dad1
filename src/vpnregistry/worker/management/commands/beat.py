"""Start the scheduler (Celery beat): the registry's periodic tasks, instead of the cron table."""

from __future__ import annotations

from django.conf import settings

from vpnregistry.worker.management.commands._celery import CeleryCommand


class Command(CeleryCommand):
    help = (
        "Run the scheduler that sends the periodic tasks (CELERY_BEAT_SCHEDULE in settings.py) to the "
        "workers. Run exactly one. Further arguments go to `celery beat`."
    )
    program = "beat"
    without_broker = "without a broker, run the management commands from cron instead (docs/operations.md)"

    def celery_argv(self) -> list[str]:
        return [*super().celery_argv(), "--schedule", str(settings.CELERY_BEAT_SCHEDULE_FILENAME)]
