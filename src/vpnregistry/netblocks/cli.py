"""The operator's commands `vpnregistry validate|aggregate|check`: no Django, no database."""

from __future__ import annotations

import argparse
import bisect
import sys
from collections.abc import Iterator
from typing import TextIO

from .aggregate import aggregate
from .parse import ParseError, parse_address, parse_prefix
from .special import CATEGORY_LIMITS, check_prefix

__all__ = ["aggregate_main", "check_main", "validate_main"]


def validate_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="vpnregistry validate",
        description="Validate addresses or prefixes as the registry would: strict syntax, no "
        "special-purpose space, and with --category the shortest prefix that category allows.",
    )
    parser.add_argument("--category", choices=sorted(CATEGORY_LIMITS))
    parser.add_argument("values", nargs="+", metavar="VALUE")
    args = parser.parse_args(argv)
    v4, v6 = CATEGORY_LIMITS[args.category] if args.category else (0, 0)
    failed = False
    out = sys.stdout
    for value in args.values:
        try:
            net = check_prefix(value, min_len_v4=v4, min_len_v6=v6)
        except ParseError as err:
            failed = True
            out.write(f"{value}\terror\t{err}\n")
        else:
            out.write(f"{value}\tok\t{net}\n")
    return 1 if failed else 0


def _open_inputs(paths: list[str]) -> Iterator[tuple[str, TextIO]]:
    if not paths:
        yield "<stdin>", sys.stdin
        return
    for path in paths:
        if path == "-":
            yield "<stdin>", sys.stdin
            continue
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            yield path, fh


def _content(line: str) -> str:
    return line.split("#", 1)[0].strip()


def aggregate_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="vpnregistry aggregate",
        description="Print the minimal CIDR blocks covering the addresses and prefixes read "
        "(one a line; blank lines and # comments ignored), IPv4 then IPv6, each ascending.",
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="files to read; standard input when none")
    parser.add_argument("--skip-invalid", action="store_true", help="report bad lines but go on")
    args = parser.parse_args(argv)
    nets = []
    errors = 0
    for name, fh in _open_inputs(args.files):
        for lineno, line in enumerate(fh, 1):
            text = _content(line)
            if not text:
                continue
            try:
                nets.append(parse_prefix(text))
            except ParseError as err:
                errors += 1
                sys.stderr.write(f"{name}:{lineno}: {err}\n")
    if errors and not args.skip_invalid:
        sys.stderr.write(f"{errors} invalid line(s); nothing printed (use --skip-invalid to go on)\n")
        return 2
    sys.stdout.write("".join(f"{net}\n" for net in aggregate(nets)))
    return 0


def _load_allowlist(path: str) -> dict[int, tuple[list[int], list[int]]]:
    """Per family, the sorted starts and ends of the merged allowlist ranges."""
    with open(path, encoding="utf-8") as fh:
        nets = [parse_prefix(t) for t in (_content(line) for line in fh) if t]
    table: dict[int, tuple[list[int], list[int]]] = {4: ([], []), 6: ([], [])}
    for net in aggregate(nets):
        starts, ends = table[net.version]
        starts.append(int(net.network_address))
        ends.append(int(net.broadcast_address))
    return table


def check_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="vpnregistry check",
        description="For each address read, print ADDRESS<TAB>yes|no: whether the allowlist covers it.",
    )
    parser.add_argument("--allowlist", required=True, metavar="FILE", help="the allowlist, one prefix a line")
    parser.add_argument(
        "--column", type=int, metavar="N", help="read addresses from CSV column N (1 = first)"
    )
    parser.add_argument("--summary", action="store_true", help="print only the counts")
    parser.add_argument("queries", nargs="*", metavar="QUERIES", help="files of addresses; stdin when none")
    args = parser.parse_args(argv)
    table = _load_allowlist(args.allowlist)
    counts = {"yes": 0, "no": 0, "invalid": 0}
    out = sys.stdout
    for name, fh in _open_inputs(args.queries):
        for lineno, line in enumerate(fh, 1):
            text = line.strip()
            if args.column:
                fields = text.split(",")
                text = fields[args.column - 1].strip() if len(fields) >= args.column else ""
            if not text or text.startswith("#"):
                continue
            try:
                addr = parse_address(text)
            except ParseError as err:
                counts["invalid"] += 1
                sys.stderr.write(f"{name}:{lineno}: {err}\n")
                continue
            starts, ends = table[addr.version]
            i = bisect.bisect_right(starts, int(addr)) - 1
            answer = "yes" if i >= 0 and int(addr) <= ends[i] else "no"
            counts[answer] += 1
            if not args.summary:
                out.write(f"{text}\t{answer}\n")
    if args.summary:
        out.write("".join(f"{key}\t{value}\n" for key, value in counts.items()))
    return 1 if counts["invalid"] else 0
