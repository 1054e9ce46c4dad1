"""Start a Celery worker for the registry's tasks (needs VPNREGISTRY_BROKER_URL)."""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand, CommandError

from vpnregistry.worker.celery import app, broker_url


class Command(BaseCommand):
    help = (
        "Run a worker: publication, the sweep, escalation, checkpoints, log verification, document "
        "purging and statistics. Any further arguments go to `celery worker` (e.g. --concurrency 2)."
    )

    def add_arguments(self, parser):
        parser.add_argument("celery_args", nargs=argparse.REMAINDER, help="passed to `celery worker`")

    def run_from_argv(self, argv):
        # Everything after the command's name is Celery's (argparse would refuse its options).
        if any(a in {"-h", "--help"} for a in argv[2:]):
            return super().run_from_argv(argv)
        self.execute(celery_args=argv[2:], verbosity=1, skip_checks=True, no_color=False, force_color=False)
        return None

    def handle(self, *args, celery_args=(), **options):
        if not broker_url():
            raise CommandError(
                "VPNREGISTRY_BROKER_URL is not set: without a broker every task runs in the process "
                "that asks for it, and no worker is needed"
            )
        argv = ["worker", "--loglevel", "INFO", *celery_args]
        app.worker_main(argv=argv)
