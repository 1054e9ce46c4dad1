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
    env = {
        **os.environ,
        "VPNREGISTRY_DEBUG": "0",
        "VPNREGISTRY_SECRET_KEY": secrets.token_urlsafe(50),
        "VPNREGISTRY_FIELD_KEYS": Fernet.generate_key().decode(),
        "VPNREGISTRY_ALLOWED_HOSTS": "registry.example",
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
