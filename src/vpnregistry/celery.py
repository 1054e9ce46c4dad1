"""The Celery app, configured from Django's settings (`CELERY_*`, see settings.py).

With a broker (`VPNREGISTRY_BROKER_URL`, RabbitMQ `amqp://...` or Redis `redis://...`) a task asked
for is sent to it and a worker (`vpnregistry worker`) runs it. With none, the embedded default, a
task asked for runs here and now, in this process: callers ask once their transaction has
committed, so nothing new is needed to run the registry, and the durable records the tasks work
from (such as the wish to publish) still cover a crash.
"""

from __future__ import annotations

import logging
from importlib import import_module

from celery import Celery
from django.conf import settings

logger = logging.getLogger(__name__)

TASKS_MODULE = "vpnregistry.worker.tasks"

app = Celery("vpnregistry", include=[TASKS_MODULE])
app.config_from_object("django.conf:settings", namespace="CELERY")


def broker_url() -> str:
    return settings.CELERY_BROKER_URL or ""


def dispatch(name: str, *, countdown: float | None = None, args: list | tuple = ()) -> None:
    """Ask for the task `name`: sent to the broker, or, with none, run in this process.

    Never raises: a task asked for after a commit must not turn a committed change into an error.
    What the task would have done is found again by its next run (every task is idempotent and
    works from durable records), so a failure here is logged and left to that run.
    """
    if url := broker_url():
        try:
            if url == app.conf.broker_url:
                app.send_task(name, args=args, countdown=countdown, queue=settings.CELERY_TASK_DEFAULT_QUEUE)
            else:  # the settings changed after the app read them (tests): no pooled connection
                with app.connection_for_write(url) as connection:
                    app.send_task(
                        name,
                        args=args,
                        countdown=countdown,
                        queue=settings.CELERY_TASK_DEFAULT_QUEUE,
                        connection=connection,
                    )
        except Exception:
            logger.exception("could not send the task %s to the broker; its next scheduled run does it", name)
        return
    if countdown:
        # No broker to hold it: the next run (cron's, or the next change's) picks it up.
        logger.info("task %s deferred by %.0f s: left for the next run", name, countdown)
        return
    # Imported by name (not through the loader, whose Django fix-up would set Django up again and
    # run every system check in this process).
    import_module(TASKS_MODULE)
    result = app.tasks[name].apply(args=args)
    if result.failed():
        logger.error("task %s failed in-process: %r\n%s", name, result.result, result.traceback)
