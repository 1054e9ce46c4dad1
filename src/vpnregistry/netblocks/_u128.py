"""Exact 128-bit arithmetic on IPv6 addresses held as NumPy (hi, lo) uint64 pairs."""

from __future__ import annotations

import numpy as np

U64 = np.uint64
MAX64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def from_ints(values: list[int]) -> tuple[np.ndarray, np.ndarray]:
    hi = np.fromiter((v >> 64 for v in values), dtype=U64, count=len(values))
    lo = np.fromiter((v & 0xFFFFFFFFFFFFFFFF for v in values), dtype=U64, count=len(values))
    return hi, lo


def from_packed(packed: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(hi, lo) from the concatenation of 16-byte network-order addresses."""
    pairs = np.frombuffer(packed, dtype=">u8").reshape(-1, 2)
    return pairs[:, 0].astype(U64), pairs[:, 1].astype(U64)


def to_ints(hi: np.ndarray, lo: np.ndarray) -> list[int]:
    return [(h << 64) | v for h, v in zip(hi.tolist(), lo.tolist(), strict=True)]


def host_mask(plen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hi, lo) of the host part mask of prefix lengths 0..128."""
    plen = plen.astype(np.int64)
    hbits = np.clip(64 - plen, 0, 64).astype(U64)  # host bits in the high word
    lbits = np.clip(128 - plen, 0, 64).astype(U64)
    return _low_ones(hbits), _low_ones(lbits)


def _low_ones(bits: np.ndarray) -> np.ndarray:
    """2**bits - 1 for bits in 0..64, without overflowing the shift."""
    out = np.where(bits >= 64, MAX64, (np.left_shift(U64(1), np.minimum(bits, U64(63))) - U64(1)))
    return out.astype(U64)


def add_one(hi: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ovf, hi, lo) of value + 1; ovf marks 2**128."""
    carry = lo == MAX64
    nlo = lo + U64(1)
    nhi = hi + carry.astype(U64)
    ovf = carry & (hi == MAX64)
    return ovf, nhi, nlo


def sub_one(ovf: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """value - 1 of (ovf, hi, lo) exclusive ends (never zero)."""
    borrow = lo == U64(0)
    return np.where(ovf, MAX64, hi - borrow.astype(U64)), lo - U64(1)


def lexsort(hi: np.ndarray, lo: np.ndarray, ovf: np.ndarray | None = None) -> np.ndarray:
    keys = (lo, hi) if ovf is None else (lo, hi, ovf)
    return np.lexsort(keys)


def search_right(bhi: np.ndarray, blo: np.ndarray, qhi: np.ndarray, qlo: np.ndarray) -> np.ndarray:
    """For sorted boundaries (bhi, blo), the number of boundaries <= each query (searchsorted 'right').

    The high words narrow each query to the run of boundaries sharing its high word; a vectorised
    binary search over the low words settles the rest, exactly.
    """
    left = np.searchsorted(bhi, qhi, side="left")
    right = np.searchsorted(bhi, qhi, side="right")
    tie = np.flatnonzero(left < right)
    if len(tie):
        lo_i = left[tie]
        hi_i = right[tie]
        q = qlo[tie]
        while True:
            active = lo_i < hi_i
            if not active.any():
                break
            mid = (lo_i + hi_i) >> 1
            go_right = active & (blo[np.minimum(mid, len(blo) - 1)] <= q)
            go_left = active & ~go_right
            lo_i = np.where(go_right, mid + 1, lo_i)
            hi_i = np.where(go_left, mid, hi_i)
        right = right.copy()
        right[tie] = lo_i
        left = None
    return right
