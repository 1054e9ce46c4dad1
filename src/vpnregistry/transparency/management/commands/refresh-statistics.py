"""Recompute the public statistics and store them for the pages: for cron (every 10 minutes)."""

from django.core.management.base import BaseCommand

from vpnregistry.transparency.statistics import refresh_statistics


class Command(BaseCommand):
    help = (
        "Compute the public statistics and store them; /statistics/ and its JSON and CSV show the latest "
        "stored figures and never compute them on a page view."
    )

    def handle(self, *args, **options):
        row = refresh_statistics()
        at = f"{row.generated_at:%Y-%m-%d %H:%M:%S}"
        self.stdout.write(f"statistics of {at} computed in {row.seconds:.1f} s")
