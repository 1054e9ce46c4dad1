"""Web security: the CSP and friends on every page, nothing inline, a clean deploy check, Argon2."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.hashers import make_password

from vpnregistry.signing.minisign import make_key_main

TEMPLATES = Path(__file__).resolve().parent.parent / "src" / "vpnregistry"


@pytest.mark.parametrize("path", ["/login/", "/events/", "/statistics/", "/healthz"])
def test_pages_carry_a_strict_policy(client, db, path):
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in directives["script-src"]
    assert "unsafe-inline" not in directives["style-src"]
    assert directives["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_no_template_has_inline_script_or_style():
    offenders = []
    for template in TEMPLATES.rglob("templates/**/*.html"):
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)", text) or re.search(r"<style\b|\sstyle=\"", text):
            offenders.append(str(template.relative_to(TEMPLATES)))
    assert not offenders, offenders


def test_api_docs_load_their_script_from_a_file(client, db):
    response = client.get("/api/v1/docs/")
    assert "unsafe-inline" not in response["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    html = response.content.decode()
    assert not re.search(r"<script>(?!\s*</script>)", html), "inline script in the API docs"
    assert "?script" in html


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    assert make_key_main([str(tmp_path / "signing.key")]) == 0
    env = {
        **os.environ,
        "VPNREGISTRY_DEBUG": "0",
        "VPNREGISTRY_SECRET_KEY": secrets.token_urlsafe(50),
        "VPNREGISTRY_FIELD_KEYS": Fernet.generate_key().decode(),
        "VPNREGISTRY_ALLOWED_HOSTS": "registry.example",
        "VPNREGISTRY_SIGNING_KEY_FILE": str(tmp_path / "signing.key"),
        "VPNREGISTRY_VAR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "vpnregistry.settings",
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "-m", "vpnregistry.cli", "django-check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {
        **os.environ,
        "VPNREGISTRY_DEBUG": "0",
        "VPNREGISTRY_VAR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "vpnregistry.settings",
    }
    env.pop("VPNREGISTRY_SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "vpnregistry.cli", "django-check"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "VPNREGISTRY_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("keys", [None, "not-a-key", ""])
def test_production_refuses_to_start_without_valid_field_keys(tmp_path, keys):
    env = {
        **os.environ,
        "VPNREGISTRY_DEBUG": "0",
        "VPNREGISTRY_SECRET_KEY": secrets.token_urlsafe(50),
        "VPNREGISTRY_VAR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "vpnregistry.settings",
    }
    env.pop("VPNREGISTRY_FIELD_KEYS", None)
    if keys is not None:
        env["VPNREGISTRY_FIELD_KEYS"] = f"{Fernet.generate_key().decode()},{keys}" if keys else keys
    result = subprocess.run(
        [sys.executable, "-m", "vpnregistry.cli", "django-check"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "VPNREGISTRY_FIELD_KEYS" in result.stderr
    if keys:
        assert "key 2 is not a Fernet key" in result.stderr and keys not in result.stderr
    assert not (tmp_path / "keys" / "field.key").exists()


def test_passwords_are_hashed_with_argon2(settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    assert make_password("correct-horse-battery-staple").startswith("argon2")


# --- found by the hostile review (issue 18) --------------------------------------------------------


def test_answers_to_a_signed_in_caller_are_never_stored(client, world):
    # They may carry a CNIC, an NTN or a subscriber ID; none said no-store.
    from tests.auth import login
    from tests.workflow import draft

    application = draft(world, "14.1.104.0/24")
    api = world.client(world.applicant)
    for url in ["/api/v1/me/", f"/api/v1/applications/{application.pk}/", "/api/v1/organisation/members/"]:
        response = api.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "no-store", url
    login(client, world.applicant)
    for url in [f"/applications/{application.pk}/", "/organisation/members/", "/documents/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url


def test_public_answers_stay_cacheable_as_they_were(client, world):
    assert "Cache-Control" not in client.get("/events/")
    assert "Cache-Control" not in world.client(None).get("/api/v1/districts/")


def test_api_404s_are_json_with_debug_on_too(client, db, settings):
    settings.DEBUG = True
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/static/../..", "/static/../../settings.py", "/static/a/../../../x"])
def test_a_static_path_leaving_the_static_folders_is_a_404_not_a_500(db, path):
    # What runserver serves /static/ with (make run, debug on): `..%2f..` reached safe_join, which
    # raised SuspiciousFileOperation past the handler.
    import io

    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.wsgi import get_wsgi_application

    handler = StaticFilesHandler(get_wsgi_application())
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    statuses = []
    b"".join(handler(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert statuses[0].startswith("404"), statuses
