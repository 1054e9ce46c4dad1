"""Repeated failed logins lock that username at that address for a while; others are unaffected."""

from __future__ import annotations

from django.test import Client

from tests.factories import PASSWORD


def attempt(client, username, password, address="192.0.2.10"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_failures_lock_the_login_then_even_the_right_password_is_refused(world):
    client = Client()
    for _ in range(4):
        assert attempt(client, "applicant", "wrong").status_code == 200  # the form again, with an error
    assert attempt(client, "applicant", "wrong").status_code == 429  # the fifth failure locks
    locked = attempt(client, "applicant", PASSWORD)
    assert locked.status_code == 429 and "Too many failed attempts" in locked.content.decode()
    # The same person from another address, and another user from the same one, still get in.
    assert attempt(Client(), "applicant", PASSWORD, address="192.0.2.99").status_code == 302
    assert attempt(Client(), "reviewer", PASSWORD).status_code == 302


def test_a_success_resets_the_count(world):
    client = Client()
    for _ in range(4):
        attempt(client, "applicant", "wrong")
    assert attempt(client, "applicant", PASSWORD).status_code == 302
    for _ in range(4):
        attempt(Client(), "applicant", "wrong")
    assert attempt(Client(), "applicant", PASSWORD).status_code == 302
