"""Vectorised reading and writing of address and prefix lists as text, one value a line.

Parsing millions of dotted quads one line at a time in Python is the bottleneck of every text-in
job, so canonical IPv4 lines ("a.b.c.d" or "a.b.c.d/n") are parsed with NumPy over the bytes of the
whole buffer. Every other line (IPv6, whitespace, comments, anything invalid) goes through the
strict Python parser, which also words the error. Both paths accept exactly the same IPv4 text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Scan", "format_v4_cidrs", "format_v6_cidrs", "parse_hex128", "scan_ipv4", "split_lines"]

I64 = np.int64
_NL, _DOT, _SLASH, _CR = 10, 46, 47, 13


@dataclass
class Scan:
    """The canonical IPv4 lines of a buffer, and the positions of all other non-empty lines."""

    addr: np.ndarray  # uint32, one per canonical line, in line order
    plen: np.ndarray  # uint8 (32 when no "/n" was given)
    slash: np.ndarray  # bool: the line had "/n"
    good_line: np.ndarray  # int64 line numbers (0-based) of canonical lines
    other_line: np.ndarray  # int64 line numbers (0-based) of the other non-empty lines
    line_start: np.ndarray  # int64 byte offset of each line
    line_end: np.ndarray  # int64 byte offset of each line's newline
    n_lines: int


_CHUNK = 1 << 18  # bytes of text per vectorised pass: small enough that temporaries stay in cache


def line_bounds(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) byte offsets of every line; a final newline does not start another line."""
    nl = np.flatnonzero(np.frombuffer(data, np.uint8) == _NL)
    starts = np.concatenate([np.zeros(1, np.int64), nl + 1])
    ends = np.concatenate([nl, np.array([len(data)], np.int64)])
    if data.endswith(b"\n") or not data:
        starts, ends = starts[:-1], ends[:-1]
    return starts, ends


def scan_ipv4(data: bytes | bytearray | memoryview, skip_lines: np.ndarray | None = None) -> Scan:
    """Find and parse the canonical IPv4 address/prefix lines of `data`, vectorised.

    Lines listed in `skip_lines` (already parsed by another scanner) are neither parsed nor
    reported as other lines.
    """
    data = bytes(data) if not isinstance(data, bytes) else data
    if skip_lines is not None and len(skip_lines):
        starts, ends = line_bounds(data)
        keep = np.ones(len(starts), bool)
        keep[skip_lines] = False
        kept = np.flatnonzero(keep)
        sub = b"\n".join([data[a:b] for a, b in zip(starts[kept].tolist(), ends[kept].tolist(), strict=True)])
        inner = scan_ipv4(sub + b"\n") if len(kept) else scan_ipv4(b"")
        return Scan(
            addr=inner.addr,
            plen=inner.plen,
            slash=inner.slash,
            good_line=kept[inner.good_line],
            other_line=kept[inner.other_line],
            line_start=starts,
            line_end=ends,
            n_lines=len(starts),
        )
    parts: list[tuple[np.ndarray, ...]] = []
    pos = 0
    n = len(data)
    lines_before = 0
    while pos < n or not parts:
        cut = n if n - pos <= _CHUNK else data.rfind(b"\n", pos, pos + _CHUNK) + 1
        if cut <= pos:  # a single line longer than the chunk
            cut = data.find(b"\n", pos + _CHUNK)
            cut = n if cut < 0 else cut + 1
        res = _scan_chunk(data[pos:cut])
        addr, plen, slash, good, other, ls, le, n_lines = res
        parts.append((addr, plen, slash, good + lines_before, other + lines_before, ls + pos, le + pos))
        lines_before += n_lines
        pos = cut
        if pos >= n:
            break
    cat = [np.concatenate([p[i] for p in parts]) for i in range(7)]
    return Scan(*cat, n_lines=lines_before)


def _scan_chunk(data: bytes) -> tuple:
    n = len(data)
    buf = np.empty(n + 2, np.uint8)
    buf[0] = _NL
    buf[1:-1] = np.frombuffer(data, np.uint8)
    buf[-1] = _NL
    d = buf - np.uint8(48)
    dig = d < 10
    # Every non-digit byte, in order; a line's separators are the entries just before its newline.
    sep = np.flatnonzero(~dig)
    sep_ch = buf[sep]
    nl_at = np.flatnonzero(sep_ch == _NL)
    n_lines = len(nl_at) - 1
    if data.endswith(b"\n"):
        n_lines -= 1  # the final newline ends the last line; it does not start another
    prev = nl_at[:n_lines]
    cur = nl_at[1 : n_lines + 1]
    ls = sep[prev] + 1
    le = sep[cur]
    # Value of the (up to three) digits ending at each byte.
    dd = d.astype(np.uint16)
    dd *= dig
    v3 = dd.copy()
    v3[1:] += dd[:-1] * np.uint16(10)
    v3[2:] += dd[:-2] * np.uint16(100) * dig[1:-1]

    # Canonical: "a.b.c.d" (4 separators counting the newline) or "a.b.c.d/n" (5).
    count = cur - prev
    slash = (count == 5) & (sep_ch[np.minimum(prev + 4, len(sep) - 1)] == _SLASH)
    ok = (count == 4) | slash
    sep_p = np.concatenate([sep, np.full(6, sep[-1], sep.dtype)])
    ch_p = np.concatenate([sep_ch, np.zeros(6, np.uint8)])
    q = [sep_p[prev + k] for k in range(6)]
    ok &= (ch_p[prev + 1] == _DOT) & (ch_p[prev + 2] == _DOT) & (ch_p[prev + 3] == _DOT)
    vals = []
    for k in range(5):
        flen = q[k + 1] - q[k] - 1
        good = (flen >= 1) & (flen <= 3) & ((flen == 1) | (d[np.minimum(q[k] + 1, n + 1)] != 0))
        ok &= good if k < 4 else (good | ~slash)
        vals.append(v3[np.maximum(q[k + 1] - 1, 0)].astype(np.uint32))
    a, b, c, dl, length = vals
    ok &= (a | b | c | dl) <= 255
    plen = np.where(slash, length, np.uint32(32))
    ok &= plen <= 32
    addr = (a << 24) | (b << 16) | (c << 8) | dl
    host = (np.left_shift(np.uint64(1), (32 - plen).astype(np.uint64)) - np.uint64(1)).astype(np.uint32)
    ok &= (addr & host) == 0  # host bits set: the Python parser words that error
    nonempty = le > ls
    ok &= nonempty
    return (
        addr[ok],
        plen[ok].astype(np.uint8),
        slash[ok],
        np.flatnonzero(ok),
        np.flatnonzero(nonempty & ~ok),
        ls - 1,  # offsets into `data`, not the framed buffer
        le - 1,
        n_lines,
    )


_HEX = np.full(256, 255, np.uint8)
for _c in b"0123456789":
    _HEX[_c] = _c - 48
for _c in b"abcdef":
    _HEX[_c] = _c - 87
for _c in b"ABCDEF":
    _HEX[_c] = _c - 55
_COLON = 58


@dataclass
class Scan6:
    """The plain IPv6 lines of a buffer (hex groups, '::', optional '/n'), parsed."""

    hi: np.ndarray  # uint64
    lo: np.ndarray  # uint64
    plen: np.ndarray  # uint8
    good_line: np.ndarray  # int64 line numbers (0-based)


def scan_ipv6(data: bytes) -> Scan6:
    """Find and parse the plain IPv6 lines of `data` (no embedded IPv4, no zone), vectorised.

    Host bits and IPv4-mapped addresses are not judged here; the caller sends those lines on to the
    strict parser.
    """
    parts = []
    pos = 0
    n = len(data)
    lines_before = 0
    while True:
        cut = n if n - pos <= _CHUNK else data.rfind(b"\n", pos, pos + _CHUNK) + 1
        if cut <= pos:
            cut = data.find(b"\n", pos + _CHUNK)
            cut = n if cut < 0 else cut + 1
        hi, lo, plen, good, n_lines = _scan6_chunk(data[pos:cut])
        parts.append((hi, lo, plen, good + lines_before))
        lines_before += n_lines
        pos = cut
        if pos >= n:
            break
    return Scan6(*(np.concatenate([p[i] for p in parts]) for i in range(4)))


def _scan6_chunk(data: bytes) -> tuple:
    x, sep, ch, nl_at, n_lines = _frame6(data)
    if n_lines == 0:
        empty = (np.empty(0, np.uint64), np.empty(0, np.uint64), np.empty(0, np.uint8), np.empty(0, np.int64))
        return (*empty, n_lines)
    prev = nl_at[:n_lines]
    cur = nl_at[1 : n_lines + 1]
    # Token k is the run of hex digits just before separator k.
    tlen = np.zeros(len(sep), np.int64)
    tlen[1:] = sep[1:] - sep[:-1] - 1
    n_empty = np.cumsum(tlen == 0)
    slash = ch[cur - 1] == _SLASH
    a_end = np.where(slash, cur - 1, cur)  # separator ending the last address token
    ok = _shape6(ch, tlen, n_empty, prev, a_end)
    len_ok, value = _length6(x, sep[cur], tlen[cur])
    ok &= ~slash | len_ok
    plen = np.where(slash, value, 128)
    hi, lo = _groups6(x, sep, tlen, n_empty, nl_at, prev, cur, a_end)
    ok &= cur - prev >= 1
    good = np.flatnonzero(ok)
    return hi[good], lo[good], plen[good].astype(np.uint8), good.astype(np.int64), n_lines


def _frame6(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """The chunk between newlines, read as (hex digit values, 255 for any other byte; the separators
    (non-hex bytes): offsets, then bytes; which separators are newlines, from the one before the
    first line; the number of lines)."""
    pad = 4
    buf = np.empty(len(data) + pad + 1, np.uint8)
    buf[:pad] = _NL
    buf[pad:-1] = np.frombuffer(data, np.uint8)
    buf[-1] = _NL
    x = _HEX[buf]
    ishex = x < 16
    sep = np.flatnonzero(~ishex)
    ch = buf[sep]
    nl_at = np.flatnonzero(ch == _NL)[pad - 1 :]
    n_lines = len(nl_at) - 1
    if data.endswith(b"\n") or not data:
        n_lines -= 1
    return x, sep, ch, nl_at, max(n_lines, 0)


def _shape6(
    ch: np.ndarray, tlen: np.ndarray, n_empty: np.ndarray, prev: np.ndarray, a_end: np.ndarray
) -> np.ndarray:
    """Whether each line's address is hex groups of at most four digits between colons, eight of them
    or fewer with one '::' (which the count of empty tokens tells apart from a stray colon)."""
    not_colon = np.cumsum(ch != _COLON)
    n_long = np.cumsum(tlen > 4)
    t = a_end - prev  # address tokens
    ok = (t >= 3) & (not_colon[a_end - 1] - not_colon[prev] == 0) & (n_long[a_end] - n_long[prev] == 0)
    e = n_empty[a_end] - n_empty[prev]
    first_e = tlen[prev + 1] == 0
    second_e = tlen[np.minimum(prev + 2, len(tlen) - 1)] == 0
    last_e = tlen[a_end] == 0
    penult_e = tlen[a_end - 1] == 0
    shape = (
        ((e == 0) & (t == 8))
        | ((e == 1) & ~first_e & ~last_e & (t <= 8))
        | ((e == 2) & (t <= 9) & ((first_e & second_e & ~last_e) | (last_e & penult_e & ~first_e)))
        | ((e == 3) & (t == 3))
    )
    return ok & shape


def _length6(x: np.ndarray, end: np.ndarray, ln: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(valid, value) of the length after '/' ending at each `end` with `ln` characters: 1 to 3
    decimal digits, no leading zero, at most 128."""
    d1 = x[end - 1].astype(np.int64)
    d2 = x[end - 2].astype(np.int64)
    d3 = x[end - 3].astype(np.int64)
    dec = (d1 < 10) & ((ln < 2) | (d2 < 10)) & ((ln < 3) | (d3 < 10))
    lead = np.where(ln == 3, d3, np.where(ln == 2, d2, 1))
    value = d1 + 10 * d2 * (ln >= 2) + 100 * d3 * (ln >= 3)
    len_ok = (ln >= 1) & (ln <= 3) & dec & (lead != 0) & (value <= 128)
    return len_ok, value


def _groups6(
    x: np.ndarray,
    sep: np.ndarray,
    tlen: np.ndarray,
    n_empty: np.ndarray,
    nl_at: np.ndarray,
    prev: np.ndarray,
    cur: np.ndarray,
    a_end: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(hi, lo) of each line's address: each token's value shifted to its group, OR-ed per line."""
    n_lines = len(prev)
    xv = x.astype(np.uint64)
    tv = xv[sep - 1] * (tlen >= 1)
    tv |= (xv[sep - 2] << np.uint64(4)) * (tlen >= 2)
    tv |= (xv[sep - 3] << np.uint64(8)) * (tlen >= 3)
    tv |= (xv[sep - 4] << np.uint64(12)) * (tlen >= 4)
    # Each address token's group: counted from the left before '::', from the right after it.
    first_tok = nl_at[0] + 1
    k = np.arange(first_tok, nl_at[n_lines] + 1)
    line_of = np.repeat(np.arange(n_lines), cur - prev)
    p_l = prev[line_of]
    a_l = a_end[line_of]
    after = (n_empty[k - 1] - n_empty[p_l]) > 0
    g = np.where(after, 7 - (a_l - k), k - p_l - 1)
    use = (k <= a_l) & (tlen[k] > 0) & (g >= 0) & (g <= 7)
    gu = g.astype(np.uint64)
    val = tv[k]
    shift_hi = np.uint64(16) * (np.uint64(3) - np.minimum(gu, np.uint64(3)))
    shift_lo = np.uint64(16) * (np.uint64(7) - np.clip(gu, np.uint64(4), np.uint64(7)))
    c_hi = np.where(use & (g < 4), val << shift_hi, np.uint64(0))
    c_lo = np.where(use & (g >= 4), val << shift_lo, np.uint64(0))
    offsets = prev - nl_at[0]
    hi = np.bitwise_or.reduceat(c_hi, offsets)
    lo = np.bitwise_or.reduceat(c_lo, offsets)
    return hi, lo


def split_lines(data: bytes, scan: Scan, lines: np.ndarray) -> list[str]:
    """The text of the given lines (0-based line numbers), decoded leniently for messages."""
    return [
        data[s:e].decode("utf-8", "replace")
        for s, e in zip(scan.line_start[lines].tolist(), scan.line_end[lines].tolist(), strict=True)
    ]


# ---------------------------------------------------------------------------------------------------
# Fixed-width hex keys


def _byte_of_two_digits() -> np.ndarray:
    """For two ASCII bytes read as one little-endian uint16 (the first byte low), the byte their two
    lower-case hex digits spell (the first digit high), or 0xFFFF when either is not one."""
    digit = np.full(256, -1, np.int32)
    digit[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16)
    first, second = digit[np.arange(1 << 16) & 0xFF], digit[np.arange(1 << 16) >> 8]
    return np.where((first >= 0) & (second >= 0), first << 4 | second, 0xFFFF).astype(np.uint16)


_TWO_DIGITS = _byte_of_two_digits()


def parse_hex128(text: bytes | bytearray | memoryview) -> tuple[np.ndarray, np.ndarray]:
    """(hi, lo) uint64 arrays of 128-bit numbers written as 32 lower-case hex digits each, concatenated
    without separators (the fixed-width keys under which a database stores addresses, in order).

    Two digits at a time through a table of 65,536 entries. A ValueError names the first number
    that is not 32 lower-case hex digits, or says the length is not a multiple of 32.
    """
    raw = np.frombuffer(text, np.uint8)
    if len(raw) % 32:
        raise ValueError(f"{len(raw)} bytes are not a whole number of 32-digit hex numbers")
    octets = _TWO_DIGITS[raw.view("<u2")]
    if len(octets) and int(octets.max()) > 0xFF:
        n = int(np.argmax(octets > 0xFF)) // 16
        raise ValueError(f"number {n} is not 32 lower-case hex digits: {bytes(raw[32 * n : 32 * n + 32])!r}")
    pairs = octets.astype(np.uint8).view(">u8").reshape(-1, 2)
    return pairs[:, 0].astype(np.uint64), pairs[:, 1].astype(np.uint64)


# ---------------------------------------------------------------------------------------------------
# Output


def _digit_table(suffix: int) -> np.ndarray:
    """For 0..255, four bytes as one uint32: the decimal digits right-aligned, then `suffix`; pad is 0."""
    table = np.zeros((256, 4), np.uint8)
    for i in range(256):
        digits = str(i).encode()
        table[i, 3 - len(digits) : 3] = np.frombuffer(digits, np.uint8)
        table[i, 3] = suffix
    return table.view(np.uint32).ravel()


_T_DOT = _digit_table(_DOT)
_T_SLASH = _digit_table(_SLASH)
_T_NL = _digit_table(_NL)
_T_LEN = _T_NL.copy().view(np.uint8).reshape(256, 4)[:, 1:].copy()  # "nn\n" for lengths
_T_LEN = np.concatenate([_T_LEN, np.zeros((256, 1), np.uint8)], axis=1).view(np.uint32).ravel()


def format_v4_cidrs(start: np.ndarray, plen: np.ndarray, *, bare_host: bool = False) -> bytes:
    """'a.b.c.d/n\\n' for each prefix, built with array operations; `bare_host` drops '/32'."""
    n = len(start)
    if n == 0:
        return b""
    start = np.asarray(start, np.uint32)
    plen = np.asarray(plen, np.uint8)
    out = np.empty((n, 5), np.uint32)  # 20 bytes a row; zero bytes are padding, squeezed out below
    for col, shift in enumerate((24, 16, 8)):
        np.take(_T_DOT, (start >> shift) & 255, out=out[:, col])
    last = start & 255
    if bare_host:
        host = plen == 32
        out[:, 3] = np.where(host, _T_NL[last], _T_SLASH[last])
        out[:, 4] = np.where(host, 0, _T_LEN[plen])
    else:
        np.take(_T_SLASH, last, out=out[:, 3])
        np.take(_T_LEN, plen, out=out[:, 4])
    raw = out.view(np.uint8).ravel()
    return raw[raw != 0].tobytes()


_HEXTET = np.zeros((1 << 16, 4), np.uint8)
_hx = np.arange(1 << 16)
for _j in range(4):
    _digit = (_hx >> (4 * (3 - _j))) & 15
    _shown = (_hx >> (4 * (3 - _j))) > 0
    _HEXTET[:, _j] = np.where(_shown | (_j == 3), np.frombuffer(b"0123456789abcdef", np.uint8)[_digit], 0)
_HEXTET = _HEXTET.view(np.uint32).ravel()  # right-aligned lowercase hex, NUL padded
del _hx, _j, _digit, _shown
_LEN3 = np.zeros((129, 4), np.uint8)  # "/nnn" right-aligned after the slash, NUL padded
for _i in range(129):
    _d = str(_i).encode()
    _LEN3[_i, 0] = _SLASH
    _LEN3[_i, 4 - len(_d) :] = np.frombuffer(_d, np.uint8)
_LEN3 = _LEN3.view(np.uint32).ravel()


def format_v6_cidrs(hi: np.ndarray, lo: np.ndarray, plen: np.ndarray) -> bytes:
    """'addr/n\\n' for each IPv6 prefix, as `ipaddress` prints it (RFC 5952, without dotted quads)."""
    n = len(hi)
    if n == 0:
        return b""
    hi = np.asarray(hi, np.uint64)
    lo = np.asarray(lo, np.uint64)
    hext = np.empty((n, 8), np.int64)
    for j in range(4):
        hext[:, j] = ((hi >> np.uint64(48 - 16 * j)) & np.uint64(0xFFFF)).astype(np.int64)
        hext[:, 4 + j] = ((lo >> np.uint64(48 - 16 * j)) & np.uint64(0xFFFF)).astype(np.int64)
    # The first longest run of two or more zero groups becomes "::".
    run = np.zeros((n, 8), np.int64)
    run[:, 0] = hext[:, 0] == 0
    for j in range(1, 8):
        run[:, j] = (run[:, j - 1] + 1) * (hext[:, j] == 0)
    best = run.max(axis=1)
    end = run.argmax(axis=1)
    start = end - best + 1
    compress = best >= 2
    col = np.arange(8)[None, :]
    inside = compress[:, None] & (col >= start[:, None]) & (col <= end[:, None])
    # Row layout: per group 4 digit bytes then one separator byte, then "/nnn" and a newline.
    out = np.zeros((n, 48), np.uint8)
    digits = _HEXTET[hext].view(np.uint8).reshape(n, 8, 4)
    body = out[:, :40].reshape(n, 8, 5)
    body[:, :, :4] = digits
    body[:, :, 4] = _COLON
    body[:, 7, 4] = 0
    body[inside] = 0
    rows = np.flatnonzero(compress)
    body[rows, start[rows], 4] = _COLON
    lead = rows[start[rows] == 0]
    body[lead, 0, 3] = _COLON
    out[:, 40:44] = _LEN3[np.asarray(plen, np.int64)].view(np.uint8).reshape(n, 4)
    out[:, 44] = _NL
    raw = out.ravel()
    return raw[raw != 0].tobytes()
