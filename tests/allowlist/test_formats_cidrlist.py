"""The CIDRs held as one text a family (`CidrList`): the sequence it is, the formats rendered from its
text against a line-by-line reference, and the vectorised check of a document against the item by
item one."""

from __future__ import annotations

import ipaddress
import json
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.allowlist.test_formats import FIXTURE, allowlists
from vpnregistry.allowlist import formats
from vpnregistry.allowlist.formats import FORMATS, Allowlist, CidrList, document, render, routers, validation

# --- the sequence -------------------------------------------------------------------------------

ITEMS = ("14.1.104.0/23", "14.1.106.0/24", "14.192.128.0/19", "27.0.184.7/32")


def test_a_sequence_of_str():
    cidrs = CidrList(ITEMS)
    assert cidrs.text == "\n".join(ITEMS) + "\n"
    assert len(cidrs) == 4 and bool(cidrs) and not CidrList() and CidrList().text == ""
    assert list(cidrs) == list(ITEMS) and tuple(reversed(cidrs)) == ITEMS[::-1]
    assert [cidrs[i] for i in range(-4, 4)] == list(ITEMS * 2)
    assert cidrs[1:3] == ITEMS[1:3] and cidrs[::2] == ITEMS[::2] and cidrs[3:1] == ()
    assert isinstance(cidrs[1:], CidrList) and cidrs[1:].text == "\n".join(ITEMS[1:]) + "\n"
    for bad in (4, -5):
        with pytest.raises(IndexError):
            cidrs[bad]
    assert "14.1.106.0/24" in cidrs and ITEMS[0] in cidrs and ITEMS[-1] in cidrs
    assert "14.1.106.0" not in cidrs and "4.1.104.0/23" not in cidrs and 5 not in cidrs
    assert cidrs.index("14.192.128.0/19") == 2 and cidrs.count(ITEMS[0]) == 1
    assert random.Random(1).sample(cidrs, 2)


def test_equal_to_the_same_strings_in_any_sequence():
    cidrs = CidrList(ITEMS)
    assert cidrs == ITEMS and cidrs == list(ITEMS) and cidrs == CidrList(iter(ITEMS))
    assert ITEMS == cidrs  # noqa: SIM300 - the tuple on the left: its __eq__ defers to CidrList's
    assert cidrs != ITEMS[:3] and cidrs != (*ITEMS[:3], "27.0.184.8/32") and cidrs != "\n".join(ITEMS)
    assert CidrList.from_text(cidrs.text) == cidrs and CidrList.from_text(cidrs.text.encode()) == cidrs
    assert CidrList(cidrs) == cidrs and CidrList() == () and CidrList.from_text("") == []
    assert Allowlist("s", 1, "t", ITEMS, ()) == Allowlist("s", 1, "t", list(ITEMS), CidrList())
    assert repr(CidrList(ITEMS[:2])) == f"CidrList({list(ITEMS[:2])!r})"
    assert "7 CIDRs" in repr(CidrList(ITEMS + ITEMS[:3]))
    with pytest.raises(TypeError):
        hash(cidrs)


@pytest.mark.parametrize(
    "items", [("a\nb",), ("",), ("1.2.3.4/32", ""), ('"',), ("\\",), ("é",), ("\x00",), ("\t",), (1,)]
)
def test_only_what_a_cidr_is_made_of(items):
    with pytest.raises((ValueError, TypeError)):
        CidrList(items)


@pytest.mark.parametrize("text", ["1.2.3.4/32", "\n", "a\n\nb\n", '"\n', "é\n"])
def test_text_ends_every_line_and_holds_no_empty_one(text):
    with pytest.raises(ValueError):
        CidrList.from_text(text)


# --- the formats, against a line-by-line reference ----------------------------------------------


def reference(name: str, a: Allowlist, operator: str | None = None) -> str:
    """Each format written out one line per CIDR, as the renderers wrote it before they worked on text."""
    v4, v6 = list(a.ipv4), list(a.ipv6)
    if name == "json":
        doc = {
            "format": "vpnregistry-allowlist/1",
            "session": a.session,
            "serial": a.serial,
            "generated_at": a.generated_at,
            "ipv4": v4,
            "ipv6": v6,
            "msisdn": {},
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n"
    if name == "msisdn.csv":
        return "msisdn,operator\n" + "".join(f"{n},{operator}\n" for n in a.msisdn.get(operator, ()))
    mark = "!" if name == "cisco" else "#"
    out = [
        f"{mark} vpnregistry allowlist",
        f"{mark} session: {a.session}",
        f"{mark} serial: {a.serial}",
        f"{mark} generated: {a.generated_at}",
        f"{mark} entries: {len(v4)} IPv4, {len(v6)} IPv6",
    ]
    families = ((4, v4), (6, v6))
    if name == "txt":
        out += v4 + v6
    elif name == "nft":
        out += ["table inet vpnregistry {"]
        for version in (4, 6):
            kind = f"\t\ttype ipv{version}_addr"
            out += [f"\tset allow_v{version}_hosts {{", kind, "\t}"]
            out += [f"\tset allow_v{version}_nets {{", kind, "\t\tflags interval", "\t}"]
        for version in (4, 6):
            out += [f"\tset allow_v{version} {{", f"\t\ttype ipv{version}_addr", "\t\tflags interval", "\t}"]
        out += ["}", "delete set inet vpnregistry allow_v4", "delete set inet vpnregistry allow_v6"]
        out += [f"flush set inet vpnregistry allow_v{v}_{k}" for v in (4, 6) for k in ("hosts", "nets")]
        for version, items in families:
            host = "/32" if version == 4 else "/128"
            hosts = [p.removesuffix(host) for p in items if p.endswith(host)]
            nets = [p for p in items if not p.endswith(host)]
            for kind, chosen in (("hosts", hosts), ("nets", nets)):
                if chosen:
                    out += [f"add element inet vpnregistry allow_v{version}_{kind} {{"]
                    out += [*(f"\t{p}," for p in chosen), "}"]
    elif name == "ipset":
        for version, items in families:
            live, size = f"vpnregistry-v{version}", len(items)
            family = "inet" if version == 4 else "inet6"
            hashsize = max(1024, 1 << max(size - 1, 1).bit_length())
            options = f"hash:net family {family} hashsize {hashsize} maxelem {formats.ipset_maxelem(size)}"
            out += [
                f"create {live} {options} -exist",
                f"create {live}-tmp {options} -exist",
                f"flush {live}-tmp",
            ]
            out += [f"add {live}-tmp {p}" for p in items]
            out += [f"swap {live}-tmp {live}", f"destroy {live}-tmp"]
    elif name == "bird":
        for version, items in families:
            placeholder = "0.0.0.0/32" if version == 4 else "::/128"
            lines = [f"\t{p}," for p in items] or [
                f"\t{placeholder}\t# placeholder: no IPv{version} prefix published"
            ]
            lines[-1] = lines[-1].rstrip(",")
            out += [f"define VPNREGISTRY_V{version} = [", *lines, "];"]
    elif name == "cisco":
        for version, items in families:
            keyword = "ip" if version == 4 else "ipv6"
            head = f"{keyword} prefix-list VPNREGISTRY-V{version}"
            out.append(f"no {head}")
            out += [f"{head} seq {5 * (i + 1)} permit {p}" for i, p in enumerate(items)]
            if not items:
                out.append(f"{head} seq 5 deny {'0.0.0.0/0 le 32' if version == 4 else '::/0 le 128'}")
    elif name == "juniper":
        for version, items in families:
            name_ = f"policy-options prefix-list vpnregistry-v{version}"
            out += [f"delete {name_}", *([f"set {name_} {p}" for p in items] or [f"set {name_}"])]
    elif name == "mikrotik":
        for menu, items in (("/ip", v4), ("/ipv6", v6)):
            out += [f"{menu} firewall address-list", "remove [find list=vpnregistry]"]
            out += [f"add list=vpnregistry address={p}" for p in items]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("name", list(FORMATS))
def test_fixture_as_the_reference_writes_it(name):
    assert render(name, FIXTURE, operator="indus") == reference(name, FIXTURE, "indus")
    empty = replace(FIXTURE, ipv4=(), ipv6=(), msisdn={})
    assert render(name, empty, operator="indus") == reference(name, empty, "indus")


@settings(max_examples=50, deadline=None)
@given(allowlists, st.integers(1, 4))
def test_every_format_as_the_reference_writes_it(allowlist, block):
    # Small blocks, so that Cisco's numbered lines cross block boundaries (and the number of digits
    # of `seq` changes inside a block) even in short lists.
    with pytest.MonkeyPatch.context() as m:
        m.setattr(routers, "_BLOCK", block)
        for name in FORMATS:
            for operator in (*allowlist.msisdn, "other") if name == "msisdn.csv" else (None,):
                assert render(name, allowlist, operator=operator) == reference(name, allowlist, operator), (
                    name
                )


def test_cisco_numbers_a_thousand_lines(monkeypatch):
    monkeypatch.setattr(routers, "_BLOCK", 7)
    nets = [str(ipaddress.IPv4Network((0x0E000000 + 256 * i, 24))) for i in range(2500)]
    allowlist = replace(FIXTURE, ipv4=nets)
    assert render("cisco", allowlist) == reference("cisco", allowlist)


# --- the document ---------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(allowlists)
def test_to_json_is_json_dumps(allowlist):
    doc = {
        "format": "vpnregistry-allowlist/1",
        "session": allowlist.session,
        "serial": allowlist.serial,
        "generated_at": allowlist.generated_at,
        "ipv4": list(allowlist.ipv4),
        "ipv6": list(allowlist.ipv6),
        "msisdn": {k: list(v) for k, v in allowlist.msisdn.items()},
    }
    assert allowlist.to_json() == json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n"


def _checked(name, items, version):
    try:
        return validation._check_prefixes(name, items, version)
    except ValueError as exc:
        return str(exc)


def _variants(version: int):
    """CIDR lists as documents might hold them: aggregated, or spoilt in one of many ways."""
    bits = 32 if version == 4 else 128
    cls = ipaddress.IPv4Network if version == 4 else ipaddress.IPv6Network
    near = 0x0E010000 if version == 4 else 0x20010DD8 << 96

    def aggregated(pairs):
        nets = [cls((start >> (bits - length) << (bits - length), length)) for start, length in pairs]
        return [str(n) for n in ipaddress.collapse_addresses(nets)]

    start = st.one_of(st.integers(0, 2**bits - 1), st.integers(near, near + 4096))
    lists = st.lists(st.tuples(start, st.integers(1, bits)), max_size=12).map(aggregated)
    spoil = st.sampled_from(
        [
            lambda xs, i: xs,
            lambda xs, i: xs[: i + 1] + xs[i:],  # repeated
            lambda xs, i: xs[:i] + xs[i + 1 :][::-1] + xs[i : i + 1],  # out of order
            lambda xs, i: [*xs[:i], xs[i].upper(), *xs[i + 1 :]],
            lambda xs, i: [*xs[:i], xs[i].split("/")[0], *xs[i + 1 :]],  # no length
            lambda xs, i: [*xs[:i], xs[i].replace("/", "/0"), *xs[i + 1 :]],  # length with a leading zero
            lambda xs, i: [*xs[:i], "0" + xs[i], *xs[i + 1 :]],
            lambda xs, i: [*xs[:i], xs[i] + " ", *xs[i + 1 :]],
            lambda xs, i: [*xs[:i], f"{xs[i]}\n{xs[i]}", *xs[i + 1 :]],
            lambda xs, i: [*xs[:i], "", *xs[i + 1 :]],
            lambda xs, i: [*xs[:i], 7, *xs[i + 1 :]],
            lambda xs, i: [*xs[:i], xs[i].split("/")[0] + "/" + str(bits + 1), *xs[i + 1 :]],
            lambda xs, i: [*xs[:i], str(cls((int(cls(xs[i]).network_address) | 1, bits))), *xs[i + 1 :]],
            lambda xs, i: [
                *xs[:i],
                xs[i].split("/")[0] + "/" + str(max(0, cls(xs[i]).prefixlen - 1)),
                *xs[i + 1 :],
            ],
            lambda xs, i: [*xs[:i], "::ffff:102:304/128" if version == 6 else "1.2.3.4/32", *xs[i + 1 :]],
            lambda xs, i: [*xs[:i], "0:0:0:0:0:0:0:0/128" if version == 6 else "1.2.3/24", *xs[i + 1 :]],
        ]
    )
    return st.tuples(lists, spoil, st.integers(0, 20)).map(
        lambda t: t[1](t[0], t[2] % len(t[0])) if t[0] else t[0]
    )


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([4, 6]).flatmap(lambda v: st.tuples(st.just(v), _variants(v))))
def test_the_vectorised_check_agrees_with_the_item_by_item_one(case):
    """Same list, or same error, whether the vectorised check runs first or not at all."""
    version, items = case
    name = f"ipv{version}"
    fast = _checked(name, items, version)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(validation, "_canonical_text", lambda items, version: None)
        slow = _checked(name, items, version)
    assert fast == slow
    if isinstance(fast, CidrList):
        assert validation._canonical_text(items, version) in (None, fast.text)


# --- reading a canonical document without a string per CIDR ---------------------------------------


def _general(text):
    """`from_json` the general way: json.loads, then the item by item check where the vectorised one fails."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(document, "_from_canonical", lambda text: None)
        try:
            return Allowlist.from_json(text)
        except ValueError as exc:
            return str(exc)


@settings(max_examples=50, deadline=None)
@given(allowlists)
def test_a_canonical_document_is_read_without_json_loads_of_its_cidrs(allowlist):
    text = allowlist.to_json()
    fast = document._from_canonical(text)
    assert fast == allowlist == _general(text)
    assert document._from_canonical(text.encode()) == allowlist


def _altered(text: str) -> list[str]:
    """Documents that mean the same or nearly, but are not what to_json writes, or are broken."""
    out = [
        text.replace(",", ", ", 1),
        text.replace(":", ": "),
        text.replace('"ipv4":[', '"ipv4": ['),
        text.replace('"1', '"\\u0031', 1),
        text.replace('"ipv4":[', '"ipv4":["1.2.3.0/24",', 1),
        text.replace('"ipv6":[', '"ipv6":["::/0"', 1),
        text.replace('"ipv4":[', '"ipv4":["', 1),
        text.replace("]", "] ", 1),
        text.replace('"ipv4":[', '"ipv4":[""', 1),
        text.replace('"ipv4":[', '"ipv4":["1.2.3.0/24\\n",', 1),
        text.replace('"ipv4":[', '"ipv4":["1.2.3.0/24]",', 1),
        text.replace('","', '"\n,"', 1),
        text.replace('"session"', '"ipv4":[],"session"'),
        text[:-1],
        text + " ",
        text.replace('{"format"', '{"extra":1,"format"'),
    ]
    doc = json.loads(text)
    out.append(json.dumps(doc))
    out.append(
        json.dumps({**doc, "ipv4": list(reversed(doc["ipv4"]))}, sort_keys=True, separators=(",", ":"))
    )
    return out


@settings(max_examples=50, deadline=None)
@given(allowlists)
def test_anything_else_is_read_the_general_way(allowlist):
    for text in _altered(allowlist.to_json()):
        fast = document._from_canonical(text)
        if fast is not None:
            assert fast.to_json() == text
        assert (fast if fast is not None else _general(text)) == _general(text)
        result = _checked_document(text)
        assert result == _general(text)


def _checked_document(text):
    try:
        return Allowlist.from_json(text)
    except ValueError as exc:
        return str(exc)


_number_texts = st.lists(
    st.one_of(
        st.from_regex(r"\+92[0-9]{10}", fullmatch=True),
        st.sampled_from(["03001234567", "+0123", "+92300123456789012", "", " +923001234567"]),
        st.just("+923001234567\n+923001234568"),
    ),
    max_size=6,
)
_number_lists = st.one_of(
    _number_texts,
    _number_texts.map(sorted),
    _number_texts.map(lambda n: sorted(set(n))),
    st.lists(
        st.one_of(st.from_regex(r"\+92[0-9]{10}", fullmatch=True), st.sampled_from([7, None])), max_size=3
    ),
)


@settings(max_examples=200, deadline=None)
@given(_number_lists)
def test_the_numbers_check_agrees_with_the_number_by_number_one(numbers):
    def checked():
        try:
            return validation._check_msisdn({"indus": numbers})
        except (ValueError, TypeError) as exc:
            return str(exc)

    fast = checked()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(validation, "_numbers_ascend", lambda numbers: False)
        assert checked() == fast
