"""deploy/: the systemd units pass `systemd-analyze verify`, the nginx site `nginx -t`, and both agree
with the app's own limits and commands."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
SITE = DEPLOY / "nginx" / "vpnregistry.conf"
ENV_EXAMPLE = DEPLOY / "vpnregistry.env.example"
SETTINGS = (ROOT / "src" / "vpnregistry" / "settings.py").read_text()
MIB = 1 << 20


def _exec_start(unit: Path) -> str:
    text = unit.read_text().replace("\\\n", " ")
    return " ".join(re.search(r"^ExecStart=(.+)$", text, re.M).group(1).split())


def _nginx_size(value: str) -> int:
    return int(value[:-1]) * MIB if value.endswith("m") else int(value)


@pytest.mark.tools
def test_the_systemd_units_verify(tmp_path):
    analyze = require_tool("systemd-analyze")
    # The units name the virtualenv in /opt/vpnregistry, which verify wants to find: stand-ins here.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("gunicorn", "vpnregistry"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    copies = []
    for unit in UNITS:
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace("/opt/vpnregistry/bin/", f"{bin_dir}/"))
        copies.append(copy)
    result = subprocess.run([analyze, "verify", *copies], capture_output=True, text=True, timeout=60)
    # verify exits 0 on unknown keys and bad values too, only saying so: nothing said is the test.
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


@pytest.mark.tools
def test_the_nginx_site_passes_nginx_t(tmp_path):
    nginx, openssl = require_tool("nginx"), require_tool("openssl")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", "/CN=registry.example", "-keyout", tmp_path / "privkey.pem",
         "-out", tmp_path / "fullchain.pem"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    (tmp_path / "site.conf").write_text(SITE.read_text().replace("/etc/vpnregistry/tls/", f"{tmp_path}/"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n client_body_temp_path {tmp_path}/body;\n"
        f" proxy_temp_path {tmp_path}/proxy;\n include {tmp_path}/site.conf;\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-p", tmp_path, "-e", tmp_path / "error.log", "-c", tmp_path / "nginx.conf"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr, result.stderr
    # nginx 1.25.1 and later prefer `http2 on;` to `listen ... http2` (Debian 12 has 1.22): only that.
    warnings = [line for line in result.stderr.splitlines() if "[warn]" in line and "http2" not in line]
    assert not warnings, result.stderr


def test_the_units_run_the_documented_commands():
    commands = {unit.stem: _exec_start(unit) for unit in UNITS}
    assert commands["vpnregistry-web"].startswith(
        "/opt/vpnregistry/bin/gunicorn vpnregistry.wsgi:application "
    )
    assert commands["vpnregistry-worker"].startswith("/opt/vpnregistry/bin/vpnregistry worker ")
    assert commands["vpnregistry-beat"] == "/opt/vpnregistry/bin/vpnregistry beat"
    for unit in UNITS:
        text = unit.read_text()
        assert "EnvironmentFile=/etc/vpnregistry/vpnregistry.env" in text and "User=vpnregistry" in text


def test_the_nginx_site_agrees_with_the_apps_limits_and_gunicorn():
    site = SITE.read_text()
    bind = re.search(r"--bind (\S+)", _exec_start(DEPLOY / "systemd" / "vpnregistry-web.service")).group(1)
    assert re.search(rf"^\s*server {re.escape(bind)}\b", site, re.M)
    general = _nginx_size(re.search(r"^    client_max_body_size (\w+);", site, re.M).group(1))
    assert settings.MAX_UPLOAD_BYTES <= general < settings.MAX_UPLOAD_BYTES + 2 * MIB
    exemptions = re.search(r"location = /api/v1/exemptions/check \{(.*?)\}", site, re.S).group(1)
    assert _nginx_size(re.search(r"client_max_body_size (\w+);", exemptions).group(1)) >= (
        settings.EXEMPTIONS_MAX_BODY_BYTES
    )
    timeout = int(
        re.search(r"--timeout (\d+)", _exec_start(DEPLOY / "systemd" / "vpnregistry-web.service"))[1]
    )
    assert f"proxy_read_timeout {timeout}s;" in exemptions and "proxy_request_buffering off;" in exemptions
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site


def test_the_environment_example_holds_no_secret_and_only_known_variables():
    names = []
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            names.append(name)
            if name in ("VPNREGISTRY_SECRET_KEY", "VPNREGISTRY_FIELD_KEYS"):
                assert value == "", name
            assert " " not in value and '"' not in value, line  # read alike by systemd and the shell
    assert {
        "VPNREGISTRY_DEBUG",
        "DATABASE_URL",
        "VPNREGISTRY_ALLOWED_HOSTS",
        "VPNREGISTRY_BROKER_URL",
        "VPNREGISTRY_SIGNING_KEY_FILE",
        "VPNREGISTRY_CACHE_URL",
    } <= set(names)
    # What several servers need is there to uncomment, and nothing of a secret is filled in.
    lines = ENV_EXAMPLE.read_text().splitlines()
    commented = dict(line[1:].partition("=")[::2] for line in lines if line.startswith("#VPNREGISTRY_"))
    for name in ("BUCKET", "ENDPOINT_URL", "ACCESS_KEY", "SECRET_KEY", "REGION", "REDIRECT_SECONDS"):
        assert f"VPNREGISTRY_S3_{name}" in commented, name
    assert commented["VPNREGISTRY_S3_SECRET_KEY"] == commented["VPNREGISTRY_METRICS_TOKEN"] == ""
    unknown = [n for n in [*names, *commented] if n != "DATABASE_URL" and f'"{n}"' not in SETTINGS]
    assert not unknown, f"not read by settings.py: {unknown}"
