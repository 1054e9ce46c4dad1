"""Escalate work waiting past the regulator's target for its step: for cron, idempotent."""

from django.core.management.base import BaseCommand

from vpnregistry.applications.queues import escalate


class Command(BaseCommand):
    help = (
        "Escalate applications waiting longer than their step's target: once per entry into the step, "
        "with an audit event, and one message to each reviewer, operator or officer concerned."
    )

    def handle(self, *args, **options):
        report = escalate()
        steps = ", ".join(f"{step} {n}" for step, n in report.escalated.items()) or "no step has a target"
        self.stdout.write(f"escalated: {steps}; {report.recipients} recipients notified")
