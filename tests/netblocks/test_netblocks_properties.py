"""Property tests: the vectorised engine against the standard library and brute force."""

import ipaddress
import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from vpnregistry.netblocks import (
    IntervalSet,
    LookupIndex,
    MembershipIndex,
    ParseError,
    _u128,
    aggregate,
    aggregate_text,
    diff,
    overlaps,
    parse_prefix,
    parse_text,
)
from vpnregistry.netblocks.textio import format_v4_cidrs, format_v6_cidrs

# ---------------------------------------------------------------------------------------------------
# Prefixes of both families, biased towards the edges of the space, nesting and adjacency.

V4_MAX = (1 << 32) - 1
V6_MAX = (1 << 128) - 1


def _network(version: int, value: int, length: int):
    bits = 32 if version == 4 else 128
    value &= ~((1 << (bits - length)) - 1) & ((1 << bits) - 1)
    cls = ipaddress.IPv4Network if version == 4 else ipaddress.IPv6Network
    return cls((value, length))


@st.composite
def v4_networks(draw, bases=None):
    base = (
        draw(st.sampled_from(bases))
        if bases
        else draw(st.sampled_from([0, V4_MAX, 0x0A000000, 0xC0A80000, 0x01020300, 0x7FFFFF00, 0x80000000]))
    )
    value = (base + draw(st.integers(-300, 300))) % (1 << 32)
    length = draw(st.one_of(st.integers(0, 32), st.integers(22, 32), st.integers(28, 32)))
    return _network(4, value, length)


@st.composite
def v6_networks(draw):
    base = draw(st.sampled_from([0, V6_MAX, 0x20010DB8 << 96, (0x20010DB8 << 96) | (1 << 64), 1 << 127]))
    value = (
        (base + draw(st.integers(-(1 << 66), 1 << 66))) % (1 << 128)
        if draw(st.booleans())
        else ((base + draw(st.integers(-300, 300))) % (1 << 128))
    )
    length = draw(st.one_of(st.integers(0, 128), st.integers(60, 66), st.integers(120, 128)))
    return _network(6, value, length)


networks = st.one_of(v4_networks(), v6_networks())
network_lists = st.lists(networks, max_size=25)


# ---------------------------------------------------------------------------------------------------
# A plain reference: inclusive integer ranges per family.


def ref_ranges(nets, version):
    rs = sorted((int(n.network_address), int(n.broadcast_address)) for n in nets if n.version == version)
    out = []
    for lo, hi in rs:
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def ref_cover(ranges, x):
    return any(lo <= x <= hi for lo, hi in ranges)


def ref_op(a, b, op):
    """Set operation on inclusive ranges by sweeping over all boundaries."""
    pts = sorted({p for lo, hi in a + b for p in (lo, hi + 1)})
    out = []
    for lo, nxt in itertools.pairwise(pts):
        if op(ref_cover(a, lo), ref_cover(b, lo)):
            if out and out[-1][1] + 1 == lo:
                out[-1] = (out[-1][0], nxt - 1)
            else:
                out.append((lo, nxt - 1))
    return out


def stdlib_cidrs(ranges, version):
    cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    return [n for lo, hi in ranges for n in ipaddress.summarize_address_range(cls(lo), cls(hi))]


# ---------------------------------------------------------------------------------------------------


@given(network_lists)
def test_aggregate_equals_collapse_addresses(nets):
    got = aggregate(nets)
    want = [
        *ipaddress.collapse_addresses([n for n in nets if n.version == 4]),
        *ipaddress.collapse_addresses([n for n in nets if n.version == 6]),
    ]
    assert got == want
    # From text as well, in any order, with the strict parser's view of every line.
    assert aggregate([str(n) for n in reversed(nets)]) == want


@given(network_lists)
def test_aggregation_is_minimal_and_exact(nets):
    got = aggregate(nets)
    for version in (4, 6):
        mine = [n for n in got if n.version == version]
        # Exact: the same addresses.
        assert ref_ranges(mine, version) == ref_ranges(nets, version)
        # Minimal: no two blocks overlap or could merge into their common parent.
        for a, b in itertools.pairwise(mine):
            assert a.broadcast_address < b.network_address
            if a.prefixlen == b.prefixlen and a.prefixlen > 0:
                assert a.supernet() != b.supernet()


@given(network_lists, network_lists)
def test_set_operations_agree_with_reference(a, b):
    sa, sb = IntervalSet.from_prefixes(a), IntervalSet.from_prefixes(b)
    ops = {
        "union": (sa | sb, lambda x, y: x or y),
        "intersection": (sa & sb, lambda x, y: x and y),
        "difference": (sa - sb, lambda x, y: x and not y),
        "symmetric": (sa ^ sb, lambda x, y: x != y),
    }
    for result, op in ops.values():
        for version in (4, 6):
            want = ref_op(ref_ranges(a, version), ref_ranges(b, version), op)
            assert result.ranges(version) == want
            assert [n for n in result.to_cidrs() if n.version == version] == stdlib_cidrs(want, version)


@given(network_lists, network_lists)
def test_diff_added_and_removed(old, new):
    added, removed = diff(old, new)
    so, sn = IntervalSet.from_prefixes(old), IntervalSet.from_prefixes(new)
    assert (so | IntervalSet.from_prefixes(added)) - IntervalSet.from_prefixes(removed) == sn
    assert added == (sn - so).to_cidrs()
    assert removed == (so - sn).to_cidrs()
    assert not (IntervalSet.from_prefixes(added) & so)
    assert not (IntervalSet.from_prefixes(removed) & sn)


@given(network_lists, network_lists)
def test_overlaps_agrees_with_brute_force(a, b):
    got = {tuple(p) for p in overlaps(a, b).tolist()}
    want = {
        (i, j) for i, x in enumerate(a) for j, y in enumerate(b) if x.version == y.version and x.overlaps(y)
    }
    assert got == want


def _queries(nets, extra):
    qs = {0, (1 << 32) - 1}
    for n in nets:
        for x in (int(n.network_address), int(n.broadcast_address)):
            qs.update({x - 1, x, x + 1})
    qs.update(extra)
    return qs


@given(network_lists, st.lists(st.integers(0, (1 << 128) - 1), max_size=20), st.booleans())
def test_lookups_agree_with_brute_force(nets, extra, dir24):
    member = MembershipIndex(nets, dir24=dir24)
    lookup = LookupIndex(nets, dir24=dir24)
    qs = _queries(nets, extra)
    q4 = sorted(x for x in qs if 0 <= x < 1 << 32)
    q6 = sorted(x % (1 << 128) for x in qs | {(1 << 128) - 1})
    got4 = member.contains_v4(np.array(q4, np.uint32)).tolist()
    ids4 = lookup.lookup_v4(np.array(q4, np.uint32)).tolist()
    h, lo = _u128.from_ints(q6)
    got6 = member.contains_v6(h, lo).tolist()
    ids6 = lookup.lookup_v6(h, lo).tolist()
    for version, queries, got, ids in ((4, q4, got4, ids4), (6, q6, got6, ids6)):
        cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
        for x, g, i in zip(queries, got, ids, strict=True):
            addr = cls(x)
            matches = [k for k, n in enumerate(nets) if n.version == version and addr in n]
            assert g == bool(matches)
            best = max(matches, key=lambda k: (nets[k].prefixlen, -k)) if matches else -1
            assert i == best


@given(network_lists)
def test_text_formatting_matches_ipaddress(nets):
    v4 = [n for n in nets if n.version == 4]
    v6 = [n for n in nets if n.version == 6]
    got4 = format_v4_cidrs(
        np.array([int(n.network_address) for n in v4], np.uint32),
        np.array([n.prefixlen for n in v4], np.uint8),
    )
    assert got4.decode() == "".join(f"{n}\n" for n in v4)
    h, lo = _u128.from_ints([int(n.network_address) for n in v6])
    got6 = format_v6_cidrs(h, lo, np.array([n.prefixlen for n in v6], np.uint8))
    assert got6.decode() == "".join(f"{n}\n" for n in v6)


_ALPHABET = "0123456789.:/abcdefABCDEF x%#-"


@st.composite
def lines(draw):
    if draw(st.booleans()):
        return draw(st.text(alphabet=_ALPHABET, max_size=24))
    text = str(draw(networks))
    if draw(st.booleans()):
        text = text.split("/")[0] if text.endswith(("/32", "/128")) else text
    # Mutate: drop, double or swap a character, or pad with spaces.
    op = draw(st.sampled_from(["none", "drop", "dup", "swap", "pad", "upper", "zero"]))
    i = draw(st.integers(0, max(0, len(text) - 1)))
    if op == "drop":
        text = text[:i] + text[i + 1 :]
    elif op == "dup":
        text = text[:i] + text[i] + text[i:]
    elif op == "swap" and i + 1 < len(text):
        text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    elif op == "pad":
        text = f" {text}\t"
    elif op == "upper":
        text = text.upper()
    elif op == "zero":
        text = text[:i] + "0" + text[i:]
    return text


@given(st.lists(lines(), max_size=60))
def test_vectorised_text_parsing_agrees_with_the_strict_parser(texts):
    texts = [t.replace("\n", "") for t in texts]
    # Enough lines to switch the IPv6 scanner on, too.
    parsed = parse_text("\n".join(texts * 3).encode())
    want = []
    bad_lines = []
    for rep in range(3):
        for k, t in enumerate(texts):
            body = t.split("#", 1)[0].strip()
            if not body:
                continue
            try:
                want.append(parse_prefix(body))
            except ParseError:
                bad_lines.append(rep * len(texts) + k + 1)
    assert [e.line for e in parsed.errors] == bad_lines
    got = IntervalSet.from_prefixes(parsed.prefixes)
    assert got == IntervalSet.from_prefixes(want)
    out, errors = aggregate_text("\n".join(texts).encode())
    if not errors:
        assert out.decode() == "".join(f"{n}\n" for n in aggregate(want))


@given(networks)
def test_parse_prefix_round_trips_and_agrees_with_ipaddress(net):
    assert parse_prefix(str(net)) == net
    assert parse_prefix(str(net).upper()) == net
    assert ipaddress.ip_network(str(net), strict=True) == net
