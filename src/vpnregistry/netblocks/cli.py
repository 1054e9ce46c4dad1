"""The operator's commands `vpnregistry validate|aggregate|check`: no Django, no database.

NumPy and the engine are imported inside the commands that need them, so that `validate` starts
in a few tens of milliseconds.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from typing import BinaryIO

from .parse import ParseError, parse_address
from .special import CATEGORY_LIMITS, check_prefix

__all__ = ["aggregate_main", "check_main", "validate_main"]

_READ = 1 << 22  # bytes read at a time by `check`


def validate_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="vpnregistry validate",
        description="Validate addresses or prefixes as the registry would: strict syntax, no "
        "special-purpose space, and with --category no prefix broader than that category allows.",
    )
    parser.add_argument("--category", choices=sorted(CATEGORY_LIMITS))
    parser.add_argument("values", nargs="+", metavar="VALUE")
    args = parser.parse_args(argv)
    v4, v6 = CATEGORY_LIMITS[args.category] if args.category else (0, 0)
    failed = False
    lines = []
    for value in args.values:
        try:
            net = check_prefix(value, min_len_v4=v4, min_len_v6=v6)
        except ParseError as err:
            failed = True
            lines.append(f"{value}\terror\t{err}\n")
        else:
            lines.append(f"{value}\tok\t{net}\n")
    sys.stdout.write("".join(lines))
    return 1 if failed else 0


def _inputs(paths: list[str]) -> Iterator[tuple[str, BinaryIO]]:
    if not paths:
        paths = ["-"]
    for path in paths:
        if path == "-":
            yield "<stdin>", sys.stdin.buffer
        else:
            with open(path, "rb") as fh:
                yield path, fh


def aggregate_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="vpnregistry aggregate",
        description="Print the minimal CIDR blocks covering the addresses and prefixes read "
        "(one a line; blank lines and # comments ignored), IPv4 then IPv6, each ascending.",
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="files to read; standard input when none")
    parser.add_argument("--skip-invalid", action="store_true", help="report bad lines but go on")
    args = parser.parse_args(argv)

    # Imported here, not at the top, for start-up time (see the module's docstring).
    import numpy as np

    from .aggregation import parse_text
    from .intervals import IntervalSet, PrefixArrays
    from .textio import format_v4_cidrs, format_v6_cidrs

    parts = []
    n_errors = 0
    for name, fh in _inputs(args.files):
        parsed = parse_text(fh.read())
        for err in parsed.errors:
            sys.stderr.write(f"{name}:{err.line}: {err.reason}\n")
        n_errors += len(parsed.errors)
        parts.append(parsed.prefixes)
    if n_errors and not args.skip_invalid:
        sys.stderr.write(f"{n_errors} invalid line(s); nothing printed (use --skip-invalid to go on)\n")
        return 2
    pa = PrefixArrays.from_arrays(
        *(
            np.concatenate([getattr(p, f) for p in parts])
            for f in ("v4_start", "v4_len", "v6_hi", "v6_lo", "v6_len")
        )
    )
    cidrs = IntervalSet.from_prefixes(pa).cidr_arrays()
    out = sys.stdout.buffer
    out.write(format_v4_cidrs(cidrs.v4_start, cidrs.v4_len))
    out.write(format_v6_cidrs(cidrs.v6_hi, cidrs.v6_lo, cidrs.v6_len))
    out.flush()
    return 0


class _Progress:
    """A one-line progress bar on standard error, only when it is a terminal."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.on = sys.stderr.isatty()
        self.done = 0

    def update(self, n: int) -> None:
        self.done += n
        if not self.on:
            return
        if self.total:
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(frac * 30)
            sys.stderr.write(f"\r[{bar:<30}] {frac:6.1%}")
        else:
            sys.stderr.write(f"\r{self.done / 1e6:10.1f} MB")
        sys.stderr.flush()

    def close(self) -> None:
        if self.on:
            sys.stderr.write("\n")


def _chunks(fh: BinaryIO) -> Iterator[bytes]:
    """Whole lines, about _READ bytes at a time; the last chunk always ends with a newline."""
    rest = b""
    while True:
        block = fh.read(_READ)
        if not block:
            if rest:
                yield rest if rest.endswith(b"\n") else rest + b"\n"
            return
        block = rest + block
        cut = block.rfind(b"\n") + 1
        if cut == 0:
            rest = block
            continue
        rest = block[cut:]
        yield block[:cut]


def check_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="vpnregistry check",
        description="For each address read, print ADDRESS<TAB>yes|no: whether the allowlist covers it. "
        "Blank lines and # comments are skipped; bad lines are reported on standard error.",
    )
    parser.add_argument("--allowlist", required=True, metavar="FILE", help="the allowlist, one prefix a line")
    parser.add_argument(
        "--column", type=int, metavar="N", help="read addresses from CSV column N (1 = first)"
    )
    parser.add_argument("--summary", action="store_true", help="print only the counts")
    parser.add_argument("queries", nargs="*", metavar="QUERIES", help="files of addresses; stdin when none")
    args = parser.parse_args(argv)
    if args.column is not None and args.column < 1:
        parser.error("--column counts from 1")

    index = _read_allowlist(args.allowlist)
    if index is None:
        return 2
    counts = {"yes": 0, "no": 0, "invalid": 0}
    out = sys.stdout.buffer
    reported = 0
    for name, fh in _inputs(args.queries):
        try:
            total = os.fstat(fh.fileno()).st_size or None
        except (OSError, ValueError):
            total = None
        progress = _Progress(total)
        line_base = 0
        for chunk in _chunks(fh):
            text, errs, n_lines = _check_chunk(chunk, index, args.column, args.summary, counts, line_base)
            for lineno, reason in errs:
                counts["invalid"] += 1
                if reported < 100:
                    sys.stderr.write(f"{name}:{lineno}: {reason}\n")
                reported += 1
            if text:
                out.write(text)
            line_base += n_lines
            progress.update(len(chunk))
        progress.close()
    if reported > 100:
        sys.stderr.write(f"... {reported - 100} more invalid line(s)\n")
    if args.summary:
        total_q = counts["yes"] + counts["no"]
        out.write(
            f"addresses\t{total_q}\nyes\t{counts['yes']}\nno\t{counts['no']}\ninvalid\t{counts['invalid']}\n".encode()
        )
    out.flush()
    return 1 if counts["invalid"] else 0


def _read_allowlist(path: str):
    """The allowlist as a MembershipIndex; None, its bad lines reported, when any line is bad."""
    # Imported here, not at the top, for start-up time (see the module's docstring).
    from .aggregation import parse_text
    from .index import MembershipIndex
    from .intervals import IntervalSet

    with open(path, "rb") as fh:
        parsed = parse_text(fh.read())
    if parsed.errors:
        for err in parsed.errors[:20]:
            sys.stderr.write(f"{path}:{err.line}: {err.reason}\n")
        sys.stderr.write(f"{len(parsed.errors)} invalid line(s) in the allowlist; nothing checked\n")
        return None
    return MembershipIndex(IntervalSet.from_prefixes(parsed.prefixes))


def _check_chunk(
    chunk: bytes, index, column: int | None, summary: bool, counts: dict[str, int], line_base: int
) -> tuple[bytes, list[tuple[int, str]], int]:
    """Answer one chunk of whole lines: (output bytes, [(line number, reason)], lines in the chunk)."""
    # Imported here, not at the top, for start-up time (see the module's docstring).
    import numpy as np

    from . import _u128
    from .textio import scan_ipv4

    if column is None:
        scan = scan_ipv4(chunk)
        n_lines = scan.n_lines
        blank = int((scan.line_end == scan.line_start).sum())
        if not len(scan.other_line) and not scan.slash.any() and not blank:
            # The common case: every line a canonical IPv4 address.
            hit = index.contains_v4(scan.addr)
            n_yes = int(hit.sum())
            counts["yes"] += n_yes
            counts["no"] += len(hit) - n_yes
            if summary:
                return b"", [], n_lines
            return _insert_answers(chunk, scan.line_end, hit), [], n_lines
        values = chunk.decode("utf-8", "surrogateescape").split("\n")[:n_lines]
    else:
        values = _column_values(chunk, column)
        n_lines = len(values)
    # The general case: line by line through the strict parser.
    v4_pos, v4_val, v6_pos, v6_val, shown, errs = _parse_values(values, line_base)
    answer = np.zeros(len(values), bool)
    answer[v4_pos] = index.contains_v4(np.array(v4_val, np.uint32))
    hi, lo = _u128.from_ints(v6_val)
    answer[v6_pos] = index.contains_v6(hi, lo)
    emitted = [i for i, s in enumerate(shown) if s is not None]
    n_yes = int(answer[emitted].sum())
    counts["yes"] += n_yes
    counts["no"] += len(emitted) - n_yes
    if summary:
        return b"", errs, n_lines
    ans = answer.tolist()
    out = "".join(f"{shown[i]}\t{'yes' if ans[i] else 'no'}\n" for i in emitted)
    return out.encode("utf-8", "surrogateescape"), errs, n_lines


def _column_values(chunk: bytes, column: int) -> list[str]:
    """Field `column` (1 = first) of each comma-separated line of the chunk, quotes and spaces around
    it stripped; "" for a line with fewer fields."""
    lines = chunk.decode("utf-8", "surrogateescape").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    values = []
    for line in lines:
        fields = line.split(",")
        values.append(fields[column - 1].strip().strip('"') if len(fields) >= column else "")
    return values


def _parse_values(
    values: list[str], line_base: int
) -> tuple[list[int], list[int], list[int], list[int], list[str | None], list[tuple[int, str]]]:
    """Each value through the strict parser: (IPv4 positions, their addresses, IPv6 positions, their
    addresses, each value as it is printed back or None when it is not, [(line number, reason)])."""
    v4_pos: list[int] = []
    v4_val: list[int] = []
    v6_pos: list[int] = []
    v6_val: list[int] = []
    shown: list[str | None] = []
    errs: list[tuple[int, str]] = []
    for i, raw in enumerate(values):
        text = raw.strip()
        if not text or text.startswith("#"):
            shown.append(None)
            continue
        try:
            addr = parse_address(text)
        except ParseError as err:
            errs.append((line_base + i + 1, str(err)))
            shown.append(None)
            continue
        shown.append(text)
        if addr.version == 4:
            v4_pos.append(i)
            v4_val.append(int(addr))
        else:
            v6_pos.append(i)
            v6_val.append(int(addr))
    return v4_pos, v4_val, v6_pos, v6_val, shown, errs


def _insert_answers(chunk: bytes, line_end, hit) -> bytes:
    """The chunk with '\\tyes' or '\\tno' inserted before each line's newline, vectorised."""
    # Imported here, not at the top, for start-up time (see the module's docstring).
    import numpy as np

    buf = np.frombuffer(chunk, np.uint8)
    yes = hit.astype(np.int64)
    suf_len = 3 + yes  # "\tno" or "\tyes"
    n_new = int(suf_len.sum())
    out = np.empty(len(buf) + n_new, np.uint8)
    # Where each line's suffix starts in the output: its newline's offset plus all earlier suffixes.
    before = np.cumsum(suf_len) - suf_len
    at = line_end + before
    is_old = np.ones(len(out), bool)
    for k in range(4):
        m = k < suf_len
        is_old[at[m] + k] = False
    out[is_old] = buf
    out[at] = 9
    out[at + 1] = np.where(hit, ord("y"), ord("n"))
    out[at + 2] = np.where(hit, ord("e"), ord("o"))
    out[(at + 3)[hit]] = ord("s")
    return out.tobytes()
