"""The real tools accept what the renderers write: nft, ipset and bird, each inside `unshare -rn`.

A new user and network namespace has its own empty nftables ruleset and ipsets, so that loading
files there never touches the host's own tables.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import random
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from tests.allowlist.test_formats import EMPTY, FIXTURE
from tests.conftest import require_tool
from vpnregistry.allowlist.deltas import sort_key
from vpnregistry.allowlist.formats import Allowlist, ipset_maxelem, render

pytestmark = pytest.mark.tools
SEEDS = [1, 2, 3]


def random_allowlist(seed: int, count: int = 300) -> Allowlist:
    """About `count` aggregated prefixes per family: random ranges cut into CIDRs, so neighbours abut."""
    rng = random.Random(seed)
    # (class, lowest first address, highest, bits of the largest range): 1.0.0.0-223.x and 2000::/3.
    families = (
        (ipaddress.IPv4Address, 1 << 24, 223 << 24, 24),
        (ipaddress.IPv6Address, 1 << 125, 1 << 126, 72),
    )
    out = []
    for cls, low, high, span_bits in families:
        nets = []
        while len(nets) < count:
            first = rng.randrange(low, high)
            last = first + rng.randrange(1 << rng.randrange(span_bits))
            nets.extend(ipaddress.summarize_address_range(cls(first), cls(last)))
        out.append(tuple(str(n) for n in ipaddress.collapse_addresses(nets)))
    return replace(FIXTURE, serial=100 + seed, ipv4=out[0], ipv6=out[1])


def _unavailable(reason: str) -> None:
    if os.environ.get("VPNREGISTRY_REQUIRE_TOOLS") == "1":
        pytest.fail(reason + " and VPNREGISTRY_REQUIRE_TOOLS=1 demands it")
    pytest.skip(reason)


@functools.cache
def _probe(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def netns_tool(name: str, *probe: str, module: str | None = None) -> str:
    """The tool's path once it is known to work in a fresh namespace; skip only for a cause outside
    the project (no user namespaces, a kernel module that is not loaded), naming it exactly."""
    path = require_tool(name)
    unshare = require_tool("unshare")
    result = _probe(unshare, "-rn", "true")
    if result.returncode:
        _unavailable(f"cannot create a user and network namespace (unshare -rn): {result.stderr.strip()}")
    if not probe:
        return path
    result = _probe(unshare, "-rn", path, *probe)
    if result.returncode:
        modular = Path("/proc/modules").exists()
        if module and modular and not Path(f"/sys/module/{module}").exists():
            _unavailable(
                f"the kernel module {module} is not loaded and a user namespace cannot load it "
                f"({name} {' '.join(probe)}: {result.stderr.strip()})"
            )
        pytest.fail(f"{name} {' '.join(probe)} failed in a new namespace: {result.stderr.strip()}")
    return path


def in_netns(script: str, tmp_path: Path, flags: str = "-rn", **files: str) -> subprocess.CompletedProcess:
    """Write `files` to tmp_path and run the shell script there inside a new network namespace (and,
    with the default flags, a new user namespace too)."""
    for file_name, text in files.items():
        (tmp_path / file_name).write_text(text, encoding="utf-8")
    return subprocess.run(
        ["unshare", flags, "sh", "-ec", script], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )


def _cidrs(items) -> list[str]:
    return [str(ipaddress.ip_network(item)) for item in items]


ALLOWLISTS = [FIXTURE, EMPTY, *(random_allowlist(seed) for seed in SEEDS)]
IDS = ["fixture", "empty", *(f"random-{seed}" for seed in SEEDS)]


# --- nftables -------------------------------------------------------------------------------------


def _nft_elements(output: str) -> list[list[str]]:
    """The elements of each `nft -j list set` answer in the output, as CIDRs."""
    sets = []
    for line in output.splitlines():
        for item in json.loads(line)["nftables"]:
            if "set" not in item:
                continue
            cidrs = []
            for elem in item["set"].get("elem", []):
                if isinstance(elem, str):
                    cidrs.append(str(ipaddress.ip_network(elem)))
                elif "prefix" in elem:
                    cidrs.append(f"{elem['prefix']['addr']}/{elem['prefix']['len']}")
                else:
                    first, last = (ipaddress.ip_address(a) for a in elem["range"])
                    cidrs.extend(str(n) for n in ipaddress.summarize_address_range(first, last))
            sets.append(cidrs)
    # Each family's hosts set and networks set (in _NFT_LIST's order), as the one list published.
    return [sorted(hosts + nets, key=sort_key) for hosts, nets in zip(sets[0::2], sets[1::2], strict=True)]


_NFT_LIST = "; ".join(
    f"nft -j list set inet vpnregistry {name}"
    for name in ("allow_v4_hosts", "allow_v4_nets", "allow_v6_hosts", "allow_v6_nets")
)


@pytest.mark.parametrize("allowlist", ALLOWLISTS, ids=IDS)
def test_nft_checks(tmp_path, allowlist):
    nft = netns_tool("nft", "list", "tables")
    result = in_netns(f"{nft} -c -f list.nft", tmp_path, **{"list.nft": render("nft", allowlist)})
    assert result.returncode == 0, result.stderr


def test_nft_check_rejects_a_broken_file(tmp_path):
    # The check above means something only if nft -c does reject what nft cannot load.
    nft = netns_tool("nft", "list", "tables")
    broken = render("nft", FIXTURE).replace("14.1.106.0/24", "14.1.106.0/33")
    result = in_netns(f"{nft} -c -f list.nft", tmp_path, **{"list.nft": broken})
    assert result.returncode != 0


@pytest.mark.parametrize("allowlist", ALLOWLISTS, ids=IDS)
def test_nft_loads_twice_and_holds_exactly_the_published_prefixes(tmp_path, allowlist):
    nft = netns_tool("nft", "list", "tables")
    result = in_netns(
        f"{nft} -f list.nft; {nft} -f list.nft; {_NFT_LIST.replace('nft', nft)}",
        tmp_path,
        **{"list.nft": render("nft", allowlist)},
    )
    assert result.returncode == 0, result.stderr
    assert _nft_elements(result.stdout) == [list(allowlist.ipv4), list(allowlist.ipv6)]


def test_nft_reload_replaces_and_keeps_the_operators_chain(tmp_path):
    """A new list replaces the old one in place; a chain the operator added to the table survives."""
    nft = netns_tool("nft", "list", "tables")
    old, new = random_allowlist(1), random_allowlist(2)
    chain = (
        "add chain inet vpnregistry forward { type filter hook forward priority 0; policy accept; }\n"
        "add rule inet vpnregistry forward ip saddr @allow_v4_hosts accept\n"
        "add rule inet vpnregistry forward ip saddr @allow_v4_nets accept\n"
        "add rule inet vpnregistry forward ip6 saddr @allow_v6_hosts accept\n"
        "add rule inet vpnregistry forward ip6 saddr @allow_v6_nets accept\n"
    )
    script = f"{nft} -f old.nft; {nft} -f chain.nft; {nft} -f new.nft; {_NFT_LIST.replace('nft', nft)}; "
    script += (
        f"{nft} list chain inet vpnregistry forward >&2; {nft} -f empty.nft; {_NFT_LIST.replace('nft', nft)}"
    )
    files = {"old.nft": render("nft", old), "chain.nft": chain, "new.nft": render("nft", new)}
    result = in_netns(script, tmp_path, **files, **{"empty.nft": render("nft", EMPTY)})
    assert result.returncode == 0, result.stderr
    assert _nft_elements(result.stdout) == [list(new.ipv4), list(new.ipv6), [], []]
    assert "ip saddr @allow_v4_nets accept" in result.stderr


def test_nft_load_fails_while_a_rule_names_a_set_of_the_first_layout(tmp_path):
    """`allow_v4` and `allow_v6` (one interval set a family) are no longer filled: a rule that still
    uses one makes the load fail, changing nothing, rather than match a list that no longer moves."""
    nft = netns_tool("nft", "list", "tables")
    old_rules = (
        "table inet vpnregistry {\n"
        "  set allow_v4 { type ipv4_addr; flags interval; elements = { 10.0.0.0/8 } }\n"
        "}\n"
        "add chain inet vpnregistry forward { type filter hook forward priority 0; policy accept; }\n"
        "add rule inet vpnregistry forward ip saddr @allow_v4 accept\n"
    )
    script = f"{nft} -f old.nft; {nft} -f list.nft || echo rc=1; {nft} list set inet vpnregistry allow_v4"
    result = in_netns(script, tmp_path, **{"old.nft": old_rules, "list.nft": render("nft", FIXTURE)})
    assert "rc=1" in result.stdout and "allow_v4" in result.stderr
    assert "10.0.0.0/8" in result.stdout  # nothing changed


def test_nft_loads_a_large_list(tmp_path):
    """20,000 prefixes in one transaction. Inside `unshare -rn` nft cannot raise its netlink send
    buffer (SO_SNDBUFFORCE needs CAP_NET_ADMIN in the initial user namespace and fails with EPERM),
    so a batch is capped by net.core.wmem_default, about 2,000 prefixes: that one refusal skips.
    As root (as CI runs) a plain network namespace keeps that capability, so the whole list loads."""
    nft = netns_tool("nft", "list", "tables")
    from benchmarks.allowlist_bench import make_allowlist

    allowlist = make_allowlist(20_000, 0)
    result = in_netns(
        f"{nft} -f list.nft; {_NFT_LIST.replace('nft', nft)}",
        tmp_path,
        flags="-n" if os.geteuid() == 0 else "-rn",
        **{"list.nft": render("nft", allowlist)},
    )
    if result.returncode and "Message too long" in result.stderr:
        wmem = Path("/proc/sys/net/core/wmem_default").read_text().strip()
        pytest.skip(
            "in a user namespace nft's SO_SNDBUFFORCE fails (EPERM), so its batch is capped by "
            f"net.core.wmem_default={wmem} bytes; nft said: {result.stderr.strip()}"
        )
    assert result.returncode == 0, result.stderr
    assert _nft_elements(result.stdout) == [list(allowlist.ipv4), list(allowlist.ipv6)]


# --- ipset ----------------------------------------------------------------------------------------


def _ipset_members(output: str) -> dict[str, list[str]]:
    """Members of each set in `ipset list` output, sorted as the allowlist sorts them."""
    sets: dict[str, list[str]] = {}
    name, members = None, False
    for line in output.splitlines():
        if line.startswith("Name: "):
            name, members = line[6:], False
            sets[name] = []
        elif line == "Members:":
            members = True
        elif members and line:
            sets[name].append(line)
    return {
        name: _cidrs(sorted(items, key=lambda m: ipaddress.ip_network(m).network_address))
        for name, items in sets.items()
    }


@pytest.mark.parametrize("allowlist", ALLOWLISTS, ids=IDS)
def test_ipset_restores_first_and_again(tmp_path, allowlist):
    ipset = netns_tool("ipset", "list", module="ip_set")
    script = f"{ipset} restore < list.ipset; {ipset} restore < list.ipset; {ipset} list"
    result = in_netns(script, tmp_path, **{"list.ipset": render("ipset", allowlist)})
    assert result.returncode == 0, result.stderr
    # Exactly the two live sets: the temporary ones are gone.
    assert _ipset_members(result.stdout) == {
        "vpnregistry-v4": list(allowlist.ipv4),
        "vpnregistry-v6": list(allowlist.ipv6),
    }
    assert f"maxelem {ipset_maxelem(len(allowlist.ipv4))}" in result.stdout


def test_ipset_reload_replaces_the_members(tmp_path):
    """Each load replaces the members, also when the list's size changes its hashsize (4096 and back)."""
    from benchmarks.allowlist_bench import make_allowlist

    ipset = netns_tool("ipset", "list", module="ip_set")
    old, larger, new = random_allowlist(1), make_allowlist(4000, 0), random_allowlist(2)
    files = {name: render("ipset", a) for name, a in (("old", old), ("larger", larger), ("new", new))}
    script = f"for f in old larger new; do {ipset} restore < $f; done; {ipset} list"
    result = in_netns(script, tmp_path, **files)
    assert result.returncode == 0, result.stderr
    assert _ipset_members(result.stdout) == {
        "vpnregistry-v4": list(new.ipv4),
        "vpnregistry-v6": list(new.ipv6),
    }


def test_ipset_maxelem_step_fails_before_touching_the_live_set(tmp_path):
    """ipset refuses `create -exist` of a live set whose maxelem differs: a list that outgrows 65536
    entries fails to load over an older, smaller one (the sync client keeps the last good list);
    the refusal comes first, so the live set still holds the old list, and no temporary set is left."""
    ipset = netns_tool("ipset", "list", module="ip_set")
    big_v4 = tuple(str(ipaddress.IPv4Network((0x01000000 + 2 * i, 32))) for i in range(65537))
    big = replace(FIXTURE, serial=43, ipv4=big_v4)
    script = f"{ipset} restore < old.ipset; if {ipset} restore < big.ipset; then exit 3; fi; {ipset} list"
    result = in_netns(
        script, tmp_path, **{"old.ipset": render("ipset", FIXTURE), "big.ipset": render("ipset", big)}
    )
    assert result.returncode == 0, result.stderr
    assert "Set cannot be created: set with the same name already exists" in result.stderr
    assert _ipset_members(result.stdout) == {
        "vpnregistry-v4": list(FIXTURE.ipv4),
        "vpnregistry-v6": list(FIXTURE.ipv6),
    }


# --- BIRD 2 ---------------------------------------------------------------------------------------

BIRD_CONF = """\
router id 192.0.2.1;
include "{fragment}";
protocol device {{}}
filter vpnregistry_only {{
  if net.type = NET_IP4 && net ~ VPNREGISTRY_V4 then accept;
  if net.type = NET_IP6 && net ~ VPNREGISTRY_V6 then accept;
  reject;
}}
protocol static static4 {{ ipv4 {{ import filter vpnregistry_only; }}; route 14.1.104.0/23 blackhole; }}
protocol static static6 {{ ipv6 {{ import filter vpnregistry_only; }}; route 2001:dd8:1c::/48 blackhole; }}
"""


def _bird_check(tmp_path: Path, fragment: str) -> subprocess.CompletedProcess:
    bird = netns_tool("bird")
    conf = BIRD_CONF.format(fragment=tmp_path / "vpnregistry.conf")
    return in_netns(f"{bird} -p -c bird.conf", tmp_path, **{"bird.conf": conf, "vpnregistry.conf": fragment})


@pytest.mark.parametrize("allowlist", ALLOWLISTS, ids=IDS)
def test_bird_parses_the_fragment(tmp_path, allowlist):
    result = _bird_check(tmp_path, render("bird", allowlist))
    assert result.returncode == 0, result.stderr


def test_bird_parse_rejects_a_broken_fragment(tmp_path):
    result = _bird_check(tmp_path, render("bird", FIXTURE).replace("14.1.106.0/24", "14.1.106.0/33"))
    assert result.returncode != 0
    assert "vpnregistry.conf" in result.stderr
