"""The allowlist document and its renderers: golden files, structure, round trip, strict parsing."""

from __future__ import annotations

import ipaddress
import json
import os
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vpnregistry.allowlist.deltas import sort_key
from vpnregistry.allowlist.formats import FORMATS, Allowlist, ipset_maxelem, render

GOLDEN = Path(__file__).parent / "golden"

# Small but with every shape: adjacent blocks, a single address, both families, two mobile operators.
FIXTURE = Allowlist(
    session="0b7e6d3c-6f1a-4d2b-9c4e-2a1f5e8d9c01",
    serial=42,
    generated_at="2026-11-28T00:52:12Z",
    ipv4=("14.1.104.0/23", "14.1.106.0/24", "14.192.128.0/19", "27.0.184.7/32"),
    ipv6=("2001:dd8:1c::/48", "2001:dd8:1d:1::/64", "2400:adc0:0:10::1/128"),
    msisdn={"indus": ("+923001234567", "+923009876543"), "margalla": ("+923331112222",)},
)
EMPTY = replace(FIXTURE, serial=1, ipv4=(), ipv6=(), msisdn={})
IP_FORMATS = [name for name in FORMATS if name != "msisdn.csv"]

# (golden file, format, allowlist, operator)
CASES = [(f"allowlist.{name}", name, FIXTURE, None) for name in IP_FORMATS]
CASES += [
    ("allowlist.indus.msisdn.csv", "msisdn.csv", FIXTURE, "indus"),
    ("empty.nft", "nft", EMPTY, None),
    ("empty.ipset", "ipset", EMPTY, None),
    ("empty.bird", "bird", EMPTY, None),
]


@pytest.mark.parametrize(("golden", "name", "allowlist", "operator"), CASES, ids=[c[0] for c in CASES])
def test_golden(golden, name, allowlist, operator):
    """Each format's output for a fixed list is a file in the repository: a change shows up as its diff."""
    path = GOLDEN / golden
    text = render(name, allowlist, operator=operator)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(text.encode())
    assert path.exists(), f"no golden file {path.name}: run with UPDATE_GOLDEN=1 and review the new file"
    assert text == path.read_bytes().decode(), (
        f"{name} output differs from {path.name}; if intended, rerun with UPDATE_GOLDEN=1 and review the diff"
    )


def test_canonical_document_golden():
    """The stored snapshot (with mobile numbers) is pinned too: its SHA-256 is the snapshot's identity."""
    path = GOLDEN / "snapshot.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_bytes(FIXTURE.to_json().encode())
    assert FIXTURE.to_json() == path.read_bytes().decode()


def test_every_golden_file_is_a_case():
    expected = {c[0] for c in CASES} | {"snapshot.json"}
    assert {p.name for p in GOLDEN.iterdir()} == expected


_CIDR = re.compile(r"(?<![\w:.])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]*:[0-9a-f:]*)/\d{1,3}(?![\w:.])")
_COMMENT = {"txt": "#", "nft": "#", "ipset": "#", "bird": "#", "cisco": "!", "juniper": "#", "mikrotik": "#"}


@pytest.mark.parametrize("name", IP_FORMATS)
def test_every_prefix_exactly_once_and_nothing_else(name):
    text = render(name, FIXTURE)
    if name == "json":
        found = json.loads(text)["ipv4"] + json.loads(text)["ipv6"]
    elif name == "nft":
        # Every element line, single addresses bare (their own sets): as CIDRs in the list's order.
        elements = [str(ipaddress.ip_network(e)) for e in re.findall(r"^\t([^\s,]+),$", text, re.M)]
        found = sorted(elements, key=lambda c: (":" in c, sort_key(c)))
    else:
        body = "\n".join(line for line in text.splitlines() if not line.startswith(_COMMENT[name]))
        found = _CIDR.findall(body)
    assert found == [*FIXTURE.ipv4, *FIXTURE.ipv6]


@pytest.mark.parametrize("name", IP_FORMATS)
def test_ip_formats_hold_no_mobile_numbers(name):
    text = render(name, FIXTURE, operator="indus")
    assert not re.search(r"\+?92\d{6,}", text)
    for numbers in FIXTURE.msisdn.values():
        for number in numbers:
            assert number[1:] not in text


def test_json_format_is_the_canonical_document_without_mobile_numbers():
    served = render("json", FIXTURE)
    assert json.loads(served)["msisdn"] == {}
    assert Allowlist.from_json(served) == replace(FIXTURE, msisdn={})
    assert served == replace(FIXTURE, msisdn={}).to_json()
    assert json.loads(FIXTURE.to_json())["msisdn"] == {k: list(v) for k, v in FIXTURE.msisdn.items()}


@pytest.mark.parametrize("name", IP_FORMATS)
def test_header_names_session_serial_and_time(name):
    text = render(name, FIXTURE)
    for value in (FIXTURE.session, str(FIXTURE.serial), FIXTURE.generated_at):
        assert value in text


def test_msisdn_csv_serves_one_operator_only():
    assert render("msisdn.csv", FIXTURE, operator="margalla") == "msisdn,operator\n+923331112222,margalla\n"
    assert "+923331112222" not in render("msisdn.csv", FIXTURE, operator="indus")
    assert render("msisdn.csv", FIXTURE, operator="nobody") == "msisdn,operator\n"
    with pytest.raises(ValueError, match="operator"):
        render("msisdn.csv", FIXTURE)


@pytest.mark.parametrize("name", ["xml", "", "TXT", None])
def test_unknown_format_is_a_value_error(name):
    with pytest.raises(ValueError, match="unknown allowlist format"):
        render(name, FIXTURE)


def test_format_table():
    assert list(FORMATS) == [
        "txt",
        "json",
        "nft",
        "ipset",
        "bird",
        "cisco",
        "juniper",
        "mikrotik",
        "msisdn.csv",
    ]
    assert all(name == f.name for name, f in FORMATS.items())
    assert FORMATS["json"].media_type == "application/json"
    assert FORMATS["msisdn.csv"].media_type.startswith("text/csv")


def test_ipset_maxelem_fits_and_changes_seldom():
    assert ipset_maxelem(0) == ipset_maxelem(65536) == 65536
    assert ipset_maxelem(65537) == ipset_maxelem(1_048_576) == 1_048_576
    assert ipset_maxelem(1_048_577) == 16_777_216


def test_cisco_and_juniper_keep_an_empty_family_defined():
    # A missing IOS prefix-list matches everything; an empty family must match nothing instead.
    assert "ip prefix-list VPNREGISTRY-V4 seq 5 deny 0.0.0.0/0 le 32" in render("cisco", EMPTY)
    assert "set policy-options prefix-list vpnregistry-v6\n" in render("juniper", EMPTY)


# --- the document: round trip and strict parsing ------------------------------------------------


def _aggregated(version: int):
    bits = 32 if version == 4 else 128
    cls = ipaddress.IPv4Network if version == 4 else ipaddress.IPv6Network

    def build(pairs):
        nets = [cls((start >> (bits - length) << (bits - length), length)) for start, length in pairs]
        return tuple(str(n) for n in ipaddress.collapse_addresses(nets))

    pair = st.tuples(st.integers(0, 2**bits - 1), st.integers(1 if version == 4 else 8, bits))
    return st.lists(pair, max_size=30).map(build)


_numbers = st.lists(st.from_regex(r"\+92[0-9]{10}", fullmatch=True), max_size=5, unique=True)
allowlists = st.builds(
    Allowlist,
    session=st.uuids().map(str),
    serial=st.integers(1, 2**63),
    generated_at=st.datetimes(datetime(2000, 1, 1), datetime(2999, 12, 31, 23, 59, 59)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
    ),
    ipv4=_aggregated(4),
    ipv6=_aggregated(6),
    msisdn=st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True),
        _numbers.map(lambda n: tuple(sorted(n))),
        max_size=3,
    ),
)


@settings(max_examples=50, deadline=None)
@given(allowlists)
def test_round_trip(allowlist):
    text = allowlist.to_json()
    assert Allowlist.from_json(text) == allowlist
    assert Allowlist.from_json(text.encode()).to_json() == text


def test_to_json_is_canonical():
    text = FIXTURE.to_json()
    assert text.endswith("}\n") and "\n" not in text[:-1] and " " not in text
    assert list(json.loads(text)) == sorted(json.loads(text))
    assert json.loads(text)["format"] == "vpnregistry-allowlist/1"


def _broken(**changes) -> str:
    doc = json.loads(FIXTURE.to_json())
    for key, value in changes.items():
        if value is ...:
            del doc[key]
        else:
            doc[key] = value
    return json.dumps(doc)


BROKEN = [
    ("not json", "{", "not a JSON document"),
    ("not an object", "[]", "JSON object"),
    ("no serial", _broken(serial=...), "serial: missing"),
    ("no msisdn", _broken(msisdn=...), "msisdn: missing"),
    ("extra field", _broken(extra=1), "extra: not a field"),
    ("other format", _broken(format="vpnregistry-allowlist/2"), "format:"),
    ("session not a uuid", _broken(session="abc"), "session:"),
    ("session upper case", _broken(session=FIXTURE.session.upper()), "session:"),
    ("serial as text", _broken(serial="42"), "serial:"),
    ("serial as bool", _broken(serial=True), "serial:"),
    ("serial zero", _broken(serial=0), "serial:"),
    ("time with offset", _broken(generated_at="2026-11-28T00:52:12+05:00"), "generated_at:"),
    ("time impossible", _broken(generated_at="2026-02-30T00:52:12Z"), "generated_at:"),
    ("ipv4 not a list", _broken(ipv4="14.1.104.0/23"), "ipv4:"),
    ("ipv4 not a string", _broken(ipv4=[1]), r"ipv4\[0\]"),
    ("ipv4 host bits", _broken(ipv4=["14.1.105.0/23"]), r"ipv4\[0\].*host bits.*'14\.1\.104\.0/23'"),
    ("ipv4 leading zero", _broken(ipv4=["014.1.104.0/23"]), r"ipv4\[0\]"),
    ("ipv4 no length", _broken(ipv4=["14.1.104.0"]), r"ipv4\[0\]"),
    ("ipv4 length too long", _broken(ipv4=["14.1.104.0/33"]), r"ipv4\[0\]"),
    ("ipv4 length leading zero", _broken(ipv4=["14.1.104.0/023"]), r"ipv4\[0\]"),
    ("ipv6 in ipv4", _broken(ipv4=["2001:dd8::/32"]), r"ipv4\[0\]"),
    ("ipv4 descending", _broken(ipv4=["27.0.184.0/22", "14.1.104.0/23"]), r"ipv4\[1\].*ascending"),
    ("ipv4 overlapping", _broken(ipv4=["14.1.104.0/23", "14.1.105.0/24"]), r"ipv4\[1\]"),
    ("ipv4 repeated", _broken(ipv4=["14.1.104.0/23", "14.1.104.0/23"]), r"ipv4\[1\]"),
    ("ipv6 upper case", _broken(ipv6=["2001:DD8::/32"]), r"ipv6\[0\].*canonical.*\(2001:dd8::/32\)"),
    ("ipv6 zero padded", _broken(ipv6=["2001:0dd8::/32"]), r"ipv6\[0\].*canonical"),
    ("ipv6 zeros not longest run", _broken(ipv6=["2001:db8::1:0:0:0/80"]), r"\(2001:db8:0:0:1::/80\)"),
    ("ipv6 zone", _broken(ipv6=["fe80::1%eth0/128"]), r"ipv6\[0\]"),
    ("ipv6 host bits", _broken(ipv6=["2001:dd8:1c::1/48"]), r"ipv6\[0\].*host bits"),
    ("msisdn a list", _broken(msisdn=["+923001234567"]), "msisdn:"),
    ("msisdn bad operator", _broken(msisdn={"in dus": []}), r"msisdn\['in dus'\]"),
    ("msisdn numbers not a list", _broken(msisdn={"indus": "+923001234567"}), r"msisdn\['indus'\]"),
    ("msisdn local number", _broken(msisdn={"indus": ["03001234567"]}), r"msisdn\['indus'\]\[0\]"),
    ("msisdn unsorted", _broken(msisdn={"indus": ["+923009876543", "+923001234567"]}), r"\['indus'\]\[1\]"),
    ("msisdn repeated", _broken(msisdn={"indus": ["+923001234567", "+923001234567"]}), r"\['indus'\]\[1\]"),
]


@pytest.mark.parametrize(("text", "message"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_from_json_refuses_broken_documents(text, message):
    with pytest.raises(ValueError, match=message):
        Allowlist.from_json(text)


def test_from_json_reads_what_the_fixture_wrote():
    assert Allowlist.from_json(FIXTURE.to_json()) == FIXTURE
    assert Allowlist.from_json((GOLDEN / "snapshot.json").read_bytes()) == FIXTURE
