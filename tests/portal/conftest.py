"""Fixtures of the portal's tests."""

from __future__ import annotations

import pytest

from tests.auth import login as sign_in


@pytest.fixture
def login(client):
    """`login(user)`: the test client signed in as `user`, staff with their second factor, as a person
    signs in (a module may have a `login` of its own)."""

    def _login(user):
        return sign_in(client, user)

    return _login
