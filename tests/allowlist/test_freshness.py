"""Freshness end to end: an officer's approval reaches a syncing operator's nftables set.

The registry serves on 127.0.0.1 (the live server); the operator's `vpnregistry sync` runs as its own
process, as a daemon polling at a short interval, and loads every new list with `nft` inside a network
namespace of its own (`unshare -rn`), never the host's tables. After each load the namespace's sets
are listed to a file; the test waits, by bounded polling, until the approved prefix is in the set.
It asserts arrival, not time: `make scale` measures the time with the production intervals.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import TestCase

from tests.conftest import require_tool
from tests.factories import api_key
from tests.workflow import approved, to_decision
from vpnregistry.applications import services

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.tools, pytest.mark.multiprocess]

WAIT_SECONDS = 120  # a bound on the polling, far above what a round takes


def _set_members(listing: Path) -> set[str]:
    try:
        ruleset = json.loads(listing.read_text())["nftables"]
    except (OSError, ValueError, KeyError):
        return set()
    members = set()
    for item in ruleset:
        for element in item.get("set", {}).get("elem", []) if "set" in item else []:
            if isinstance(element, dict) and "prefix" in element:
                members.add(f"{element['prefix']['addr']}/{element['prefix']['len']}")
            else:
                members.add(str(element))
    return members


def test_an_approval_reaches_the_operators_nft_set(live_server, world, tmp_path):
    nft = require_tool("nft")
    unshare = require_tool("unshare")
    approved(world, "14.1.105.0/24")
    key = tmp_path / "key.pub"
    key.write_bytes(world.client(world.operator).get("/api/v1/allowlist/key.pub").content)
    listing = tmp_path / "sets.json"
    # Load the new list in a namespace of its own and list what its sets hold, as a firewall host would.
    script = f'{nft} -f "$1" && {nft} -j list sets > {listing}.tmp && mv {listing}.tmp {listing}'
    command = [
        sys.executable, "-m", "vpnregistry.cli", "sync", "--url", live_server.url,
        "--token", api_key(world.operator), "--key", str(key), "--out", str(tmp_path / "out"),
        "--apply", "nft", "--apply-command", f"{unshare} -rn sh -c '{script}' _ {{file}}",
        "--interval", "0.2", "--rounds", str(int(WAIT_SECONDS / 0.2)),
    ]  # fmt: skip
    daemon = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while "14.1.105.0/24" not in _set_members(listing) and time.monotonic() < deadline:
            assert daemon.poll() is None, daemon.stdout.read().decode()
            time.sleep(0.1)
        assert "14.1.105.0/24" in _set_members(listing)
        assert "14.1.106.0/24" not in _set_members(listing)

        # The officer approves; publication follows the commit, and the next round loads it.
        application = to_decision(world, "14.1.106.0/24")
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.application_decide(
                actor=world.officer, application=application, decision="approve", reason="Verified."
            )
        while "14.1.106.0/24" not in _set_members(listing) and time.monotonic() < deadline:
            assert daemon.poll() is None, daemon.stdout.read().decode()
            time.sleep(0.1)
        assert {"14.1.105.0/24", "14.1.106.0/24"} <= _set_members(listing)
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
    # The host's own tables were never touched.
    host = subprocess.run([nft, "list", "tables"], capture_output=True, check=False)
    assert b"vpnregistry" not in host.stdout
