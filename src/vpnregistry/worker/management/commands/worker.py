"""Start a Celery worker for the registry's tasks (needs VPNREGISTRY_BROKER_URL)."""

from __future__ import annotations

from vpnregistry.celery import app
from vpnregistry.worker.management.commands._celery import CeleryCommand


class Command(CeleryCommand):
    help = (
        "Run a worker: publication, the sweep, escalation, checkpoints, log verification, document "
        "purging and statistics. Any further arguments go to `celery worker` (e.g. --concurrency 2)."
    )
    program = "worker"
    without_broker = (
        "without a broker every task runs in the process that asks for it, and no worker is needed"
    )

    def start(self, argv: list[str]) -> None:
        app.worker_main(argv=argv)
