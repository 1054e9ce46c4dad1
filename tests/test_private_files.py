"""The registry's files are its user's alone: var/ 0700, the SQLite database and its -wal/-shm 0600,
whatever the umask of whoever starts it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from vpnregistry.private_files import private_dir

SRC = Path(__file__).resolve().parents[1] / "src"

SCRIPT = """
import json
import os
os.umask(0o022)
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE t (x integer)")
    cursor.execute("INSERT INTO t VALUES (1)")
# Read while the connection is open: the last connection to close removes -wal and -shm.
name = connection.settings_dict["NAME"]
modes = {}
for suffix in ("", "-wal", "-shm"):
    if os.path.exists(f"{name}{suffix}"):
        modes[suffix] = os.stat(f"{name}{suffix}").st_mode & 0o777
print(json.dumps({"name": str(name), "modes": modes}))
"""


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_var_and_the_sqlite_files_are_private_under_a_loose_umask(tmp_path):
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        VPNREGISTRY_VAR=str(var),
        DJANGO_SETTINGS_MODULE="vpnregistry.settings",
        PYTHONPATH=str(SRC),
    )
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert Path(seen["name"]).parent == var
    assert _mode(var) == 0o700
    # WAL mode: SQLite made -wal and -shm, with the database's own mode.
    assert seen["modes"] == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
    assert _mode(seen["name"]) == 0o600


def test_an_existing_var_is_tightened_and_other_directories_are_left_alone(tmp_path):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    os.chmod(var, 0o755)
    private_dir(var, tighten=True)
    assert _mode(var) == 0o700
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    private_dir(shared)
    assert _mode(shared) == 0o755
    fresh = private_dir(tmp_path / "a" / "b")
    assert _mode(fresh) == 0o700
