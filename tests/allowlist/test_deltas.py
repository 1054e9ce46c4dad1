"""Deltas: made by the registry, applied by the client; old - removed + added == new, always."""

from __future__ import annotations

import ipaddress
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vpnregistry.allowlist.deltas import DeltaError, apply_delta, make_delta, sort_key
from vpnregistry.allowlist.formats import Allowlist

SESSION = "0b5e3f4c-1f7e-4a8e-9c6e-2d7f1b2a3c4d"
POOL_V4 = [str(n) for n in ipaddress.ip_network("14.1.0.0/20").subnets(new_prefix=26)]
POOL_V6 = [str(n) for n in ipaddress.ip_network("2001:dd8:1c::/52").subnets(new_prefix=60)]


def allowlist(serial, v4, v6):
    return Allowlist(
        session=SESSION,
        serial=serial,
        generated_at=f"2026-11-28T00:00:{serial % 60:02d}Z",
        ipv4=tuple(sorted(set(v4), key=sort_key)),
        ipv6=tuple(sorted(set(v6), key=sort_key)),
    )


subsets_v4 = st.lists(st.sampled_from(POOL_V4), max_size=60)
subsets_v6 = st.lists(st.sampled_from(POOL_V6), max_size=30)


@settings(max_examples=150, deadline=None)
@given(subsets_v4, subsets_v6, subsets_v4, subsets_v6)
def test_apply_of_make_is_the_new_list(a4, a6, b4, b6):
    old, new = allowlist(1, a4, a6), allowlist(2, b4, b6)
    result = apply_delta(old, make_delta(old, new))
    assert result == Allowlist(
        session=SESSION, serial=2, generated_at=new.generated_at, ipv4=new.ipv4, ipv6=new.ipv6
    )


# Prefixes of every length from /20 to /26 inside one block: many share a first address.
POOL_NESTED = [
    str(n) for length in range(20, 27) for n in ipaddress.ip_network("14.1.0.0/20").subnets(new_prefix=length)
][:200]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(POOL_NESTED), max_size=80), st.lists(st.sampled_from(POOL_NESTED), max_size=80)
)
def test_the_walk_over_both_lists_finds_what_sets_would(a, b):
    old, new = allowlist(1, a, []), allowlist(2, b, [])
    delta = make_delta(old, new)["ipv4"]
    assert delta["added"] == sorted(set(new.ipv4) - set(old.ipv4), key=sort_key)
    assert delta["removed"] == sorted(set(old.ipv4) - set(new.ipv4), key=sort_key)


POOL_LONG = [f"14.{i // 256}.{i % 256}.0/26" for i in range(20000)]


@pytest.mark.parametrize("seed", range(8))
def test_long_lists_with_a_few_changes(seed):
    """Lists long enough that runs of equal lines are skipped in doubling steps."""
    rng = random.Random(seed)
    changes = rng.choice([0, 1, 3, 40])
    old = rng.sample(POOL_LONG, 6000)
    new = set(old) - set(rng.sample(old, changes)) | set(rng.sample(POOL_LONG, changes))
    a, b = allowlist(1, old, []), allowlist(2, new, [])
    delta = make_delta(a, b)["ipv4"]
    assert delta["added"] == sorted(set(b.ipv4) - set(a.ipv4), key=sort_key)
    assert delta["removed"] == sorted(set(a.ipv4) - set(b.ipv4), key=sort_key)


def test_delta_names_only_what_changed():
    old = allowlist(1, POOL_V4[:3], [])
    new = allowlist(2, POOL_V4[1:4], POOL_V6[:1])
    delta = make_delta(old, new)
    assert delta["ipv4"] == {"added": [POOL_V4[3]], "removed": [POOL_V4[0]]}
    assert delta["ipv6"] == {"added": [POOL_V6[0]], "removed": []}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(from_serial=7), "does not follow"),
        (lambda d: d.update(session="x"), "does not follow"),
        (lambda d: d.update(format="other"), "not a delta"),
        (lambda d: d["ipv4"].update(removed=["9.9.9.0/24"]), "does not have"),
        (lambda d: d["ipv4"].update(added=[POOL_V4[1]]), "already"),
        (lambda d: d["ipv4"].update(added=["not a prefix"]), "not a prefix"),
        (lambda d: d.pop("ipv6"), "malformed"),
    ],
)
def test_a_delta_that_does_not_fit_is_refused(change, message):
    old = allowlist(1, POOL_V4[:3], [])
    delta = make_delta(old, allowlist(2, POOL_V4[:2], []))
    change(delta)
    with pytest.raises(DeltaError, match=message):
        apply_delta(old, delta)
