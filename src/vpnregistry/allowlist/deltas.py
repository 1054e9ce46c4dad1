"""Deltas between consecutive snapshots, made by the registry and applied by the sync client.

Pure Python without Django. A delta lists the entries removed from and added to each family's
list, so that old - removed + added == new exactly; the client then checks the result against the
published document's SHA-256, so a delta can never silently produce a list the registry did not
publish.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_left

from vpnregistry.allowlist.formats import Allowlist

FORMAT = "vpnregistry-delta/1"
FAMILIES = ("ipv4", "ipv6")


class DeltaError(ValueError):
    """A delta that does not belong to, or does not fit, the list it is applied to."""


def sort_key(cidr: str) -> tuple[int, int]:
    net = ipaddress.ip_network(cidr)
    return int(net.network_address), net.prefixlen


def _diff_sorted(before: tuple[str, ...], after: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(added, removed) between two lists in the published order (by `sort_key`, no repeats), in
    that order, by one walk over both. Equal texts are equal entries (the list's texts are
    canonical), so only where the lists differ is an entry parsed; two sets of a million strings
    cost a publication 150 MB, and this nothing beyond the answer."""
    added: list[str] = []
    removed: list[str] = []
    i = j = 0
    n, m = len(before), len(after)
    while i < n and j < m:
        a, b = before[i], after[j]
        if a == b:
            i += 1
            j += 1
        elif sort_key(a) < sort_key(b):
            removed.append(a)
            i += 1
        else:
            added.append(b)
            j += 1
    removed.extend(before[i:])
    added.extend(after[j:])
    return added, removed


def make_delta(old: Allowlist, new: Allowlist) -> dict:
    """What changed between two consecutive serials, entry by entry."""

    def change(before: tuple[str, ...], after: tuple[str, ...]) -> dict:
        added, removed = _diff_sorted(before, after)
        return {"added": added, "removed": removed}

    return {
        "format": FORMAT,
        "session": new.session,
        "from_serial": old.serial,
        "to_serial": new.serial,
        "generated_at": new.generated_at,
        **{family: change(getattr(old, family), getattr(new, family)) for family in FAMILIES},
    }


def _apply(entries: tuple[str, ...], removed: list[str], added: list[str], family: str) -> tuple[str, ...]:
    gone = set(removed)
    kept = [e for e in entries if e not in gone] if gone else list(entries)
    if len(kept) != len(entries) - len(gone):
        raise DeltaError(f"the delta removes {family} entries that the list held does not have")
    if not added:
        return tuple(kept)
    # The list is sorted: find each new entry's place by bisection (a few key computations each)
    # and splice them all in one pass, instead of re-sorting a million entries.
    merged: list[str] = []
    start = 0
    for key, entry in sorted((sort_key(a), a) for a in added):
        at = bisect_left(kept, key, lo=start, key=sort_key)
        if at < len(kept) and kept[at] == entry:
            raise DeltaError(f"the delta adds {entry}, which the list held has already")
        merged.extend(kept[start:at])
        merged.append(entry)
        start = at
    merged.extend(kept[start:])
    return tuple(merged)


def apply_delta(allowlist: Allowlist, delta: dict) -> Allowlist:
    """The list at the delta's serial; refuses a delta of another session or serial."""
    try:
        if delta.get("format") != FORMAT:
            raise DeltaError(f"not a delta (format {delta.get('format')!r})")
        if delta["session"] != allowlist.session or int(delta["from_serial"]) != allowlist.serial:
            raise DeltaError(
                f"the delta to serial {delta.get('to_serial')} does not follow serial {allowlist.serial} "
                f"of session {allowlist.session}"
            )
        families = {
            family: _apply(
                getattr(allowlist, family), delta[family]["removed"], delta[family]["added"], family
            )
            for family in FAMILIES
        }
        return Allowlist(
            session=allowlist.session,
            serial=int(delta["to_serial"]),
            generated_at=str(delta["generated_at"]),
            ipv4=families["ipv4"],
            ipv6=families["ipv6"],
            msisdn={},
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise DeltaError(f"the delta is malformed: missing or wrong {exc}") from None
    except ValueError as exc:
        if isinstance(exc, DeltaError):
            raise
        raise DeltaError(f"the delta holds something that is not a prefix: {exc}") from None
