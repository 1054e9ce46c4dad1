"""One package, two installs: the operator tools alone (`pip install vpnregistry`), the registry with
the `server` extra; a server command on a host without it says what to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vpnregistry import cli

ROOT = Path(__file__).resolve().parent.parent
# What pip says when the package index cannot be reached (no network on this machine).
OFFLINE = ("NewConnectionError", "Temporary failure in name resolution", "Network is unreachable",
           "No matching distribution found", "Could not find a version")  # fmt: skip


def test_a_server_command_without_django_names_the_extra(monkeypatch, capsys):
    real = cli.importlib.util.find_spec
    monkeypatch.setattr(
        cli.importlib.util, "find_spec", lambda name: None if name == "django" else real(name)
    )
    assert cli.main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("vpnregistry migrate: the registry needs: pip install 'vpnregistry[server]'")
    assert cli.main([]) == 2
    assert "pip install 'vpnregistry[server]'" in capsys.readouterr().err
    # The operator tools do not ask for it.
    assert cli.main(["validate", "8.8.8.0/24"]) == 0


def _run(args, **kwargs) -> subprocess.CompletedProcess:
    # Nothing of this checkout on the path: the fresh venv sees only what was installed into it.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE")
    }
    return subprocess.run(args, capture_output=True, text=True, timeout=600, env=env, **kwargs)


@pytest.mark.multiprocess
def test_the_wheel_without_the_server_extra_is_the_operator_tools(tmp_path):
    dist = tmp_path / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, ROOT])
    if built.returncode and any(s in built.stderr for s in OFFLINE):
        pytest.skip("the package index cannot be reached to build the wheel: " + built.stderr[-300:])
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("vpnregistry-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], check=True)
    # The wheel as a file, its two dependencies (numpy, cryptography) from the package index.
    installed = _run([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel])
    if installed.returncode and any(s in installed.stderr for s in OFFLINE):
        pytest.skip(
            "the package index cannot be reached for numpy and cryptography: " + installed.stderr[-300:]
        )
    assert installed.returncode == 0, installed.stderr
    tool = venv / "bin" / "vpnregistry"

    validate = _run([tool, "validate", "--category", "freelancer", "203.0.113.7", "8.8.8.8"], cwd=tmp_path)
    assert validate.returncode == 1  # the documentation address is refused
    assert validate.stdout.splitlines()[1] == "8.8.8.8\tok\t8.8.8.8/32"
    (tmp_path / "in.txt").write_text("10.0.1.0/24\n10.0.0.0/24\n")
    aggregate = _run([tool, "aggregate", tmp_path / "in.txt"], cwd=tmp_path)
    assert (aggregate.returncode, aggregate.stdout) == (0, "10.0.0.0/23\n")
    for command in ("aggregate", "check", "sync"):
        helped = _run([tool, command, "--help"], cwd=tmp_path)
        assert helped.returncode == 0 and helped.stdout.startswith(f"usage: vpnregistry {command}"), helped

    server = _run([tool, "migrate"], cwd=tmp_path)
    assert server.returncode == 2
    assert "Traceback" not in server.stderr
    assert "the registry needs: pip install 'vpnregistry[server]'" in server.stderr
    no_django = _run([venv / "bin" / "python", "-c", "import django"], cwd=tmp_path)
    assert no_django.returncode == 1 and "No module named 'django'" in no_django.stderr
