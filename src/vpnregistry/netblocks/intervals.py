"""Interval sets over IPv4 and IPv6, vectorised with NumPy: algebra, overlap, diff (CIDRs: cidrs.py).

IPv4 intervals are half-open int64 [start, end) with end <= 2**32. IPv6 starts are (hi, lo) uint64
pairs and ends are exclusive (ovf, hi, lo) triples, ovf marking 2**128. The algebra itself runs once,
on int64: IPv4 values directly, IPv6 values through an exact rank compression of their endpoints.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from . import _u128
from .cidrs import range_to_cidrs, v4_cidrs, v6_cidrs
from .parse import Network, parse_prefix

__all__ = ["IntervalSet", "PrefixArrays", "diff", "overlaps", "range_to_cidrs"]

I64 = np.int64
U64 = np.uint64
_EMPTY_I = np.empty(0, I64)
_EMPTY_U = np.empty(0, U64)
_EMPTY_B = np.empty(0, bool)


# ---------------------------------------------------------------------------------------------------
# Prefixes as arrays


@dataclass(frozen=True)
class PrefixArrays:
    """A list of prefixes as arrays, per family, with each one's position in the original list."""

    v4_start: np.ndarray  # uint32
    v4_len: np.ndarray  # uint8
    v6_hi: np.ndarray  # uint64
    v6_lo: np.ndarray  # uint64
    v6_len: np.ndarray  # uint8
    v4_pos: np.ndarray  # int64 positions in the original sequence
    v6_pos: np.ndarray

    @classmethod
    def from_networks(cls, nets: Iterable[Network | str]) -> PrefixArrays:
        v4s: list[int] = []
        v4l: list[int] = []
        v4p: list[int] = []
        v6s: list[int] = []
        v6l: list[int] = []
        v6p: list[int] = []
        for i, net in enumerate(nets):
            if isinstance(net, str):
                net = parse_prefix(net)
            elif not isinstance(net, ipaddress.IPv4Network | ipaddress.IPv6Network):
                raise TypeError(f"expected a network or a string, got {type(net).__name__}")
            if net.version == 4:
                v4s.append(int(net.network_address))
                v4l.append(net.prefixlen)
                v4p.append(i)
            else:
                v6s.append(int(net.network_address))
                v6l.append(net.prefixlen)
                v6p.append(i)
        hi, lo = _u128.from_ints(v6s)
        return cls(
            np.array(v4s, np.uint32),
            np.array(v4l, np.uint8),
            hi,
            lo,
            np.array(v6l, np.uint8),
            np.array(v4p, I64),
            np.array(v6p, I64),
        )

    @classmethod
    def from_arrays(
        cls,
        v4_start: np.ndarray | None = None,
        v4_len: np.ndarray | None = None,
        v6_hi: np.ndarray | None = None,
        v6_lo: np.ndarray | None = None,
        v6_len: np.ndarray | None = None,
    ) -> PrefixArrays:
        """From arrays of network addresses and lengths (host bits must be clear; not checked)."""
        s4 = np.asarray(v4_start if v4_start is not None else [], np.uint32)
        l4 = np.asarray(v4_len if v4_len is not None else np.full(len(s4), 32), np.uint8)
        h6 = np.asarray(v6_hi if v6_hi is not None else [], U64)
        o6 = np.asarray(v6_lo if v6_lo is not None else [], U64)
        l6 = np.asarray(v6_len if v6_len is not None else np.full(len(h6), 128), np.uint8)
        return cls(s4, l4, h6, o6, l6, np.arange(len(s4), dtype=I64), np.arange(len(h6), dtype=I64) + len(s4))

    def __len__(self) -> int:
        return len(self.v4_start) + len(self.v6_hi)

    def v4_ranges(self) -> tuple[np.ndarray, np.ndarray]:
        s = self.v4_start.astype(I64)
        return s, s + np.left_shift(I64(1), 32 - self.v4_len.astype(I64))

    def v6_ranges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(start hi, start lo, end ovf, end hi, end lo), ends exclusive."""
        mh, ml = _u128.host_mask(self.v6_len)
        ovf, eh, el = _u128.add_one(self.v6_hi | mh, self.v6_lo | ml)
        return self.v6_hi, self.v6_lo, ovf, eh, el


# ---------------------------------------------------------------------------------------------------
# The algebra on int64 half-open intervals


def _normalise(s: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted, disjoint, non-adjacent intervals covering the same points."""
    if len(s) == 0:
        return _EMPTY_I, _EMPTY_I
    if int(e.max()) <= 1 << 32 and int(s.min()) >= 0:
        # Pack (start, length - 1) into one uint64 so that a plain (SIMD) sort orders the pairs.
        key = (s.astype(U64) << U64(32)) | (e - s - 1).astype(U64)
        key.sort()
        s = (key >> U64(32)).astype(I64)
        e = s + (key & U64(0xFFFFFFFF)).astype(I64) + 1
    else:
        order = np.argsort(s, kind="stable")
        s = s[order]
        e = e[order]
    e = np.maximum.accumulate(e)
    new = np.empty(len(s), bool)
    new[0] = True
    np.greater(s[1:], e[:-1], out=new[1:])
    first = np.flatnonzero(new)
    last = np.empty_like(first)
    last[:-1] = first[1:] - 1
    last[-1] = len(s) - 1
    return s[first], e[last]


def _inside(s: np.ndarray, e: np.ndarray, points: np.ndarray) -> np.ndarray:
    """For normalised intervals, whether each point is covered."""
    return np.searchsorted(s, points, side="right") > np.searchsorted(e, points, side="right")


def _combine(
    a: tuple[np.ndarray, np.ndarray],
    b: tuple[np.ndarray, np.ndarray],
    op: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    pts = np.unique(np.concatenate([a[0], a[1], b[0], b[1]]))
    if len(pts) == 0:
        return _EMPTY_I, _EMPTY_I
    r = op(_inside(*a, pts), _inside(*b, pts))
    prev = np.empty_like(r)
    prev[0] = False
    prev[1:] = r[:-1]
    return pts[r & ~prev], pts[~r & prev]


def _v6_rank_space(
    parts: list[tuple[np.ndarray, ...]],
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], list[tuple[np.ndarray, np.ndarray]]]:
    """Compress the endpoints of several IPv6 interval lists to int64 ranks, exactly."""
    sh = np.concatenate([p[0] for p in parts] + [p[3] for p in parts])
    sl = np.concatenate([p[1] for p in parts] + [p[4] for p in parts])
    so = np.concatenate([np.zeros(len(p[0]), bool) for p in parts] + [p[2] for p in parts])
    order = _lexsort128(sh, sl, so)
    sh, sl, so = sh[order], sl[order], so[order]
    uniq = np.ones(len(sh), bool)
    if len(sh) > 1:
        uniq[1:] = (sh[1:] != sh[:-1]) | (sl[1:] != sl[:-1]) | (so[1:] != so[:-1])
    rank_sorted = np.cumsum(uniq) - 1
    rank = np.empty(len(order), I64)
    rank[order] = rank_sorted
    table = (so[uniq], sh[uniq], sl[uniq])
    out = []
    n_starts = sum(len(p[0]) for p in parts)
    off_s = 0
    off_e = n_starts
    for p in parts:
        k = len(p[0])
        out.append((rank[off_s : off_s + k], rank[off_e : off_e + k]))
        off_s += k
        off_e += k
    return table, out


def _lexsort128(hi: np.ndarray, lo: np.ndarray, ovf: np.ndarray) -> np.ndarray:
    """Indices sorting (ovf, hi, lo): a fast sort on the low word, then stable sorts above it."""
    order = np.argsort(lo)
    order = order[np.argsort(hi[order], kind="stable")]
    if ovf.any():
        order = order[np.argsort(ovf[order], kind="stable")]
    return order


# ---------------------------------------------------------------------------------------------------
# The set


class IntervalSet:
    """An immutable set of IPv4 and IPv6 addresses, kept as normalised intervals per family."""

    __slots__ = ("_e4", "_s4", "_v6")

    def __init__(self) -> None:
        self._s4 = _EMPTY_I
        self._e4 = _EMPTY_I
        # (start hi, start lo, end ovf, end hi, end lo)
        self._v6: tuple[np.ndarray, ...] = (_EMPTY_U, _EMPTY_U, _EMPTY_B, _EMPTY_U, _EMPTY_U)

    # construction ----------------------------------------------------------------------------------

    @classmethod
    def _make(cls, s4: np.ndarray, e4: np.ndarray, v6: tuple[np.ndarray, ...]) -> IntervalSet:
        obj = cls.__new__(cls)
        obj._s4, obj._e4, obj._v6 = s4, e4, v6
        return obj

    @classmethod
    def from_prefixes(cls, prefixes: Iterable[Network | str] | PrefixArrays) -> IntervalSet:
        pa = prefixes if isinstance(prefixes, PrefixArrays) else PrefixArrays.from_networks(prefixes)
        s4, e4 = _normalise(*pa.v4_ranges())
        return cls._make(s4, e4, _normalise_v6(pa.v6_ranges()))

    @classmethod
    def from_cidr_arrays(
        cls,
        v4_start: np.ndarray | None = None,
        v4_len: np.ndarray | None = None,
        v6_hi: np.ndarray | None = None,
        v6_lo: np.ndarray | None = None,
        v6_len: np.ndarray | None = None,
    ) -> IntervalSet:
        return cls.from_prefixes(PrefixArrays.from_arrays(v4_start, v4_len, v6_hi, v6_lo, v6_len))

    @classmethod
    def from_ranges(
        cls,
        v4_first: np.ndarray | None = None,
        v4_last: np.ndarray | None = None,
        v6_first: tuple[np.ndarray, np.ndarray] | None = None,
        v6_last: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> IntervalSet:
        """From inclusive address ranges [first, last], in any order, overlapping or not: IPv4 as
        integer arrays, IPv6 as (hi, lo) pairs of uint64 arrays. A ValueError for a range that ends
        before it starts, or an IPv4 address beyond 2**32 - 1."""
        s4 = np.asarray(v4_first if v4_first is not None else [], I64)
        l4 = np.asarray(v4_last if v4_last is not None else [], I64)
        if len(s4) != len(l4):
            raise ValueError("as many IPv4 firsts as lasts are needed")
        if len(s4) and (int(s4.min()) < 0 or int(l4.max()) > 0xFFFFFFFF or bool((l4 < s4).any())):
            raise ValueError("an IPv4 range ends before it starts or lies outside the IPv4 space")
        sh, sl = (np.asarray(a, U64) for a in v6_first) if v6_first is not None else (_EMPTY_U, _EMPTY_U)
        lh, ll = (np.asarray(a, U64) for a in v6_last) if v6_last is not None else (_EMPTY_U, _EMPTY_U)
        if not len(sh) == len(sl) == len(lh) == len(ll):
            raise ValueError("as many IPv6 firsts as lasts are needed")
        if ((lh < sh) | ((lh == sh) & (ll < sl))).any():
            raise ValueError("an IPv6 range ends before it starts")
        s4, e4 = _normalise(s4, l4 + 1)
        return cls._make(s4, e4, _normalise_v6((sh, sl, *_u128.add_one(lh, ll))))

    # algebra ---------------------------------------------------------------------------------------

    def _binary(self, other: IntervalSet, op: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> IntervalSet:
        if not isinstance(other, IntervalSet):
            return NotImplemented
        s4, e4 = _combine((self._s4, self._e4), (other._s4, other._e4), op)
        table, ((as_, ae), (bs, be)) = _v6_rank_space([self._v6, other._v6])
        rs, re_ = _combine((as_, ae), (bs, be), op)
        so, sh, sl = table[0][rs], table[1][rs], table[2][rs]
        assert not so.any()
        v6 = (sh, sl, table[0][re_], table[1][re_], table[2][re_])
        return self._make(s4, e4, v6)

    def union(self, other: IntervalSet) -> IntervalSet:
        return self._binary(other, np.logical_or)

    def intersection(self, other: IntervalSet) -> IntervalSet:
        return self._binary(other, np.logical_and)

    def difference(self, other: IntervalSet) -> IntervalSet:
        return self._binary(other, lambda a, b: a & ~b)

    def symmetric_difference(self, other: IntervalSet) -> IntervalSet:
        return self._binary(other, np.logical_xor)

    __or__ = union
    __and__ = intersection
    __sub__ = difference
    __xor__ = symmetric_difference

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IntervalSet):
            return NotImplemented
        return (
            np.array_equal(self._s4, other._s4)
            and np.array_equal(self._e4, other._e4)
            and all(np.array_equal(a, b) for a, b in zip(self._v6, other._v6, strict=True))
        )

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        return bool(len(self._s4) or len(self._v6[0]))

    def __repr__(self) -> str:
        cidrs = self.to_cidrs()
        shown = ", ".join(str(c) for c in cidrs[:4]) + (", ..." if len(cidrs) > 4 else "")
        return f"IntervalSet([{shown}])"

    # queries ---------------------------------------------------------------------------------------

    def num_addresses(self) -> tuple[int, int]:
        """(IPv4 count, IPv6 count) of addresses in the set."""
        v4 = int((self._e4 - self._s4).sum())
        v6 = sum(last - first + 1 for first, last in self.ranges(6))
        return v4, v6

    def ranges(self, version: int) -> list[tuple[int, int]]:
        """Inclusive (first, last) integer ranges of one family, ascending."""
        if version == 4:
            return [(s, e - 1) for s, e in zip(self._s4.tolist(), (self._e4).tolist(), strict=True)]
        sh, sl, eo, eh, el = self._v6
        lh, ll = _u128.sub_one(eo, eh, el)
        return list(zip(_u128.to_ints(sh, sl), _u128.to_ints(lh, ll), strict=True))

    def contains_v4(self, addresses: np.ndarray) -> np.ndarray:
        """Whether each IPv4 address (integer array) is in the set."""
        return _inside(self._s4, self._e4, np.asarray(addresses).astype(I64, copy=False))

    def contains_v6(self, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
        """Whether each IPv6 address, given as (hi, lo) uint64 arrays, is in the set."""
        sh, sl, eo, eh, el = self._v6
        n_start = _u128.search_right(sh, sl, hi, lo)
        keep = ~eo
        n_end = _u128.search_right(eh[keep], el[keep], hi, lo)
        return n_start > n_end

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            item = parse_prefix(item)
        if isinstance(item, ipaddress.IPv4Address | ipaddress.IPv6Address):
            item = ipaddress.ip_network(item)
        if not isinstance(item, ipaddress.IPv4Network | ipaddress.IPv6Network):
            return False
        return not (IntervalSet.from_prefixes([item]) - self)

    # conversion ------------------------------------------------------------------------------------

    def cidr_arrays(self) -> PrefixArrays:
        """The minimal CIDR blocks covering the set, as arrays, ascending per family."""
        s4, l4 = v4_cidrs(self._s4, self._e4)
        h6, o6, l6 = v6_cidrs(*self._v6)
        return PrefixArrays.from_arrays(s4, l4, h6, o6, l6)

    def to_cidrs(self) -> list[Network]:
        """The minimal CIDR blocks covering the set: IPv4 then IPv6, each ascending."""
        pa = self.cidr_arrays()
        out: list[Network] = [
            ipaddress.IPv4Network((s, n))
            for s, n in zip(pa.v4_start.tolist(), pa.v4_len.tolist(), strict=True)
        ]
        out.extend(
            ipaddress.IPv6Network((v, n))
            for v, n in zip(_u128.to_ints(pa.v6_hi, pa.v6_lo), pa.v6_len.tolist(), strict=True)
        )
        return out


def _normalise_v6(v6: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    table, ((rs, re_),) = _v6_rank_space([v6])
    ns, ne = _normalise(rs, re_)
    return (table[1][ns], table[2][ns], table[0][ne], table[1][ne], table[2][ne])


# ---------------------------------------------------------------------------------------------------
# Member-level operations


def _as_arrays(x: Iterable[Network | str] | PrefixArrays) -> PrefixArrays:
    return x if isinstance(x, PrefixArrays) else PrefixArrays.from_networks(x)


def _start_in(
    a_s: np.ndarray, a_e: np.ndarray, b_s_sorted: np.ndarray, b_order: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j): member j of B (by sorted starts) starts inside member i of A."""
    lo = np.searchsorted(b_s_sorted, a_s, side="left")
    hi = np.searchsorted(b_s_sorted, a_e, side="left")
    counts = hi - lo
    i = np.repeat(np.arange(len(a_s), dtype=I64), counts)
    offsets = np.cumsum(counts) - counts
    k = np.arange(counts.sum(), dtype=I64) - np.repeat(offsets, counts) + np.repeat(lo, counts)
    return i, b_order[k]


def _pairs(a_s: np.ndarray, a_e: np.ndarray, b_s: np.ndarray, b_e: np.ndarray) -> np.ndarray:
    """All overlapping (i, j) of two lists of CIDR intervals (int64 half-open)."""
    # Two CIDRs overlap only when one contains the other, so one's start lies inside the other.
    bo = np.argsort(b_s, kind="stable")
    ao = np.argsort(a_s, kind="stable")
    i1, j1 = _start_in(a_s, a_e, b_s[bo], bo)
    j2, i2 = _start_in(b_s, b_e, a_s[ao], ao)
    pairs = np.unique(np.stack([np.concatenate([i1, i2]), np.concatenate([j1, j2])], axis=1), axis=0)
    return pairs.reshape(-1, 2)


def overlaps(
    a: Iterable[Network | str] | PrefixArrays, b: Iterable[Network | str] | PrefixArrays
) -> np.ndarray:
    """Which members of `a` overlap which members of `b`: an (n, 2) int64 array of index pairs, sorted."""
    pa, pb = _as_arrays(a), _as_arrays(b)
    a4, b4 = pa.v4_ranges(), pb.v4_ranges()
    p4 = _pairs(a4[0], a4[1], b4[0], b4[1])
    _table, ((as_, ae), (bs, be)) = _v6_rank_space([pa.v6_ranges(), pb.v6_ranges()])
    p6 = _pairs(as_, ae, bs, be)
    out = np.concatenate(
        [
            np.stack([pa.v4_pos[p4[:, 0]], pb.v4_pos[p4[:, 1]]], axis=1),
            np.stack([pa.v6_pos[p6[:, 0]], pb.v6_pos[p6[:, 1]]], axis=1),
        ]
    ).reshape(-1, 2)
    return out[np.lexsort((out[:, 1], out[:, 0]))] if len(out) else out.astype(I64)


def diff(
    old: Iterable[Network | str] | IntervalSet, new: Iterable[Network | str] | IntervalSet
) -> tuple[list[Network], list[Network]]:
    """(added, removed): the minimal CIDRs in `new` but not `old`, and in `old` but not `new`."""
    o = old if isinstance(old, IntervalSet) else IntervalSet.from_prefixes(old)
    n = new if isinstance(new, IntervalSet) else IntervalSet.from_prefixes(new)
    return (n - o).to_cidrs(), (o - n).to_cidrs()
