"""Bulk lookup indexes: membership (is an address covered?) and longest match with the prefix's id.

IPv4 uses a direct table over the /24s (the DIR-24 idea): one gather settles every /24 that is
entirely in or out, a second reads a 256-bit bitmap (membership) or steps over the few segments
inside the /24 (longest match). IPv6 uses a cache-resident sample of the sorted boundaries and an
exact vectorised binary search over (hi, lo) uint64 pairs. Queries are processed in chunks that
keep every temporary in cache; memory stays bounded however many addresses stream through.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from . import _u128
from .intervals import IntervalSet, PrefixArrays, _v6_rank_space
from .parse import Network

__all__ = ["LookupIndex", "MembershipIndex"]

I64 = np.int64
U32 = np.uint32
U64 = np.uint64
CHUNK = 1 << 16


# ---------------------------------------------------------------------------------------------------
# IPv6: exact search over sorted (hi, lo) boundaries


class _Search128:
    """searchsorted(side='right') over sorted 128-bit values, exactly, in three cache-friendly steps.

    Step one finds the block of 256 values by a direct table on the leading bits of the high word
    (plus at most two steps over the sample of block heads); steps two and three are branch-free
    binary searches over 16 sub-block heads, then over the 16 values of the sub-block. Queries
    whose high word ties a sampled one fall back to a plain binary search over (hi, lo).
    """

    def __init__(self, hi: np.ndarray, lo: np.ndarray) -> None:
        self.hi = np.ascontiguousarray(hi, U64)
        self.lo = np.ascontiguousarray(lo, U64)
        self.n = n = len(hi)
        size = max(256, -(-n // 256) * 256)
        top_value = np.iinfo(np.uint64).max
        hp = np.full(size, top_value, U64)
        lp = np.full(size, top_value, U64)
        hp[:n] = self.hi
        lp[:n] = self.lo
        self.flat_hi = hp
        self.flat_lo = lp
        self.heads = hp[::16].copy()  # first value of each sub-block of 16
        self.n_blocks = size // 256
        self.top = np.concatenate([hp[::256], [top_value] * 3])  # first value of each block of 256
        # Direct table: bucket of the high word's leading bits -> last block starting in an earlier bucket.
        self.base = self.top[0]
        span = int(self.top[self.n_blocks - 1]) - int(self.base)
        self.shift = max(0, span.bit_length() - 16)
        nb = (span >> self.shift) + 2
        buckets = ((self.top[: self.n_blocks] - self.base) >> U64(self.shift)).astype(I64)
        self.table = (np.searchsorted(buckets, np.arange(nb), side="left") - 1).astype(I64)
        self.n_buckets = nb

    def nbytes(self) -> int:
        return sum(
            a.nbytes for a in (self.hi, self.lo, self.flat_hi, self.flat_lo, self.heads, self.top, self.table)
        )

    def count_le(self, qhi: np.ndarray, qlo: np.ndarray) -> np.ndarray:
        """For each query, the number of values <= it."""
        k = len(qhi)
        if self.n == 0:
            return np.zeros(k, I64)
        below = qhi < self.base
        b = np.minimum((qhi - self.base) >> U64(self.shift), U64(self.n_buckets - 1)).astype(I64)
        b[below] = 0
        top = self.top
        j0 = self.table[b]
        for _ in range(2):
            j0 += top[j0 + 1] <= qhi
        more = np.flatnonzero(top[j0 + 1] <= qhi)
        if len(more):
            j0[more] = np.searchsorted(top, qhi[more], side="right") - 1
        j0 = np.where(below, -1, np.minimum(j0, self.n_blocks - 1))
        j0c = np.maximum(j0, 0)
        # Sub-block within the block: the last of its 16 heads <= qhi.
        lo_i = j0c * 16
        for step in (8, 4, 2, 1):
            lo_i += (self.heads[lo_i + step] <= qhi) * step
        tie = self.heads[lo_i] == qhi
        # Values within the sub-block <= (qhi, qlo).
        pos = lo_i * 16
        hi_arr, lo_arr = self.flat_hi, self.flat_lo
        for step in (8, 4, 2, 1):
            m = pos + (step - 1)
            vh = hi_arr[m]
            pos += ((vh < qhi) | ((vh == qhi) & (lo_arr[m] <= qlo))) * step
        vh = hi_arr[pos]
        pos += (vh < qhi) | ((vh == qhi) & (lo_arr[pos] <= qlo))
        pos = np.minimum(pos, self.n)
        pos[below] = 0
        redo = np.flatnonzero(tie & ~below)
        if len(redo):
            pos[redo] = _u128.search_right(self.hi, self.lo, qhi[redo], qlo[redo])
        return pos


class _Dir16:
    """Count of sorted uint32 values <= each query: a /16 table, then a few steps, for small sets.

    The table (256 KiB) and the values stay in cache; each /16 holds only a few values, so three
    vectorised steps settle nearly every query and np.searchsorted takes the rest.
    """

    def __init__(self, values: np.ndarray) -> None:
        self.values = np.concatenate([values.astype(I64), np.full(4, 1 << 32, I64)])
        self.n = len(values)
        firsts = np.arange(1 << 16, dtype=I64) << 16
        self.table = np.searchsorted(values.astype(I64), firsts, side="left").astype(np.int32)

    @property
    def nbytes(self) -> int:
        return self.values.nbytes + self.table.nbytes

    def count_le(self, q: np.ndarray) -> np.ndarray:
        qi = q.astype(I64)
        pos = self.table[q >> 16].astype(I64)
        vals = self.values
        for _ in range(3):
            pos += vals[pos] <= qi
        more = np.flatnonzero(vals[pos] <= qi)
        if len(more):
            pos[more] = np.searchsorted(vals[: self.n], qi[more], side="right")
        return pos


def _v6_queries(hi: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.ascontiguousarray(hi, U64), np.ascontiguousarray(lo, U64)


# ---------------------------------------------------------------------------------------------------
# Membership


class MembershipIndex:
    """Is an address covered by a set of prefixes? Built once, queried with integer arrays."""

    def __init__(
        self, prefixes: Iterable[Network | str] | PrefixArrays | IntervalSet, *, dir24: bool | None = None
    ) -> None:
        """`dir24` forces the /24 table on or off; by default it is used when the set is large."""
        iv = prefixes if isinstance(prefixes, IntervalSet) else IntervalSet.from_prefixes(prefixes)
        s, e = iv._s4, iv._e4
        self._bounds4 = _v4_bounds(s, e)
        self._small = len(self._bounds4) <= 1 << 16 if dir24 is None else not dir24
        if self._small:
            self._dir16 = _Dir16(self._bounds4)
        else:
            self._table, self._bits = _build_dir24_bitmap(s, e)
        # IPv6: the interleaved sorted boundaries; an address is covered when the count <= it is odd.
        sh, sl, eo, eh, el = iv._v6
        keep = ~eo
        bh = np.empty(len(sh) + int(keep.sum()), U64)
        bl = np.empty_like(bh)
        k = int(keep.sum())
        bh[0::2][: len(sh)] = sh
        bl[0::2][: len(sh)] = sl
        bh[1::2][:k] = eh[keep]
        bl[1::2][:k] = el[keep]
        self._search6 = _Search128(bh, bl)

    @property
    def nbytes(self) -> int:
        """Memory held by the index, in bytes."""
        total = self._bounds4.nbytes + self._search6.nbytes()
        if self._small:
            total += self._dir16.nbytes
        else:
            total += self._table.nbytes + self._bits.nbytes
        return total

    def contains_v4(self, addresses: np.ndarray) -> np.ndarray:
        """Whether each IPv4 address (uint32 array) is covered."""
        q = np.ascontiguousarray(addresses, U32)
        out = np.empty(len(q), bool)
        if self._small:
            for i in range(0, len(q), CHUNK):
                c = q[i : i + CHUNK]
                np.bitwise_and(self._dir16.count_le(c), 1, out=out[i : i + CHUNK], casting="unsafe")
            return out
        table, bits = self._table, self._bits
        a = np.empty(CHUNK, U32)
        b = np.empty(CHUNK, U32)
        for i in range(0, len(q), CHUNK):
            c = q[i : i + CHUNK]
            m = len(c)
            aa, bb = a[:m], b[:m]
            np.right_shift(c, 8, out=aa)
            np.take(table, aa, out=bb)  # first word of the /24's bitmap
            np.right_shift(c, 5, out=aa)
            np.bitwise_and(aa, 7, out=aa)
            np.add(bb, aa, out=bb)
            np.take(bits, bb, out=bb)
            np.bitwise_and(c, 31, out=aa)
            np.right_shift(bb, aa, out=bb)
            np.bitwise_and(bb, 1, out=bb)
            out[i : i + m] = bb
        return out

    def contains_v6(self, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
        """Whether each IPv6 address, as (hi, lo) uint64 arrays, is covered."""
        qh, ql = _v6_queries(hi, lo)
        out = np.empty(len(qh), bool)
        for i in range(0, len(qh), CHUNK):
            out[i : i + CHUNK] = self._search6.count_le(qh[i : i + CHUNK], ql[i : i + CHUNK]) & 1
        return out

    def stream_v4(self, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """contains_v4 over a stream of arrays, one result array per input array."""
        for chunk in chunks:
            yield self.contains_v4(chunk)

    def stream_v6(self, chunks: Iterable[tuple[np.ndarray, np.ndarray]]) -> Iterator[np.ndarray]:
        """contains_v6 over a stream of (hi, lo) array pairs, one result array per pair."""
        for hi, lo in chunks:
            yield self.contains_v6(hi, lo)


def _v4_bounds(s: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Interleaved [start, end, start, end, ...] as uint32; an end at 2**32 is left off."""
    b = np.empty(2 * len(s), I64)
    b[0::2] = s
    b[1::2] = e
    if len(b) and b[-1] == 1 << 32:
        b = b[:-1]
    return b.astype(U32)


def _build_dir24_bitmap(s: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The /24 table (first bitmap word of each /24) and the bitmaps (8 uint32 words per /24)."""
    s = s.astype(I64)
    e = e.astype(I64)
    # /24s wholly covered: [ceil(s / 256), floor(e / 256)).
    full_a = (s + 255) >> 8
    full_b = e >> 8
    run = full_a < full_b
    diff = np.zeros((1 << 24) + 1, np.int8)
    diff[full_a[run]] += 1
    diff[full_b[run]] -= 1
    full = np.cumsum(diff[:-1], dtype=np.int8).astype(bool)
    del diff
    # Pieces of intervals inside partly covered /24s.
    single = (s >> 8) == ((e - 1) >> 8)
    head = ~single & ((s & 255) != 0)
    tail = ~single & ((e & 255) != 0)
    ps = np.concatenate([s[single], s[head], (e[tail] >> 8) << 8])
    pe = np.concatenate([e[single], ((s[head] >> 8) + 1) << 8, e[tail]])
    partial = (pe - ps) < 256
    ps, pe = ps[partial], pe[partial]
    blocks = np.unique(ps >> 8)
    table = np.zeros(1 << 24, U32)
    table[full] = 8  # block 1: all ones
    table[blocks] = (np.arange(len(blocks), dtype=U32) + 2) * 8
    # Each piece sets bits [lo, hi) of its /24's 256-bit bitmap: word masks for all 8 words.
    blk = np.searchsorted(blocks, ps >> 8) + 2
    lo = (ps & 255)[:, None] - np.arange(0, 256, 32)[None, :]
    hi = (pe - ((ps >> 8) << 8))[:, None] - np.arange(0, 256, 32)[None, :]
    lo = np.clip(lo, 0, 32).astype(U64)
    hi = np.clip(hi, 0, 32).astype(U64)
    masks = ((U64(1) << hi) - U64(1)) & ~((U64(1) << lo) - U64(1))
    words = (blk[:, None] * 8 + np.arange(8)[None, :]).ravel()
    # Pieces never overlap, so summing the masks of a word is OR-ing them; float64 holds 32 bits exactly.
    n_words = (len(blocks) + 2) * 8
    acc = np.bincount(words, weights=masks.ravel().astype(np.float64), minlength=n_words)
    bits = acc.astype(U64).astype(U32)
    bits[8:16] = 0xFFFFFFFF
    return table, bits


# ---------------------------------------------------------------------------------------------------
# Longest match with ids


class LookupIndex:
    """For each address, the id of the longest prefix containing it (-1 when none).

    Ids default to each prefix's position in the input; when the same prefix is given twice, the
    first occurrence's id is used.
    """

    def __init__(
        self,
        prefixes: Iterable[Network | str] | PrefixArrays,
        ids: Iterable[int] | np.ndarray | None = None,
        *,
        dir24: bool | None = None,
    ) -> None:
        pa = prefixes if isinstance(prefixes, PrefixArrays) else PrefixArrays.from_networks(prefixes)
        all_ids = (
            np.arange(len(pa), dtype=I64)
            if ids is None
            else np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids, I64)
        )
        if len(all_ids) != len(pa):
            raise ValueError(f"{len(all_ids)} ids for {len(pa)} prefixes")
        # IPv4 segments
        s4, e4 = pa.v4_ranges()
        self._seg4, self._val4 = _paint(s4, e4, pa.v4_len.astype(I64), all_ids[pa.v4_pos], 1 << 32)
        self._small = len(self._seg4) <= 1 << 16 if dir24 is None else not dir24
        if self._small:
            self._dir16 = _Dir16(self._seg4)
        else:
            self._table = _segment_table(self._seg4)
        seg32 = self._seg4.astype(U32)
        self._seg4_u32 = np.concatenate([seg32, np.full(4, 0xFFFFFFFF, U32)])
        self._seg4_next_end = len(seg32)
        # IPv6 segments in rank space, mapped back to exact (hi, lo) starts.
        table, ((rs, re_),) = _v6_rank(pa.v6_ranges())
        seg, val = _paint(rs, re_, pa.v6_len.astype(I64), all_ids[pa.v6_pos], len(table[0]))
        has_ovf = len(table[0]) and table[0][-1]
        if has_ovf:
            keep = seg < len(table[0]) - 1
            seg, val = seg[keep], val[keep]
        self._search6 = (
            _Search128(table[1][seg], table[2][seg])
            if len(seg)
            else _Search128(np.zeros(0, U64), np.zeros(0, U64))
        )
        self._val6 = val

    @property
    def nbytes(self) -> int:
        total = self._seg4.nbytes + self._val4.nbytes + self._seg4_u32.nbytes
        total += self._search6.nbytes() + self._val6.nbytes
        total += self._dir16.nbytes if self._small else self._table.nbytes
        return total

    def lookup_v4(self, addresses: np.ndarray) -> np.ndarray:
        """Id of the longest matching prefix for each IPv4 address (uint32 array), -1 for none."""
        q = np.ascontiguousarray(addresses, U32)
        out = np.empty(len(q), I64)
        seg, val = self._seg4_u32, self._val4
        for i in range(0, len(q), CHUNK):
            c = q[i : i + CHUNK]
            if self._small:
                pos = self._dir16.count_le(c) - 1
            else:
                pos = self._table[c >> 8].astype(I64)  # the segment holding the /24's first address
                # Step over the segments that start inside the /24 before the address.
                for _ in range(3):
                    pos += seg[pos + 1] <= c
                more = np.flatnonzero(seg[pos + 1] <= c)
                if len(more):
                    pos[more] = np.searchsorted(seg[: self._seg4_next_end], c[more], side="right") - 1
            out[i : i + len(c)] = val[pos]
        return out

    def lookup_v6(self, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
        """Id of the longest matching prefix for each IPv6 address ((hi, lo) uint64 arrays), -1 for none."""
        qh, ql = _v6_queries(hi, lo)
        out = np.full(len(qh), -1, I64)
        if len(self._val6) == 0:
            return out
        for i in range(0, len(qh), CHUNK):
            pos = self._search6.count_le(qh[i : i + CHUNK], ql[i : i + CHUNK]) - 1
            out[i : i + len(pos)] = np.where(pos >= 0, self._val6[np.maximum(pos, 0)], -1)
        return out

    def stream_v4(self, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """lookup_v4 over a stream of arrays, one result array per input array."""
        for chunk in chunks:
            yield self.lookup_v4(chunk)

    def stream_v6(self, chunks: Iterable[tuple[np.ndarray, np.ndarray]]) -> Iterator[np.ndarray]:
        """lookup_v6 over a stream of (hi, lo) array pairs, one result array per pair."""
        for hi, lo in chunks:
            yield self.lookup_v6(hi, lo)


def _v6_rank(v6: tuple[np.ndarray, ...]):
    return _v6_rank_space([v6])


def _paint(s: np.ndarray, e: np.ndarray, plen: np.ndarray, ids: np.ndarray, top: int):
    """Disjoint segments [seg[i], seg[i+1]) labelled with the id of the longest prefix covering them.

    Starts at 0 and covers [0, top); label -1 where no prefix covers.
    """
    pts = np.unique(np.concatenate([np.zeros(1, I64), s, e]))
    pts = pts[pts < top]
    val = np.full(len(pts), -1, I64)
    if len(s):
        # First occurrence of each (start, length) wins.
        order = np.lexsort((np.arange(len(s)), plen, s))
        s, e, plen, ids = s[order], e[order], plen[order], ids[order]
        dup = np.zeros(len(s), bool)
        dup[1:] = (s[1:] == s[:-1]) & (plen[1:] == plen[:-1])
        s, e, plen, ids = s[~dup], e[~dup], plen[~dup], ids[~dup]
        lo = np.searchsorted(pts, s)
        hi = np.searchsorted(pts, e)  # e == top gives len(pts)
        # Shorter prefixes first, so that longer ones (inside them) paint over them.
        for length in np.unique(plen):
            m = np.flatnonzero(plen == length)
            counts = hi[m] - lo[m]
            idx = np.repeat(lo[m] - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
            val[idx] = np.repeat(ids[m], counts)
    # Merge neighbouring segments with the same label.
    keep = np.ones(len(pts), bool)
    keep[1:] = val[1:] != val[:-1]
    return pts[keep], val[keep]


def _segment_table(seg: np.ndarray) -> np.ndarray:
    """For each /24, the index of the segment containing its first address."""
    # Segment i holds the first addresses of the /24s from ceil(s_i / 256) up to ceil(s_i+1 / 256).
    first = (np.concatenate([seg, [1 << 32]]) + 255) >> 8
    return np.repeat(np.arange(len(seg), dtype=U32), np.diff(first))
