"""Minimal CIDR blocks of address ranges: one range in Python integers, or many normalised intervals
at once with NumPy (IPv4 as int64 half-open intervals, IPv6 as (hi, lo) starts and (ovf, hi, lo) ends)."""

from __future__ import annotations

import numpy as np

from . import _u128

__all__ = ["range_to_cidrs", "v4_cidrs", "v6_cidrs"]

I64 = np.int64
U64 = np.uint64
_EMPTY_U = np.empty(0, U64)


def range_to_cidrs(first: int, last: int, bits: int) -> list[tuple[int, int]]:
    """The minimal (start, prefix length) blocks covering [first, last] in a `bits`-wide family."""
    out = []
    while first <= last:
        size_bits = (first & -first).bit_length() - 1 if first else bits
        span_bits = (last - first + 1).bit_length() - 1
        step = min(size_bits, span_bits)
        out.append((first, bits - step))
        first += 1 << step
    return out


def _floor_log2(x: np.ndarray) -> np.ndarray:
    """floor(log2(x)) for positive int64 x below 2**53 (exact through float64)."""
    return (np.frexp(x.astype(np.float64))[1] - 1).astype(I64)


def v4_cidrs(s: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimal CIDRs of normalised half-open IPv4 intervals: (start uint32, length uint8), ascending."""
    starts: list[np.ndarray] = []
    lens: list[np.ndarray] = []
    s = s.astype(I64, copy=True)
    e = e.astype(I64, copy=False)
    while len(s):
        # Each round takes, from every unfinished interval, the largest aligned block at its start.
        align = np.where(s == 0, I64(32), _floor_log2(np.where(s == 0, 1, s & -s)))
        step = np.minimum(align, _floor_log2(e - s))
        starts.append(s)
        lens.append(32 - step)
        s = s + np.left_shift(I64(1), step)
        more = s < e
        s, e = s[more], e[more]
    if not starts:
        return np.empty(0, np.uint32), np.empty(0, np.uint8)
    if len(starts) == 1:
        return starts[0].astype(np.uint32), lens[0].astype(np.uint8)
    allstarts = np.concatenate(starts)
    order = np.argsort(allstarts, kind="stable")
    return allstarts[order].astype(np.uint32), np.concatenate(lens)[order].astype(np.uint8)


def v6_cidrs(
    sh: np.ndarray, sl: np.ndarray, eo: np.ndarray, eh: np.ndarray, el: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimal CIDRs of normalised IPv6 intervals: (hi, lo, length), ascending.

    An interval that is already one aligned block (the common case) is converted with array
    arithmetic; the others are split exactly with Python integers.
    """
    n = len(sh)
    if n == 0:
        return _EMPTY_U, _EMPTY_U, np.empty(0, np.uint8)
    # size = end - start, exact when the end does not overflow
    borrow = (el < sl).astype(U64)
    zh = eh - sh - borrow
    zl = el - sl
    pow2_h = (zl == 0) & (zh != 0) & ((zh & (zh - U64(1))) == 0)
    pow2_l = (zh == 0) & (zl != 0) & ((zl & (zl - U64(1))) == 0)
    aligned_l = pow2_l & ((sl & (zl - U64(1))) == 0)
    aligned_h = pow2_h & (sl == 0) & ((sh & (zh - U64(1))) == 0)
    single = ~eo & (aligned_l | aligned_h)
    plen = np.zeros(n, np.int64)
    logl = np.frexp(zl.astype(np.float64))[1] - 1
    logh = np.frexp(zh.astype(np.float64))[1] - 1
    plen = np.where(aligned_l, 128 - logl, 64 - logh)
    if single.all():
        return sh, sl, plen.astype(np.uint8)
    rest = np.flatnonzero(~single)
    firsts = _u128.to_ints(sh[rest], sl[rest])
    lh, ll = _u128.sub_one(eo[rest], eh[rest], el[rest])
    lasts = _u128.to_ints(lh, ll)
    extra = [blk for f, la in zip(firsts, lasts, strict=True) for blk in range_to_cidrs(f, la, 128)]
    xh, xl = _u128.from_ints([b[0] for b in extra])
    xn = np.array([b[1] for b in extra], np.int64)
    keep = np.flatnonzero(single)
    ah = np.concatenate([sh[keep], xh])
    al = np.concatenate([sl[keep], xl])
    an = np.concatenate([plen[keep], xn])
    order = np.lexsort((al, ah))
    return ah[order], al[order], an[order].astype(np.uint8)
