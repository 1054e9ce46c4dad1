"""Rendering the allowlist in every format at scale: seconds and file size per format."""

from __future__ import annotations

import hashlib
import http.server
import json
import random
import socket
import sys
import threading
import time
import urllib.request
from pathlib import Path

from vpnregistry.allowlist.deltas import apply_delta, make_delta
from vpnregistry.allowlist.formats import FORMATS, Allowlist, render
from vpnregistry.signing.minisign import SigningKey, verify

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
    figures["sync"] = delta_and_sync(allowlist, changes=1_000, repeat=repeat)
    return figures


def _changed(allowlist: Allowlist, changes: int, rng: random.Random) -> Allowlist:
    """The next serial: half the changes remove entries, half add new ones beyond the last."""
    removed = set(rng.sample(allowlist.ipv4, changes // 2))
    last = int(allowlist.ipv4[-1].split("/")[0].split(".")[0])
    added = tuple(f"{min(last + 1, 223)}.{i // 256}.{i % 256}.0/24" for i in range(changes - changes // 2))
    return Allowlist(
        session=allowlist.session,
        serial=allowlist.serial + 1,
        generated_at="2026-11-28T00:53:12Z",
        ipv4=tuple(e for e in allowlist.ipv4 if e not in removed) + added,
        ipv6=allowlist.ipv6,
    )


class _Files(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def do_GET(self):
        body = self.files[self.path]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def delta_and_sync(allowlist: Allowlist, *, changes: int, repeat: int) -> dict:
    """A delta of `changes` entries: time to compute it, and a client round by delta against a full
    re-download, both over HTTP on 127.0.0.1 with the signature checked, as `vpnregistry sync` does."""
    old = Allowlist(
        session=allowlist.session,
        serial=allowlist.serial,
        generated_at=allowlist.generated_at,
        ipv4=allowlist.ipv4,
        ipv6=allowlist.ipv6,
    )
    new = _changed(old, changes, random.Random(11))
    make_seconds, delta = _best(repeat, lambda: make_delta(old, new))
    key = SigningKey.generate()
    delta_bytes = (json.dumps(delta, sort_keys=True, separators=(",", ":")) + "\n").encode()
    full_bytes = render("json", new).encode()
    target = hashlib.sha256(full_bytes).hexdigest()
    _Files.files = {
        "/delta.json": delta_bytes,
        "/delta.json.minisig": key.sign(delta_bytes, trusted_comment="d").encode(),
        "/full.json": full_bytes,
        "/full.json.minisig": key.sign(full_bytes, trusted_comment="f").encode(),
    }
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    def fetch(path: str) -> bytes:
        with urllib.request.urlopen(base + path, timeout=60) as response:
            return response.read()

    def by_delta() -> Allowlist:
        data = fetch("/delta.json")
        verify(data, fetch("/delta.json.minisig").decode(), [key.public])
        result = apply_delta(old, json.loads(data))
        assert hashlib.sha256(render("json", result).encode()).hexdigest() == target
        return result

    def by_snapshot() -> Allowlist:
        data = fetch("/full.json")
        verify(data, fetch("/full.json.minisig").decode(), [key.public])
        assert hashlib.sha256(data).hexdigest() == target
        return Allowlist.from_json(data)

    try:
        delta_seconds, a = _best(repeat, by_delta)
        full_seconds, b = _best(repeat, by_snapshot)
    finally:
        server.shutdown()
        server.server_close()
    assert (a.ipv4, a.ipv6) == (b.ipv4, b.ipv6), "the two ways disagree"
    figures = {
        "changes": changes,
        "make_delta_seconds": round(make_seconds, 4),
        "delta_round_seconds": round(delta_seconds, 4),
        "full_round_seconds": round(full_seconds, 4),
        "delta_bytes": len(delta_bytes),
        "full_bytes": len(full_bytes),
        "time_ratio": round(full_seconds / delta_seconds, 1),
        "bytes_ratio": round(len(full_bytes) / len(delta_bytes)),
    }
    print(
        f"sync round of {changes:,} changes against {len(old.ipv4) + len(old.ipv6):,} prefixes "
        f"(best of {repeat}):"
    )
    print(f"  computing the delta (registry)  {make_seconds:8.3f} s")
    print(f"  round by delta                  {delta_seconds:8.3f} s  {len(delta_bytes) / 1e3:10.1f} kB")
    print(f"  round by full re-download       {full_seconds:8.3f} s  {len(full_bytes) / 1e6:10.1f} MB")
    print(
        f"  ratio (full / delta)            {figures['time_ratio']:8.1f} x time, "
        f"{figures['bytes_ratio']:,} x bytes"
    )
    return figures


if __name__ == "__main__":
    result = run(quick="--quick" in sys.argv[1:])
    out = Path(__file__).resolve().parent.parent / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "allowlist.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"figures written to {out / 'allowlist.json'}")
