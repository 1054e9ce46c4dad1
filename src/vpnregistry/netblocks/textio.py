"""Vectorised reading and writing of address and prefix lists as text, one value a line.

Parsing millions of dotted quads one line at a time in Python is the bottleneck of every text-in
job, so canonical IPv4 lines ("a.b.c.d" or "a.b.c.d/n") are parsed with NumPy over the bytes of the
whole buffer. Every other line (IPv6, whitespace, comments, anything invalid) goes through the
strict Python parser, which also words the error. Both paths accept exactly the same IPv4 text.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import numpy as np

__all__ = ["Scan", "format_v4_cidrs", "format_v6_cidrs", "scan_ipv4", "split_lines"]

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


def scan_ipv4(data: bytes | bytearray | memoryview) -> Scan:
    """Find and parse the canonical IPv4 address/prefix lines of `data`, vectorised."""
    data = bytes(data) if not isinstance(data, bytes) else data
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


def split_lines(data: bytes, scan: Scan, lines: np.ndarray) -> list[str]:
    """The text of the given lines (0-based line numbers), decoded leniently for messages."""
    return [
        data[s:e].decode("utf-8", "replace")
        for s, e in zip(scan.line_start[lines].tolist(), scan.line_end[lines].tolist(), strict=True)
    ]


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


def format_v6_cidrs(hi: np.ndarray, lo: np.ndarray, plen: np.ndarray) -> bytes:
    """'addr/n\\n' for each IPv6 prefix, in the RFC 5952 form (inet_ntop)."""
    if len(hi) == 0:
        return b""
    packed = np.empty((len(hi), 2), ">u8")
    packed[:, 0] = hi
    packed[:, 1] = lo
    raw = packed.tobytes()
    ntop = socket.inet_ntop
    af = socket.AF_INET6
    parts = [f"{ntop(af, raw[16 * i : 16 * i + 16])}/{n}\n" for i, n in enumerate(plen.tolist())]
    return "".join(parts).encode("ascii")
