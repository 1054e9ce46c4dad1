"""Send the notification emails that are due (those waiting for a retry included): for cron."""

from django.core.management.base import BaseCommand

from vpnregistry.notifications.mail import deliver_due


class Command(BaseCommand):
    help = (
        "Send the emails that are due. Without a broker, run it from cron every minute: an email whose "
        "first try failed (the mail server down) waits for it. Idempotent."
    )

    def handle(self, *args, **options):
        total = {"sent": 0, "retried": 0, "failed": 0}
        while True:
            delivery = deliver_due()
            total = {k: total[k] + getattr(delivery, k) for k in total}
            if not (delivery.sent or delivery.retried or delivery.failed):
                break
            if delivery.retried or delivery.failed:
                break  # the server refuses: the rest wait for their next try
        self.stdout.write(
            f"sent {total['sent']}, to retry {total['retried']}, given up {total['failed']}"
            + (f"; next due {delivery.next_due:%Y-%m-%d %H:%M:%S}" if delivery.next_due else "")
        )
