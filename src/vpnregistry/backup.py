"""Backup and restore of the whole registry: the database and the files beside it.

One tar.gz holds the database (SQLite's online backup, or PostgreSQL's pg_dump in its custom
format), the published allowlist files, the signing keys and complaint evidence. It holds secrets
(the keys), so it is written readable by its owner only.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connection

FOLDERS = {"allowlist": "ALLOWLIST_DIR", "keys": "ALLOWLIST_KEYS_DIR"}


class BackupError(Exception):
    pass


def _folders() -> dict[str, Path]:
    folders = {name: Path(getattr(settings, key)) for name, key in FOLDERS.items()}
    folders["complaints"] = Path(settings.VAR_DIR) / "complaints"
    return folders


def _pg_env() -> tuple[list[str], dict]:
    db = connection.settings_dict
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    args = [
        "--host",
        db.get("HOST") or "localhost",
        "--port",
        str(db.get("PORT") or 5432),
        "--username",
        db.get("USER") or "postgres",
        "--dbname",
        db["NAME"],
    ]
    return args, env


def backup(target: Path) -> Path:
    """Write the registry into `target` (a .tar.gz), atomically."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            dest = sqlite3.connect(work / "database.sqlite3")
            with dest:
                connection.connection.backup(dest)  # consistent, while the registry keeps running
            dest.close()
        elif connection.vendor == "postgresql":
            args, env = _pg_env()
            result = subprocess.run(
                ["pg_dump", "--format=custom", "--no-owner", "--file", str(work / "database.pgdump"), *args],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode:
                raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        else:
            raise BackupError(f"no backup for the {connection.vendor} database")
        partial = target.with_name(f".{target.name}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for item in sorted(work.iterdir()):
                tar.add(item, arcname=item.name)
            for name, folder in _folders().items():
                if folder.exists():
                    tar.add(folder, arcname=name)
        os.replace(partial, target)
    return target


def restore(source: Path) -> None:
    """Replace the registry's database and files with those in `source`."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with tarfile.open(source, "r:gz") as tar:
            tar.extractall(work, filter="data")
        if connection.vendor == "sqlite":
            dump = work / "database.sqlite3"
            if not dump.exists():
                raise BackupError("this backup holds no SQLite database")
            src = sqlite3.connect(dump)
            connection.ensure_connection()
            with src:
                src.backup(connection.connection)
            src.close()
        elif connection.vendor == "postgresql":
            dump = work / "database.pgdump"
            if not dump.exists():
                raise BackupError("this backup holds no PostgreSQL dump")
            connection.close()
            args, env = _pg_env()
            result = subprocess.run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    *args,
                    str(dump),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode:
                raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
        else:
            raise BackupError(f"no restore for the {connection.vendor} database")
        for name, folder in _folders().items():
            saved = work / name
            if saved.exists():
                if folder.exists():
                    shutil.rmtree(folder)
                shutil.copytree(saved, folder)
