"""What `vpnregistry worker` and `vpnregistry beat` share: Celery's own arguments passed through."""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand, CommandError

from vpnregistry.celery import app, broker_url


class CeleryCommand(BaseCommand):
    """Runs `celery <program> ...` on the registry's app; needs a broker."""

    program = ""  # "worker" or "beat"
    without_broker = ""  # why the command is not needed without a broker

    def add_arguments(self, parser):
        help = f"passed to `celery {self.program}`"
        parser.add_argument("celery_args", nargs=argparse.REMAINDER, help=help)

    def run_from_argv(self, argv):
        # Everything after the command's name is Celery's (argparse would refuse its options).
        if any(a in {"-h", "--help"} for a in argv[2:]):
            return super().run_from_argv(argv)
        self.execute(celery_args=argv[2:], verbosity=1, skip_checks=True, no_color=False, force_color=False)
        return None

    def celery_argv(self) -> list[str]:
        return [self.program, "--loglevel", "INFO"]

    def handle(self, *args, celery_args=(), **options):
        if not broker_url():
            raise CommandError(f"VPNREGISTRY_BROKER_URL is not set: {self.without_broker}")
        self.start([*self.celery_argv(), *celery_args])

    def start(self, argv: list[str]) -> None:
        app.start(argv=argv)
