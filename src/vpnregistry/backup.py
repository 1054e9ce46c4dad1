"""Backup and restore of the whole registry: the database and the files beside it.

One tar.gz holds the database (SQLite's online backup, or PostgreSQL's pg_dump in its custom
format), the signing keys, and the files of the storages (vpnregistry/storage.py): the published
allowlist files, organisations' documents and complaint evidence. From a folder storage, the whole
folder (every serial); from an object store, the objects the database refers to (the current
serial's files, every document on file, all evidence), read after the database was dumped. Jobs'
files (kept a day) are left out. Restore puts the files back into whatever storage is configured
then, so a registry moves between a folder and an object store by backup and restore. The archive
holds secrets (the keys), so it is written readable by its owner only.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import connection

from vpnregistry import storage
from vpnregistry.accounts.models import Document
from vpnregistry.allowlist.models import Snapshot
from vpnregistry.allowlist.services import file_name
from vpnregistry.restrictions.models import Complaint

# Each storage's files go under this folder of the archive ("complaints": as backups always named it).
ARCHIVED = {storage.ALLOWLIST: "allowlist", storage.DOCUMENTS: "documents", storage.EVIDENCE: "complaints"}
KEYS = "keys"

logger = logging.getLogger(__name__)


class BackupError(Exception):
    pass


def _unfinished(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    """Leave out what a writer is still writing (`.name.tmp-pid`, `.upload-...`)."""
    base = info.name.rsplit("/", 1)[-1]
    return None if base.startswith(".") and (".tmp-" in base or base.startswith(".upload-")) else info


def referenced(kind: str) -> list[str]:
    """The names in storage `kind` that the database refers to (what an object store's backup holds)."""
    if kind == storage.ALLOWLIST:
        latest = Snapshot.objects.order_by("-serial").only("session", "serial", "files").first()
        if latest is None:
            return []
        return [file_name(latest, name + end) for name in sorted(latest.files) for end in ("", ".minisig")]
    if kind == storage.DOCUMENTS:
        return list(Document.objects.exclude(file="").order_by("pk").values_list("file", flat=True))
    if kind == storage.EVIDENCE:
        return list(
            Complaint.objects.exclude(evidence_file="").order_by("pk").values_list("evidence_file", flat=True)
        )
    raise ValueError(kind)


def _archive_storage(tar: tarfile.TarFile, kind: str) -> None:
    files = storage.get(kind)
    arcname = ARCHIVED[kind]
    if storage.is_local(files):
        folder = Path(files.location)
        if folder.exists():
            tar.add(folder, arcname=arcname, filter=_unfinished)
        return
    now = time.time()
    for name in referenced(kind):
        try:
            stream = storage.open_stream(files, name)
        except FileNotFoundError:
            # Removed after the dump (a document purged meanwhile): the restored database still
            # names it, its download answers 404 like any missing file, and the next purge clears it.
            logger.warning("backup: %s/%s is named in the database but no longer stored", kind, name)
            continue
        with stream:
            info = tarfile.TarInfo(f"{arcname}/{name}")
            info.size, info.mode, info.mtime = stream.size, 0o600, now
            tar.addfile(info, stream)


def _restore_storage(saved: Path, kind: str) -> None:
    """Put the files of `saved` into storage `kind` under the names they had."""
    files = storage.get(kind)
    if storage.is_local(files):
        folder = Path(files.location)
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(saved, folder)
        return
    for path in sorted(p for p in saved.rglob("*") if p.is_file()):
        name = path.relative_to(saved).as_posix()
        with open(path, "rb") as fh:
            kept = files.save(name, File(fh, name))
        if kept != name:
            raise BackupError(f"the {kind} storage kept {name} as {kept}")


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
            keys = Path(settings.ALLOWLIST_KEYS_DIR)
            if keys.exists():
                tar.add(keys, arcname=KEYS)
            for kind in ARCHIVED:
                _archive_storage(tar, kind)
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
        saved = work / KEYS
        if saved.exists():
            keys = Path(settings.ALLOWLIST_KEYS_DIR)
            if keys.exists():
                shutil.rmtree(keys)
            shutil.copytree(saved, keys)
        for kind, arcname in ARCHIVED.items():
            if (work / arcname).exists():
                _restore_storage(work / arcname, kind)
