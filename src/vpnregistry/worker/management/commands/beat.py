"""Start the scheduler (Celery beat): the registry's periodic tasks, instead of the cron table."""

from __future__ import annotations

import argparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from vpnregistry.worker.celery import app, broker_url


class Command(BaseCommand):
    help = (
        "Run the scheduler that sends the periodic tasks (CELERY_BEAT_SCHEDULE in settings.py) to the "
        "workers. Run exactly one. Further arguments go to `celery beat`."
    )

    def add_arguments(self, parser):
        parser.add_argument("celery_args", nargs=argparse.REMAINDER, help="passed to `celery beat`")

    def run_from_argv(self, argv):
        # Everything after the command's name is Celery's (argparse would refuse its options).
        if any(a in {"-h", "--help"} for a in argv[2:]):
            return super().run_from_argv(argv)
        self.execute(celery_args=argv[2:], verbosity=1, skip_checks=True, no_color=False, force_color=False)
        return None

    def handle(self, *args, celery_args=(), **options):
        if not broker_url():
            raise CommandError(
                "VPNREGISTRY_BROKER_URL is not set: without a broker, run the management commands "
                "from cron instead (docs/operations.md)"
            )
        argv = ["beat", "--loglevel", "INFO", "--schedule", str(settings.CELERY_BEAT_SCHEDULE_FILENAME)]
        app.start(argv=[*argv, *celery_args])
