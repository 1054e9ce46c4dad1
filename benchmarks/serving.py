"""The production server for the benchmarks that measure one: gunicorn on 127.0.0.1, production settings.

Shared by `make loadtest` and `make scale`. The preparation runs with debug on (demo-style data may
only be loaded so); the server runs with debug off, as in production, over the same `VPNREGISTRY_VAR`
folder and the same field keys.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from cryptography.fernet import Fernet

BIN = Path(sys.executable).parent
# One secret key for the preparation and the server: sessions made while preparing stay valid.
SECRET_KEY = secrets.token_urlsafe(40)


def signing_key(home: Path) -> str:
    """The allowlist signing key of the registry under `home`, made once."""
    from vpnregistry.signing.minisign import SigningKey, secret_key_text, write_private

    path = home / "signing.key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        write_private(path, secret_key_text(SigningKey.generate()))
    return str(path)


def field_key(home: Path) -> str:
    """The identifier key of the registry under `home`, made once: a registry measured again
    (`make scale --reuse`) must read the identifiers an earlier run wrote."""
    path = home / "field.key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(Fernet.generate_key().decode())
    return path.read_text().strip()


def env(home: Path, database_url: str | None, **extra: str) -> dict:
    """The environment of the preparation (debug on), with nothing of the caller's registry settings."""
    out = {k: v for k, v in os.environ.items() if not k.startswith(("VPNREGISTRY_", "DJANGO_"))}
    out.pop("DATABASE_URL", None)
    if database_url:
        out["DATABASE_URL"] = database_url
    out.update(
        VPNREGISTRY_VAR=str(home),
        VPNREGISTRY_DEBUG="1",
        # The signing key the server (debug off) is given; the preparation signs with it too.
        VPNREGISTRY_SIGNING_KEY_FILE=signing_key(home),
        # The same identifier key for the preparation (debug on) and the server (debug off).
        VPNREGISTRY_FIELD_KEYS=field_key(home),
        VPNREGISTRY_SECRET_KEY=SECRET_KEY,
        VPNREGISTRY_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        DJANGO_SETTINGS_MODULE="vpnregistry.settings",
    )
    out.update(extra)
    return out


def production_env(home: Path, database_url: str | None, **extra: str) -> dict:
    """The environment of a production server on loopback: debug off, plain HTTP (TLS ends at a proxy)."""
    return env(
        home,
        database_url,
        VPNREGISTRY_DEBUG="0",
        VPNREGISTRY_ALLOWED_HOSTS="127.0.0.1",
        VPNREGISTRY_SSL_REDIRECT="0",
        VPNREGISTRY_LOG_LEVEL="ERROR",
        **extra,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(
    home: Path,
    database_url: str | None,
    port: int,
    workers: int,
    threads: int,
    *,
    extra_env: dict | None = None,
    timeout: int = 60,
) -> subprocess.Popen:
    """gunicorn serving the registry on 127.0.0.1:`port`, once it accepts connections."""
    # As deployed: pages name the static files collected under hashed names (WhiteNoise serves them).
    subprocess.run(
        [BIN / "vpnregistry", "collectstatic", "--noinput", "-v", "0"],
        env=production_env(home, database_url, **(extra_env or {})), cwd=home, check=True,
    )  # fmt: skip
    process = subprocess.Popen(
        [
            BIN / "gunicorn", "vpnregistry.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--threads", str(threads), "--timeout", str(timeout),
            "--log-level", "warning", "--backlog", "2048", "--preload",
        ],
        env=production_env(home, database_url, **(extra_env or {})), cwd=home,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited before it served")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start in 60 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
