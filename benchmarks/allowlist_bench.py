"""Rendering the allowlist in every format at scale: seconds and file size per format."""

from __future__ import annotations

import random
import socket
import sys
import time

from vpnregistry.allowlist.formats import FORMATS, Allowlist, render

V4_SHARE = 0.85


def _prefixes(count: int, bits: int, first: int, rng: random.Random) -> tuple[str, ...]:
    """`count` ascending, non-overlapping CIDRs from `first` on: mostly customer-sized blocks with gaps,
    built from integers (ipaddress would take longer than the rendering being measured)."""
    family, size = (socket.AF_INET, 4) if bits == 32 else (socket.AF_INET6, 16)
    # Host lengths relative to the family: IPv4 /32 .. /22, IPv6 /128 .. /44.
    host_bits = [0, 0, 0, 2, 3, 8, 8, 8, 10] if bits == 32 else [0, 0, 16, 64, 64, 64, 72, 80, 84]
    ntop = socket.inet_ntop
    out = []
    address = first
    for _ in range(count):
        host = rng.choice(host_bits)
        block = 1 << host
        address = (address + block - 1) & ~(block - 1)  # aligned to its own length
        out.append(f"{ntop(family, address.to_bytes(size, 'big'))}/{bits - host}")
        address += block + (rng.randrange(block * 4) & ~(block - 1))
    return tuple(out)


def make_allowlist(count: int, numbers: int, seed: int = 5) -> Allowlist:
    rng = random.Random(seed)
    v4 = round(count * V4_SHARE)
    return Allowlist(
        session="0b7e6d3c-6f1a-4d2b-9c4e-2a1f5e8d9c01",
        serial=123456,
        generated_at="2026-11-28T00:52:12Z",
        ipv4=_prefixes(v4, 32, 1 << 24, rng),
        ipv6=_prefixes(count - v4, 128, 0x2001_0DD8 << 96, rng),
        msisdn={"indus": tuple(sorted({f"+92300{rng.randrange(10**7):07d}" for _ in range(numbers)}))},
    )


def _best(repeat: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def run(quick: bool = False) -> dict:
    count = 20_000 if quick else 1_000_000
    numbers = 2_000 if quick else 100_000
    repeat = 3
    allowlist = make_allowlist(count, numbers)
    figures: dict = {
        "prefixes": count,
        "ipv4": len(allowlist.ipv4),
        "ipv6": len(allowlist.ipv6),
        "msisdn_numbers": len(allowlist.msisdn["indus"]),
        "formats": {},
    }
    for name in FORMATS:
        seconds, text = _best(repeat, lambda name=name: render(name, allowlist, operator="indus"))
        figures["formats"][name] = {"seconds": round(seconds, 4), "bytes": len(text.encode())}
    seconds, document = _best(repeat, allowlist.to_json)
    figures["to_json_seconds"] = round(seconds, 4)
    figures["from_json_seconds"] = round(_best(repeat, lambda: Allowlist.from_json(document))[0], 4)
    figures["canonical_bytes"] = len(document.encode())

    print(
        f"allowlist formats: {figures['ipv4']:,} IPv4 + {figures['ipv6']:,} IPv6 prefixes, "
        f"{figures['msisdn_numbers']:,} mobile numbers (best of {repeat})"
    )
    print(f"  {'format':<12}{'seconds':>10}{'MB':>10}{'ns/entry':>10}")
    for name, row in figures["formats"].items():
        per_entry = row["seconds"] / (figures["msisdn_numbers"] if name == "msisdn.csv" else count)
        print(f"  {name:<12}{row['seconds']:>10.3f}{row['bytes'] / 1e6:>10.1f}{per_entry * 1e9:>10.0f}")
    for label, key in (("to_json", "to_json_seconds"), ("from_json", "from_json_seconds")):
        print(
            f"  {label:<12}{figures[key]:>10.3f}{figures['canonical_bytes'] / 1e6:>10.1f}"
            f"{figures[key] / (count + figures['msisdn_numbers']) * 1e9:>10.0f}"
        )
    return figures


if __name__ == "__main__":
    run(quick="--quick" in sys.argv[1:])
