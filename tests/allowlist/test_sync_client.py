"""The operator's sync client against a live registry on 127.0.0.1, in good rounds and bad."""

from __future__ import annotations

import http.client
import http.server
import json
import subprocess
import threading
import urllib.parse
from pathlib import Path

import pytest
from django.test import TestCase

from tests.conftest import require_tool
from tests.factories import api_key
from tests.http import text
from tests.workflow import approved, to_decision
from vpnregistry.allowlist import client
from vpnregistry.allowlist.services import publish_snapshot
from vpnregistry.applications import services
from vpnregistry.signing.minisign import SigningKey

pytestmark = pytest.mark.django_db(transaction=True)


class FaultProxy:
    """A loopback HTTP proxy in front of the live registry that breaks chosen responses on purpose."""

    def __init__(self, upstream: str):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.faults: dict[str, str] = {}  # path suffix -> "500" | "truncate" | "tamper"
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=10)
                conn.request(
                    "GET", self.path, headers={"Authorization": self.headers.get("Authorization", "")}
                )
                upstream = conn.getresponse()
                body = upstream.read()
                fault = next((f for suffix, f in proxy.faults.items() if self.path.endswith(suffix)), None)
                status = upstream.status
                if fault == "500":
                    status, body = 500, b"internal error"
                elif fault == "tamper":
                    if self.path.endswith(".minisig"):
                        lines = body.split(b"\n")
                        lines[1] = (b"B" if lines[1][-5:-4] == b"A" else b"A").join(
                            [lines[1][:-5], lines[1][-4:]]
                        )
                        body = b"\n".join(lines)
                    elif b"14.1.10" in body:
                        body = body.replace(b"14.1.105.0/24", b"14.1.105.0/25").replace(
                            b"14.1.106.0/24", b"1.1.1.0/24"
                        )
                    else:
                        body = body.replace(b'"serial":', b'"serial": ', 1)
                length = len(body)
                if fault == "truncate":
                    body = body[: len(body) // 2]
                self.send_response(status)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                self.wfile.write(body)
                conn.close()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def registry(live_server, world, tmp_path):
    """The live registry with one approved prefix, and the pinned key an operator would download."""
    approved(world, "14.1.105.0/24")
    key = tmp_path / "key.pub"
    key.write_bytes(world.client(world.operator).get("/api/v1/allowlist/key.pub").content)
    return live_server.url, api_key(world.operator), key


def sync(url, token, key, out, *extra):
    return client.main(["--url", url, "--token", token, "--key", str(key), "--out", str(out), *extra])


def entries(out: Path, name="txt") -> list[str]:
    return [line for line in (out / f"allowlist.{name}").read_text().splitlines() if line and line[0] != "#"]


def publish_more(world, value):
    with TestCase.captureOnCommitCallbacks(execute=True):
        approved(world, value)


def test_first_round_then_deltas(registry, world, tmp_path):
    url, token, key = registry
    out = tmp_path / "out"
    assert sync(url, token, key, out, "--format", "txt", "--format", "nft") == client.OK
    assert entries(out) == ["14.1.105.0/24"]
    state = json.loads((out / ".vpnregistry-sync" / "state.json").read_text())
    assert state["serial"] == 1
    publish_more(world, "14.1.106.0/24")
    publish_more(world, "2001:dd8:1c:1::/64")
    assert sync(url, token, key, out, "--format", "txt", "-v") == client.OK
    assert entries(out) == ["14.1.105.0/24", "14.1.106.0/24", "2001:dd8:1c:1::/64"]
    served = text(world.client(world.operator).get("/api/v1/allowlist/latest.txt"))
    assert (out / "allowlist.txt").read_text() == served  # byte for byte what the registry published
    assert sync(url, token, key, out) == client.OK  # up to date


def test_deltas_are_used_not_the_snapshot(registry, world, tmp_path, caplog):
    url, token, key = registry
    out = tmp_path / "out"
    sync(url, token, key, out)
    publish_more(world, "14.1.106.0/24")
    caplog.set_level("INFO", logger="vpnregistry.sync")
    assert sync(url, token, key, out, "-v") == client.OK
    assert "1 delta(s)" in caplog.text


def test_server_down_keeps_the_last_good_list(registry, tmp_path):
    url, token, key = registry
    out = tmp_path / "out"
    sync(url, token, key, out)
    before = (out / "allowlist.txt").read_bytes()
    with FaultProxy(url) as proxy:
        dead = proxy.url
    assert sync(dead, token, key, out, "--timeout", "2") == client.FETCH
    assert (out / "allowlist.txt").read_bytes() == before


@pytest.mark.parametrize(
    ("faults", "code"),
    [
        ({"index.json": "500"}, client.FETCH),
        ({"index.json": "truncate"}, client.FETCH),
        ({"index.json": "tamper"}, client.VERIFY),
        ({"index.json.minisig": "tamper"}, client.VERIFY),
        ({".delta.json": "500", "2.json": "truncate"}, client.FETCH),
        ({".delta.json": "tamper", "2.json": "tamper"}, client.VERIFY),
        ({".delta.json.minisig": "500", "2.json.minisig": "500"}, client.FETCH),
    ],
)
def test_faults_are_refused_and_the_last_good_list_kept(registry, world, tmp_path, faults, code):
    url, token, key = registry
    out = tmp_path / "out"
    assert sync(url, token, key, out) == client.OK
    before = (out / "allowlist.txt").read_bytes()
    publish_more(world, "14.1.106.0/24")
    with FaultProxy(url) as proxy:
        proxy.faults.update(faults)
        result = sync(proxy.url, token, key, out)
    assert result == code
    assert (out / "allowlist.txt").read_bytes() == before
    assert json.loads((out / ".vpnregistry-sync" / "state.json").read_text())["serial"] == 1
    assert sync(url, token, key, out) == client.OK  # and the next good round catches up
    assert entries(out) == ["14.1.105.0/24", "14.1.106.0/24"]


@pytest.mark.parametrize("fault", ["500", "truncate", "tamper"])
def test_a_bad_delta_falls_back_to_the_snapshot(registry, world, tmp_path, fault):
    url, token, key = registry
    out = tmp_path / "out"
    sync(url, token, key, out)
    publish_more(world, "14.1.106.0/24")
    with FaultProxy(url) as proxy:
        proxy.faults[".delta.json"] = fault
        assert sync(proxy.url, token, key, out) == client.OK
    assert entries(out) == ["14.1.105.0/24", "14.1.106.0/24"]


def test_wrong_key_is_refused(registry, tmp_path):
    url, token, _ = registry
    wrong = tmp_path / "wrong.pub"
    wrong.write_text(SigningKey.generate().public.to_file())
    out = tmp_path / "out"
    assert sync(url, token, wrong, out) == client.VERIFY
    assert not (out / "allowlist.txt").exists()


def test_bad_key_file_and_missing_token_are_usage_errors(registry, tmp_path):
    url, token, _ = registry
    bad = tmp_path / "bad.pub"
    bad.write_text("not a key")
    assert sync(url, token, bad, tmp_path / "out") == client.USAGE
    assert client.main(["--url", url, "--key", str(bad), "--out", str(tmp_path)]) == client.USAGE


def test_rollback_is_refused(registry, tmp_path):
    url, token, key = registry
    out = tmp_path / "out"
    sync(url, token, key, out)
    state_path = out / ".vpnregistry-sync" / "state.json"
    state = json.loads(state_path.read_text())
    state["serial"] = 50  # as if it had seen a later serial than the registry now offers
    state_path.write_text(json.dumps(state))
    before = (out / "allowlist.txt").read_bytes()
    assert sync(url, token, key, out) == client.REFUSED
    assert (out / "allowlist.txt").read_bytes() == before


def test_session_reset_needs_consent(registry, world, tmp_path):
    url, token, key = registry
    out = tmp_path / "out"
    sync(url, token, key, out)
    publish_snapshot(reset_session=True)
    assert sync(url, token, key, out) == client.REFUSED
    assert sync(url, token, key, out, "--accept-reset") == client.OK
    assert entries(out) == ["14.1.105.0/24"]


def test_key_rotation_is_followed(registry, world, tmp_path):
    from django.core.management import call_command

    url, token, key = registry
    out = tmp_path / "out"
    sync(url, token, key, out)
    call_command("keys", "rotate", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert sync(url, token, key, out) == client.OK  # learns the announced key
    call_command("keys", "rotate", "--force", stdout=open("/dev/null", "w"))  # noqa: SIM115
    publish_more(world, "14.1.106.0/24")
    assert sync(url, token, key, out) == client.OK  # index and files now signed by the new key
    assert entries(out) == ["14.1.105.0/24", "14.1.106.0/24"]


def test_daemon_runs_bounded_rounds(registry, tmp_path):
    url, token, key = registry
    assert sync(url, token, key, tmp_path / "out", "--interval", "0.05", "--rounds", "3") == client.OK


def test_failed_apply_keeps_the_last_good_list(registry, world, tmp_path):
    url, token, key = registry
    out = tmp_path / "out"
    sync(url, token, key, out, "--format", "nft")
    before = (out / "allowlist.nft").read_bytes()
    publish_more(world, "14.1.106.0/24")
    assert sync(url, token, key, out, "--apply", "nft", "--apply-command", "false {file}") == client.APPLY
    assert (out / "allowlist.nft").read_bytes() == before
    assert not list(out.glob(".*.new"))


def test_nft_ruleset_applied_in_a_namespace_holds_exactly_the_published_entries(registry, world, tmp_path):
    nft = require_tool("nft")
    unshare = require_tool("unshare")
    url, token, key = registry
    publish_more(world, "14.1.106.0/24")
    publish_more(world, "2001:dd8:1c:1::/64")
    out = tmp_path / "out"
    listing = tmp_path / "ruleset.json"
    # The client fetches on the host, where the registry is; the load runs in a network namespace of its own.
    script = f'{nft} -f "$1" && {nft} -f "$1" && {nft} -j list ruleset > {listing}'
    command = f"{unshare} -rn sh -c '{script}' _ {{file}}"
    assert sync(url, token, key, out, "--apply", "nft", "--apply-command", command) == client.OK
    ruleset = json.loads(listing.read_text())["nftables"]
    sets = {item["set"]["name"]: item["set"].get("elem", []) for item in ruleset if "set" in item}

    def flat(elements):
        result = []
        for e in elements:
            if isinstance(e, dict) and "prefix" in e:
                result.append(f"{e['prefix']['addr']}/{e['prefix']['len']}")
            else:
                result.append(e if "/" in str(e) else f"{e}/{32 if ':' not in str(e) else 128}")
        return sorted(result)

    assert flat(sets["allow_v4_nets"]) == ["14.1.105.0/24", "14.1.106.0/24"]
    assert flat(sets["allow_v6_nets"]) == ["2001:dd8:1c:1::/64"]
    assert sets["allow_v4_hosts"] == sets["allow_v6_hosts"] == []
    # The host's own tables were never touched.
    host = subprocess.run([nft, "list", "tables"], capture_output=True, check=False)
    assert b"vpnregistry" not in host.stdout


def test_other_roles_cannot_sync(registry, world, tmp_path):
    url, _, key = registry
    assert sync(url, api_key(world.applicant), key, tmp_path / "out") == client.FETCH
    assert sync(url, "not-a-token", key, tmp_path / "out") == client.FETCH


def test_decisions_between_rounds_do_not_confuse_the_client(registry, world, tmp_path):
    url, token, key = registry
    out = tmp_path / "out"
    sync(url, token, key, out)
    application = to_decision(world, "14.1.107.0/24")
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.application_decide(
            actor=world.officer, application=application, decision="reject", reason="no"
        )
    assert sync(url, token, key, out) == client.OK
    assert entries(out) == ["14.1.105.0/24"]


def _recording(tmp_path) -> tuple[str, Path]:
    """An apply command that keeps a copy of each file it is given, in order, and succeeds."""
    kept = tmp_path / "loaded"
    kept.mkdir()
    return f"sh -c 'cp \"$1\" {kept}/$(ls {kept} | wc -l).nft' _ {{file}}", kept


def test_a_round_with_nothing_new_loads_nothing_and_a_change_loads_only_the_change(registry, world, tmp_path):
    url, token, key = registry
    out = tmp_path / "out"
    command, kept = _recording(tmp_path)
    apply = ("--apply", "nft", "--apply-command", command)
    assert sync(url, token, key, out, *apply) == client.OK
    assert sync(url, token, key, out, *apply) == client.OK  # up to date: not loaded again
    assert sorted(p.name for p in kept.iterdir()) == ["0.nft"]
    assert "flush set inet vpnregistry allow_v4_nets" in (kept / "0.nft").read_text()  # the whole list first

    with TestCase.captureOnCommitCallbacks(execute=True):
        approved(world, "14.1.106.0/24")
    assert sync(url, token, key, out, *apply) == client.OK
    change = (kept / "1.nft").read_text()
    assert "flush" not in change and "14.1.105.0/24" not in change
    assert "add element inet vpnregistry allow_v4_nets {\n\t14.1.106.0/24,\n}" in change


def test_a_change_that_fails_to_load_falls_back_to_the_whole_list(registry, world, tmp_path):
    url, token, key = registry
    out = tmp_path / "out"
    kept = tmp_path / "loaded"
    kept.mkdir()
    # Refuses a change (as nft does when the set no longer holds what the client thinks), takes a whole list.
    command = f'sh -c \'grep -q flush "$1" && cp "$1" {kept}/$(ls {kept} | wc -l).nft\' _ {{file}}'
    apply = ("--apply", "nft", "--apply-command", command)
    assert sync(url, token, key, out, *apply) == client.OK
    with TestCase.captureOnCommitCallbacks(execute=True):
        approved(world, "14.1.106.0/24")
    assert sync(url, token, key, out, *apply) == client.OK
    whole = (kept / "1.nft").read_text()
    assert "flush set" in whole and "14.1.105.0/24" in whole and "14.1.106.0/24" in whole


def test_changes_load_into_nftables_on_top_of_the_whole_list(registry, world, tmp_path):
    """Whole list, then a change adding and removing entries, loaded by nft into one namespace: the
    sets hold exactly what the registry publishes."""
    nft = require_tool("nft")
    unshare = require_tool("unshare")
    url, token, key = registry
    out = tmp_path / "out"
    command, kept = _recording(tmp_path)
    apply = ("--apply", "nft", "--apply-command", command)
    assert sync(url, token, key, out, *apply) == client.OK
    with TestCase.captureOnCommitCallbacks(execute=True):
        approved(world, "14.1.106.0/24")  # 105 and 106 are no pair: a new entry
        approved(world, "14.1.104.0/24")  # 104 + 105 make 14.1.104.0/23: an entry removed, one added
        approved(world, "2001:dd8:1c:1::/64")
        approved(world, "14.1.107.9")  # a single address: the hosts set, written bare
    assert sync(url, token, key, out, *apply) == client.OK
    change = (kept / "1.nft").read_text()
    assert "delete element inet vpnregistry allow_v4_nets {\n\t14.1.105.0/24,\n}" in change
    assert "add element inet vpnregistry allow_v4_hosts {\n\t14.1.107.9,\n}" in change
    listing = tmp_path / "sets.json"
    script = f"{nft} -f {kept}/0.nft && {nft} -f {kept}/1.nft && {nft} -j list sets > {listing}"
    subprocess.run([unshare, "-rn", "sh", "-c", script], check=True, capture_output=True)
    sets = {
        item["set"]["name"]: item["set"].get("elem", [])
        for item in json.loads(listing.read_text())["nftables"]
        if "set" in item
    }

    def flat(elements):
        return sorted(
            f"{e['prefix']['addr']}/{e['prefix']['len']}" if isinstance(e, dict) else str(e) for e in elements
        )

    assert flat(sets["allow_v4_nets"]) == ["14.1.104.0/23", "14.1.106.0/24"]
    assert flat(sets["allow_v4_hosts"]) == ["14.1.107.9"]
    assert flat(sets["allow_v6_nets"]) == ["2001:dd8:1c:1::/64"]
    assert entries(out) == ["14.1.104.0/23", "14.1.106.0/24", "14.1.107.9/32", "2001:dd8:1c:1::/64"]
