"""Deltas between consecutive snapshots, made by the registry and applied by the sync client.

Pure Python without Django. A delta lists the entries removed from and added to each family's
list, so that old - removed + added == new exactly; the client then checks the result against the
published document's SHA-256, so a delta can never silently produce a list the registry did not
publish.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_left

from vpnregistry.allowlist.formats import Allowlist, CidrList

FORMAT = "vpnregistry-delta/1"
FAMILIES = ("ipv4", "ipv6")


class DeltaError(ValueError):
    """A delta that does not belong to, or does not fit, the list it is applied to."""


def sort_key(cidr: str) -> tuple[int, int]:
    net = ipaddress.ip_network(cidr)
    return int(net.network_address), net.prefixlen


def _common_length(a: str, p: int, b: str, q: int) -> int:
    """The length of the common beginning of a[p:] and b[q:], by comparing slices that double in
    length while they agree, then halving: memcmp speed, and nothing held beyond one slice."""
    n = min(len(a) - p, len(b) - q)
    done, step = 0, 4096
    while done < n:
        k = min(step, n - done)
        if a[p + done : p + done + k] == b[q + done : q + done + k]:
            done += k
            step *= 2
            continue
        end = done + k  # they differ somewhere in [done, end)
        while end - done > 64:
            mid = (done + end) // 2
            if a[p + done : p + mid] == b[q + done : q + mid]:
                done = mid
            else:
                end = mid
        while done < end and a[p + done] == b[q + done]:
            done += 1
        return done
    return n


def _diff_sorted(before: str, after: str) -> tuple[list[str], list[str]]:
    """(added, removed) between two lists' texts (a CIDR a line, in the published order, no repeats),
    in that order. The texts are mostly the same: runs of equal lines are skipped by comparing the
    texts themselves, and only the lines where they differ are parsed and ordered. Two sets of a
    million strings (as this was once done) cost a publication 150 MB at its peak; this costs
    nothing beyond the answer."""
    added: list[str] = []
    removed: list[str] = []
    p = q = 0
    n, m = len(before), len(after)
    while p < n and q < m:
        common = _common_length(before, p, after, q)
        cut = before.rfind("\n", p, p + common) + 1  # the end of the last whole line in common
        if cut > p:
            q += cut - p
            p = cut
            continue
        end_a, end_b = before.index("\n", p), after.index("\n", q)
        a, b = before[p:end_a], after[q:end_b]
        if sort_key(a) < sort_key(b):
            removed.append(a)
            p = end_a + 1
        else:
            added.append(b)
            q = end_b + 1
    removed.extend(before[p:].splitlines())
    added.extend(after[q:].splitlines())
    return added, removed


def make_delta(old: Allowlist, new: Allowlist) -> dict:
    """What changed between two consecutive serials, entry by entry."""

    def change(before, after) -> dict:
        added, removed = _diff_sorted(CidrList(before).text, CidrList(after).text)
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
