"""Fixtures for statements and complaints: an event in the past (the helpers are in tests/events.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.events import make_event


@pytest.fixture
def past_event(world):
    """A national event that began three days ago and lasted a day."""
    start = (timezone.now() - timedelta(days=3)).replace(microsecond=0)
    return make_event(world, start, start + timedelta(days=1))
