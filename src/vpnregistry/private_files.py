"""The registry's own files are its user's alone: `var/` is 0700, the SQLite database and its -wal
and -shm files 0600. Nothing here imports Django, so that settings can use it.

The database holds identifiers, token digests, audit records: no other local user may read it,
whatever the umask of whoever started the server.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def private_dir(path: Path, *, tighten: bool = False) -> Path:
    """Create `path` (with its parents) as a directory only its owner may enter; an existing one is
    left as it is unless `tighten` (the registry's own var/)."""
    path = Path(path)
    created = not path.exists()
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if created or tighten:
        # mkdir's mode passes through the umask; say it outright.
        os.chmod(path, DIR_MODE)
    return path


def private_sqlite_files(name: str | os.PathLike) -> None:
    """Make the SQLite database `name` and its companion files readable by their owner alone.

    SQLite creates the -wal and -shm files with the database's own mode, so once the database is
    0600 they are too; those already there from before are tightened here as well.
    """
    for suffix in SQLITE_SUFFIXES:
        path = f"{os.fspath(name)}{suffix}"
        try:
            mode = os.stat(path).st_mode
        except OSError:
            continue
        if mode & 0o077:
            # Another user's file (a copy being restored) cannot be changed: nothing to do then.
            with contextlib.suppress(OSError):
                os.chmod(path, FILE_MODE)


_done: set[str] = set()


def on_connection_created(sender, connection, **kwargs) -> None:
    """Signal receiver: the first connection of a process to a SQLite file makes its files private."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:") or name in _done:
        return
    private_sqlite_files(name)
    _done.add(name)
