"""Benchmarks of vpnregistry.netblocks against the libraries a network engineer would otherwise use.

`python -m benchmarks` (make bench) runs the full sizes of issue 3; `--quick` (make bench-quick) small
ones. Every candidate runs side by side in this one process on the same seeded data; the slow
ones run on a stated fraction of the input and their time is scaled to the full size. Each
candidate's answers are compared with ours. Figures go to var/bench/netblocks.json.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import hashlib
import ipaddress
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vpnregistry.netblocks import _u128
from vpnregistry.netblocks.aggregation import aggregate_text
from vpnregistry.netblocks.index import LookupIndex, MembershipIndex
from vpnregistry.netblocks.intervals import IntervalSet, PrefixArrays
from vpnregistry.netblocks.textio import format_v4_cidrs, format_v6_cidrs

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench"
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


# ---------------------------------------------------------------------------------------------------
# Data sets


def v4_prefixes(rng: np.random.Generator, n: int, shape: str) -> tuple[np.ndarray, np.ndarray]:
    """Random IPv4 prefixes in globally routed-looking space (1.0.0.0 to 223.255.255.255)."""
    if shape == "small":  # 85% /32, the rest /24 to /29
        plen = np.where(rng.random(n) < 0.85, 32, rng.integers(24, 30, n))
    else:  # 50% /32, 25% /24, 21% /25 to /31, 4% /16 to /23
        u = rng.random(n)
        plen = np.select(
            [u < 0.50, u < 0.75, u < 0.96],
            [32, 24, rng.integers(25, 32, n)],
            rng.integers(16, 24, n),
        )
    plen = plen.astype(np.uint8)
    raw = rng.integers(1 << 24, 224 << 24, n, dtype=np.uint64)
    mask = ~((np.uint64(1) << (32 - plen).astype(np.uint64)) - np.uint64(1))
    return (raw & mask).astype(np.uint32), plen


def v6_prefixes(rng: np.random.Generator, n: int, pools: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IPv6 prefixes of /32 to /128, mostly /128, /64, /56 and /48, inside `pools` /32 pools."""
    pool_hi = (np.uint64(0x2) << np.uint64(60)) | (
        rng.integers(0, 1 << 28, pools, dtype=np.uint64) << np.uint64(32)
    )
    u = rng.random(n)
    plen = np.select(
        [u < 0.40, u < 0.65, u < 0.80, u < 0.95], [128, 64, 56, 48], rng.integers(32, 129, n)
    ).astype(np.uint8)
    hi = pool_hi[rng.integers(0, pools, n)] | rng.integers(0, 1 << 32, n, dtype=np.uint64)
    lo = rng.integers(0, 1 << 63, n, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, n, dtype=np.uint64)
    mh, ml = _u128.host_mask(plen)
    return hi & ~mh, lo & ~ml, plen


def v4_queries(rng: np.random.Generator, n: int, start: np.ndarray, plen: np.ndarray) -> np.ndarray:
    """Half inside a random prefix of the set, half uniformly random."""
    k = n // 2
    pick = rng.integers(0, len(start), k)
    size = np.left_shift(np.uint64(1), (32 - plen[pick]).astype(np.uint64))
    offs = (rng.random(k) * size).astype(np.uint64)
    hits = (start[pick].astype(np.uint64) + offs).astype(np.uint32)
    rand = rng.integers(0, 1 << 32, n - k, dtype=np.uint64).astype(np.uint32)
    q = np.concatenate([hits, rand])
    rng.shuffle(q)
    return q


def v6_queries(
    rng: np.random.Generator, n: int, hi: np.ndarray, lo: np.ndarray, plen: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Half inside a random prefix of the set; half random addresses in the same /32 pools."""
    k = n // 2
    pick = rng.integers(0, len(hi), k)
    mh, ml = _u128.host_mask(plen[pick])
    rh = rng.integers(0, 1 << 63, k, dtype=np.uint64) * np.uint64(2)
    rl = rng.integers(0, 1 << 63, k, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    qh = np.concatenate(
        [
            hi[pick] | (rh & mh),
            (hi[rng.integers(0, len(hi), n - k)] & ~np.uint64(0xFFFFFFFF))
            | rng.integers(0, 1 << 32, n - k, dtype=np.uint64),
        ]
    )
    ql = np.concatenate([lo[pick] | (rl & ml), rng.integers(0, 1 << 63, n - k, dtype=np.uint64)])
    order = rng.permutation(n)
    return qh[order], ql[order]


def v4_text(start: np.ndarray, plen: np.ndarray) -> bytes:
    return format_v4_cidrs(start, plen, bare_host=True)


def v6_text(hi: np.ndarray, lo: np.ndarray, plen: np.ndarray) -> bytes:
    return format_v6_cidrs(hi, lo, plen)


# ---------------------------------------------------------------------------------------------------
# Measurement


@dataclass
class Result:
    name: str
    seconds: float  # scaled to the full job
    items: int  # full job size (queries or prefixes)
    mem_mib: float | None
    fraction: float = 1.0
    agrees: bool | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else float("inf")


@dataclass
class Job:
    key: str
    title: str
    unit: str
    results: list[Result] = field(default_factory=list)
    target: str = ""
    met: bool | None = None
    verdict: str = ""


def timed(fn: Callable[[], object], repeat: int = 1) -> tuple[float, object]:
    best = float("inf")
    out = None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def built(fn: Callable[[], object]) -> tuple[float, float, object]:
    """(seconds, MiB of resident memory added, structure) for building a structure."""
    gc.collect()
    before = rss()
    t = time.perf_counter()
    obj = fn()
    sec = time.perf_counter() - t
    gc.collect()
    return sec, (rss() - before) / 2**20, obj


def have(module: str, skip: set[str]) -> bool:
    if module in skip:
        return False
    try:
        __import__(module)
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------------------------------
# Jobs


def job_aggregate(
    key: str, title: str, lines: list[str], data: bytes, fractions: dict[str, float], skip: set[str]
) -> Job:
    job = Job(key, title, "prefixes/s")
    n = len(lines)
    sec, (ours, errors) = timed(lambda: aggregate_text(data), repeat=2)
    assert not errors
    job.results.append(Result("netblocks", sec, n, None))

    def peer(name: str, fn: Callable[[list[str]], str]) -> None:
        frac = fractions.get(name, 1.0)
        m = max(1, int(n * frac))
        sub = lines[:m]
        t, out = timed(lambda: fn(sub))
        expect = ours if m == n else aggregate_text("\n".join(sub).encode())[0]
        job.results.append(Result(name, t * n / m, n, None, fraction=m / n, agrees=out.encode() == expect))

    if have("ipaddress", skip):
        peer(
            "ipaddress",
            lambda ls: "".join(
                f"{x}\n"
                for x in sorted(
                    ipaddress.collapse_addresses(ipaddress.ip_network(s) for s in ls), key=lambda x: x.version
                )
            ),
        )
    if have("netaddr", skip):
        import netaddr

        peer("netaddr", lambda ls: "".join(f"{x}\n" for x in netaddr.cidr_merge(ls)))
    if have("aggregate6", skip):
        import aggregate6

        peer("aggregate6", lambda ls: "".join(f"{x}\n" for x in _v4_first(aggregate6.aggregate(ls))))
    return job


def _v4_first(items: list[str]) -> list[str]:
    return sorted(items, key=lambda s: ":" in s)  # stable: keeps each family's own order


def _ranges(start: np.ndarray, end: np.ndarray) -> tuple[list[int], list[int]]:
    return start.tolist(), end.tolist()


def job_membership_v4(
    key: str,
    title: str,
    start: np.ndarray,
    plen: np.ndarray,
    q: np.ndarray,
    fractions: dict[str, float],
    skip: set[str],
    mmdb_dir: Path | None,
    lpm: bool,
) -> Job:
    job = Job(key, title, "lookups/s")
    n = len(q)
    ids = np.arange(len(start), dtype=np.int64)
    pa = PrefixArrays.from_arrays(start, plen)
    if lpm:
        bsec, mem, index = built(lambda: LookupIndex(pa, ids))
        sec, ours = timed(lambda: index.lookup_v4(q), repeat=2)
    else:
        bsec, mem, index = built(lambda: MembershipIndex(pa))
        sec, ours = timed(lambda: index.contains_v4(q), repeat=2)
    job.results.append(
        Result(
            "netblocks",
            sec,
            n,
            index.nbytes / 2**20,
            extra={"build_s": round(bsec, 3), "rss_mib": round(mem, 1)},
        )
    )
    texts = [
        f"{ipaddress.IPv4Address(int(s))}/{int(p)}"
        for s, p in zip(start.tolist(), plen.tolist(), strict=True)
    ]

    def peer(
        name: str, build: Callable[[], object], query: Callable[[object, list[int]], list], note: str = ""
    ) -> None:
        frac = fractions.get(name, 1.0)
        m = max(1, int(n * frac))
        sub = q[:m].tolist()
        bs, mem, struct = built(build)
        t, got = timed(lambda: query(struct, sub))
        want = ours[:m].tolist() if lpm else ours[:m].astype(bool).tolist()
        job.results.append(
            Result(
                name,
                t * n / m,
                n,
                mem,
                fraction=m / n,
                agrees=list(got) == want,
                note=note,
                extra={"build_s": round(bs, 3)},
            )
        )
        struct = None  # free it before the next candidate is built
        gc.collect()

    if have("pytricia", skip):
        import pytricia

        def pt_build():
            pt = pytricia.PyTricia(32)
            for i, t in enumerate(texts):
                if t not in pt or pt.get_key(t) != t or pt[t] > i:
                    pt[t] = i
            return pt

        if lpm:
            peer("pytricia", pt_build, lambda pt, qs: [pt.get(x, -1) for x in qs])
        else:
            peer("pytricia", pt_build, lambda pt, qs: [x in pt for x in qs])
    if have("radix", skip):
        import radix

        def rx_build():
            r = radix.Radix()
            for i, t in enumerate(texts):
                node = r.search_exact(t)
                if node is None:
                    r.add(t).data["id"] = i
            return r

        def rx_query(r, qs):
            out = []
            for x in qs:
                node = r.search_best(packed=x.to_bytes(4, "big"))
                out.append((node.data["id"] if node else -1) if lpm else node is not None)
            return out

        peer("py-radix", rx_build, rx_query)
    if not lpm and have("netaddr", skip):
        import netaddr

        peer(
            "netaddr",
            lambda: netaddr.IPSet(texts),
            lambda s, qs: [netaddr.IPAddress(x) in s for x in qs],
            "IPSet",
        )
    if not lpm and have("ipaddress", skip):

        def ip_build():
            nets = list(ipaddress.collapse_addresses(ipaddress.ip_network(t) for t in texts))
            return [int(x.network_address) for x in nets], [int(x.broadcast_address) for x in nets]

        def ip_query(st, qs):
            starts, lasts = st
            out = []
            for x in qs:
                i = bisect.bisect_right(starts, x) - 1
                out.append(i >= 0 and x <= lasts[i])
            return out

        peer("ipaddress", ip_build, ip_query, "collapse_addresses + bisect")
    if mmdb_dir is not None and have("maxminddb", skip) and have("mmdb_writer", skip):
        import maxminddb

        path = _mmdb_v4(mmdb_dir, key, start, plen, lpm)
        peer(
            "maxminddb",
            lambda: maxminddb.open_database(str(path), maxminddb.MODE_MMAP_EXT),
            (lambda r, qs: [_mm(r.get(ipaddress.IPv4Address(x))) for x in qs])
            if lpm
            else (lambda r, qs: [r.get(ipaddress.IPv4Address(x)) is not None for x in qs]),
            "C extension, MODE_MMAP_EXT; .mmdb built with mmdb-writer (not timed)",
        )
    return job


def _mm(v):
    return -1 if v is None else v


def _mmdb_v4(directory: Path, key: str, start: np.ndarray, plen: np.ndarray, lpm: bool) -> Path:
    """Build (once, cached by content) an .mmdb of the prefixes: value True, or the id for longest match."""
    import netaddr
    from mmdb_writer import MMDBWriter

    digest = hashlib.sha256(start.tobytes() + plen.tobytes() + bytes([lpm])).hexdigest()[:16]
    path = directory / f"{key}-{digest}.mmdb"
    if path.exists():
        return path
    w = MMDBWriter(ip_version=4, database_type="netblocks-bench", int_type="u32")
    if lpm:
        # Shorter prefixes first so that longer ones overwrite them; first occurrence of a duplicate wins.
        seen = set()
        for i in np.lexsort((np.arange(len(start)), plen)).tolist():
            k = (int(start[i]), int(plen[i]))
            if k in seen:
                continue
            seen.add(k)
            w.insert_network(netaddr.IPSet([netaddr.IPNetwork((k[0], k[1]))]), i)
    else:
        cidrs = IntervalSet.from_cidr_arrays(start, plen).cidr_arrays()
        for s, p in zip(cidrs.v4_start.tolist(), cidrs.v4_len.tolist(), strict=True):
            w.insert_network(netaddr.IPSet([netaddr.IPNetwork((s, p))]), True)
    w.to_db_file(str(path))
    return path


def _mmdb_v6(directory: Path, key: str, hi: np.ndarray, lo: np.ndarray, plen: np.ndarray) -> Path:
    import netaddr
    from mmdb_writer import MMDBWriter

    digest = hashlib.sha256(hi.tobytes() + lo.tobytes() + plen.tobytes()).hexdigest()[:16]
    path = directory / f"{key}-{digest}.mmdb"
    if path.exists():
        return path
    w = MMDBWriter(ip_version=6, database_type="netblocks-bench")
    cidrs = IntervalSet.from_cidr_arrays(v6_hi=hi, v6_lo=lo, v6_len=plen).cidr_arrays()
    for v, p in zip(_u128.to_ints(cidrs.v6_hi, cidrs.v6_lo), cidrs.v6_len.tolist(), strict=True):
        w.insert_network(netaddr.IPSet([netaddr.IPNetwork((v, p), version=6)]), True)
    w.to_db_file(str(path))
    return path


def job_membership_v6(
    key: str,
    title: str,
    hi: np.ndarray,
    lo: np.ndarray,
    plen: np.ndarray,
    qh: np.ndarray,
    ql: np.ndarray,
    fractions: dict[str, float],
    skip: set[str],
    mmdb_dir: Path | None,
) -> Job:
    job = Job(key, title, "lookups/s")
    n = len(qh)
    pa = PrefixArrays.from_arrays(v6_hi=hi, v6_lo=lo, v6_len=plen)
    bsec, mem, index = built(lambda: MembershipIndex(pa))
    sec, ours = timed(lambda: index.contains_v6(qh, ql), repeat=2)
    job.results.append(
        Result(
            "netblocks",
            sec,
            n,
            index.nbytes / 2**20,
            extra={"build_s": round(bsec, 3), "rss_mib": round(mem, 1)},
        )
    )
    texts = [
        f"{ipaddress.IPv6Address(v)}/{p}" for v, p in zip(_u128.to_ints(hi, lo), plen.tolist(), strict=True)
    ]

    def peer(
        name: str, build: Callable[[], object], query: Callable[[object, list[int]], list], note: str = ""
    ) -> None:
        frac = fractions.get(name, 1.0)
        m = max(1, int(n * frac))
        sub = _u128.to_ints(qh[:m], ql[:m])
        bs, mem, struct = built(build)
        t, got = timed(lambda: query(struct, sub))
        job.results.append(
            Result(
                name,
                t * n / m,
                n,
                mem,
                fraction=m / n,
                agrees=list(got) == ours[:m].tolist(),
                note=note,
                extra={"build_s": round(bs, 3)},
            )
        )
        struct = None  # free it before the next candidate is built
        gc.collect()

    if have("pytricia", skip):
        import pytricia

        def pt_build():
            pt = pytricia.PyTricia(128)
            for t in texts:
                pt[t] = True
            return pt

        peer("pytricia", pt_build, lambda pt, qs: [x.to_bytes(16, "big") in pt for x in qs], "16-byte keys")
    if have("radix", skip):
        import radix

        def rx_build():
            r = radix.Radix()
            for t in texts:
                r.add(t)
            return r

        peer(
            "py-radix",
            rx_build,
            lambda r, qs: [r.search_best(packed=x.to_bytes(16, "big")) is not None for x in qs],
        )
    if have("netaddr", skip):
        import netaddr

        peer(
            "netaddr",
            lambda: netaddr.IPSet(texts),
            lambda s, qs: [netaddr.IPAddress(x, 6) in s for x in qs],
            "IPSet",
        )
    if have("ipaddress", skip):

        def ip_build():
            nets = list(ipaddress.collapse_addresses(ipaddress.ip_network(t) for t in texts))
            return [int(x.network_address) for x in nets], [int(x.broadcast_address) for x in nets]

        def ip_query(st, qs):
            starts, lasts = st
            out = []
            for x in qs:
                i = bisect.bisect_right(starts, x) - 1
                out.append(i >= 0 and x <= lasts[i])
            return out

        peer("ipaddress", ip_build, ip_query, "collapse_addresses + bisect")
    if mmdb_dir is not None and have("maxminddb", skip) and have("mmdb_writer", skip):
        import maxminddb

        path = _mmdb_v6(mmdb_dir, key, hi, lo, plen)
        peer(
            "maxminddb",
            lambda: maxminddb.open_database(str(path), maxminddb.MODE_MMAP_EXT),
            lambda r, qs: [r.get(ipaddress.IPv6Address(x)) is not None for x in qs],
            "C extension, MODE_MMAP_EXT; .mmdb built with mmdb-writer (not timed)",
        )
    return job


_PYTRICIA_CHECK = r"""
import sys, pytricia
pt = pytricia.PyTricia(32)
with open(sys.argv[1]) as fh:
    for line in fh:
        line = line.strip()
        if line and not line.startswith("#"):
            pt[line] = True
out = sys.stdout
with open(sys.argv[2]) as fh:
    for line in fh:
        a = line.strip()
        out.write(f"{a}\tyes\n" if a in pt else f"{a}\tno\n")
"""


def job_check(
    key: str, title: str, start: np.ndarray, plen: np.ndarray, q: np.ndarray, work: Path, skip: set[str]
) -> Job:
    job = Job(key, title, "addresses/s")
    allow = work / "allowlist.txt"
    queries = work / "queries.txt"
    cidrs = IntervalSet.from_cidr_arrays(start, plen).cidr_arrays()
    allow.write_bytes(
        b"# allowlist, as latest.txt gives it\n" + format_v4_cidrs(cidrs.v4_start, cidrs.v4_len)
    )
    queries.write_bytes(format_v4_cidrs(q, np.full(len(q), 32, np.uint8), bare_host=True))
    n = len(q)

    def run(name: str, cmd: list[str]) -> None:
        out = work / f"{name}.out"
        with open(out, "wb") as fh:
            t = time.perf_counter()
            before = os.times()
            subprocess.run(cmd, stdout=fh, check=False, cwd=ROOT)
            sec = time.perf_counter() - t
            del before
        digest = hashlib.sha256(out.read_bytes()).hexdigest()
        out.unlink()
        job.results.append(Result(name, sec, n, None, extra={"sha256": digest}))

    run(
        "netblocks",
        [sys.executable, "-m", "vpnregistry.cli", "check", "--allowlist", str(allow), str(queries)],
    )
    if have("pytricia", skip):
        run("pytricia", [sys.executable, "-c", _PYTRICIA_CHECK, str(allow), str(queries)])
    ref = job.results[0].extra["sha256"]
    for r in job.results[1:]:
        r.agrees = r.extra["sha256"] == ref
        r.note = "reads the file line by line"
    allow.unlink()
    queries.unlink()
    return job


# ---------------------------------------------------------------------------------------------------
# Report


def ratio_to(job: Job, name: str) -> float | None:
    ours = job.results[0]
    for r in job.results:
        if r.name == name:
            return r.seconds / ours.seconds
    return None


def judge(job: Job, kind: str, factor: float) -> None:
    ours = job.results[0]
    if kind == "fastest":
        peers = [r for r in job.results[1:]]
        if not peers:
            job.verdict = "no peer ran"
            return
        best = min(peers, key=lambda r: r.seconds)
        ratio = best.seconds / ours.seconds
        same = all(r.agrees for r in peers)
        job.target = f">= {factor:g}x the fastest peer, identical output"
        job.met = ratio >= factor and same
        job.verdict = f"{ratio:.1f}x {best.name} ({'identical' if same else 'DIFFERENT OUTPUT'})"
    else:
        ratio = ratio_to(job, kind)
        job.target = f">= {factor:g}x {kind}'s rate"
        if ratio is None:
            job.verdict = f"{kind} did not run"
            return
        job.met = ratio >= factor and all(r.agrees for r in job.results[1:])
        job.verdict = f"{ratio:.1f}x {kind}"
    del ours


QUICK_NOTE = [""]  # the targets are set for the full sizes; quick runs only indicate


def print_job(job: Job) -> None:
    ours = job.results[0]
    print(f"\n## {job.title}")
    print(f"{'candidate':<12} {'time s':>9} {'rate':>14} {'mem MiB':>8} {'x ours':>8}  notes")
    for r in job.results:
        ratio = r.seconds / ours.seconds
        mem = "" if r.mem_mib is None else f"{r.mem_mib:.1f}"
        notes = []
        if r.fraction < 1:
            notes.append(f"ran on {r.fraction:.{0 if r.fraction >= 0.01 else 1}%}, time scaled")
        if r.agrees is False:
            notes.append("ANSWERS DIFFER")
        elif r.agrees:
            notes.append("same answers")
        if r.note:
            notes.append(r.note)
        if "build_s" in r.extra:
            notes.append(f"build {r.extra['build_s']:.2f}s")
        print(f"{r.name:<12} {r.seconds:9.3f} {r.rate:14,.0f} {mem:>8} {ratio:8.1f}  {'; '.join(notes)}")
    if job.target:
        mark = "MET" if job.met else "MISSED"
        print(f"target: {job.target}: {job.verdict} -> {mark}{QUICK_NOTE[0]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--only", nargs="*", help="job keys to run")
    parser.add_argument(
        "--skip", nargs="*", default=[], help="candidate modules to leave out (e.g. maxminddb)"
    )
    parser.add_argument("--out", default=str(OUT / "netblocks.json"))
    args = parser.parse_args(argv)
    skip = set(args.skip)
    quick = args.quick
    if quick:
        QUICK_NOTE[0] = " (quick sizes: indicative; the targets are for `make bench`)"
    rng = np.random.default_rng(args.seed)
    sizes = (
        {"small": 20_000, "large": 50_000, "v6": 10_000, "q4": 200_000, "q6": 50_000, "pools": 100}
        if quick
        else {
            "small": 20_000,
            "large": 1_000_000,
            "v6": 200_000,
            "q4": 10_000_000,
            "q6": 2_000_000,
            "pools": 2_000,
        }
    )
    # Fractions of the input the slow candidates get (their time is scaled up).
    if quick:
        agg_frac = {"ipaddress": 0.25, "aggregate6": 0.25}
        q_frac = {"pytricia": 0.25, "py-radix": 0.1, "netaddr": 0.02, "ipaddress": 0.1, "maxminddb": 0.1}
    else:
        agg_frac = {"ipaddress": 0.25, "aggregate6": 0.25}
        q_frac = {"pytricia": 0.1, "py-radix": 0.1, "netaddr": 0.005, "ipaddress": 0.02, "maxminddb": 0.1}
    q6_frac = {k: min(1.0, v * 4) for k, v in q_frac.items()}
    OUT.mkdir(parents=True, exist_ok=True)
    mmdb_dir = OUT / "mmdb"
    mmdb_dir.mkdir(exist_ok=True)
    only = set(args.only or [])

    def want(key: str) -> bool:
        return not only or key in only

    t0 = time.perf_counter()
    s_start, s_plen = v4_prefixes(rng, sizes["small"], "small")
    l_start, l_plen = v4_prefixes(rng, sizes["large"], "large")
    h6, l6, p6 = v6_prefixes(rng, sizes["v6"], sizes["pools"])
    q_small = v4_queries(rng, sizes["q4"], s_start, s_plen)
    q_large = v4_queries(rng, sizes["q4"], l_start, l_plen)
    qh6, ql6 = v6_queries(rng, sizes["q6"], h6, l6, p6)
    print(
        f"# netblocks benchmark ({'quick' if quick else 'full'}), seed {args.seed}, data made in "
        f"{time.perf_counter() - t0:.1f}s; numpy {np.__version__}, Python {platform.python_version()}"
    )
    print("# ratios are each candidate's time over ours (higher: we are faster); rates are per second")
    jobs: list[Job] = []
    if want("aggregate_v4"):
        data = v4_text(l_start, l_plen)
        lines = data.decode().splitlines()
        j = job_aggregate(
            "aggregate_v4",
            f"aggregate {len(lines):,} IPv4 prefixes, text in to text out",
            lines,
            data,
            agg_frac,
            skip,
        )
        judge(j, "fastest", 20)
        jobs.append(j)
        print_job(j)
    if want("aggregate_v6"):
        data = v6_text(h6, l6, p6)
        lines = data.decode().splitlines()
        j = job_aggregate(
            "aggregate_v6",
            f"aggregate {len(lines):,} IPv6 prefixes, text in to text out",
            lines,
            data,
            {},
            skip,
        )
        judge(j, "fastest", 8)
        jobs.append(j)
        print_job(j)
    mm = None if "maxminddb" in skip else mmdb_dir
    if want("member_v4_large"):
        j = job_membership_v4(
            "member_v4_large",
            f"membership, {sizes['large']:,} IPv4 prefixes, {len(q_large):,} integer queries",
            l_start,
            l_plen,
            q_large,
            q_frac,
            skip,
            mm,
            lpm=False,
        )
        judge(j, "pytricia", 50)
        jobs.append(j)
        print_job(j)
        ours = j.results[0]
        mem_job = Job(
            "member_v4_memory",
            f"membership index for {sizes['large']:,} IPv4 prefixes: memory, build",
            "bytes",
        )
        mem_job.results.append(ours)
        mem_job.target = "<= 128 MiB, built in < 3 s"
        mem_job.met = ours.mem_mib <= 128 and ours.extra["build_s"] < 3
        mem_job.verdict = f"{ours.mem_mib:.1f} MiB, built in {ours.extra['build_s']:.2f}s"
        jobs.append(mem_job)
        print(
            f"target: membership index memory {mem_job.target}: {mem_job.verdict} -> "
            f"{'MET' if mem_job.met else 'MISSED'}{QUICK_NOTE[0]}"
        )
    if want("member_v4_small"):
        j = job_membership_v4(
            "member_v4_small",
            f"membership, {sizes['small']:,} IPv4 prefixes, {len(q_small):,} integer queries",
            s_start,
            s_plen,
            q_small,
            q_frac,
            skip,
            mmdb_dir if "maxminddb" not in skip else None,
            lpm=False,
        )
        judge(j, "pytricia", 10)
        jobs.append(j)
        print_job(j)
    if want("lpm_v4_large"):
        j = job_membership_v4(
            "lpm_v4_large",
            f"longest match with ids, {sizes['large']:,} IPv4 prefixes, {len(q_large):,} integer queries",
            l_start,
            l_plen,
            q_large,
            q_frac,
            skip,
            mm,
            lpm=True,
        )
        judge(j, "pytricia", 10)
        jobs.append(j)
        print_job(j)
    if want("member_v6"):
        j = job_membership_v6(
            "member_v6",
            f"membership, {sizes['v6']:,} IPv6 prefixes, {len(qh6):,} queries",
            h6,
            l6,
            p6,
            qh6,
            ql6,
            q6_frac,
            skip,
            mm,
        )
        judge(j, "pytricia", 5)
        jobs.append(j)
        print_job(j)
    if want("check_text"):
        with tempfile.TemporaryDirectory(dir=OUT) as tmp:
            j = job_check(
                "check_text",
                f"`vpnregistry check`: {len(q_large):,} addresses from a text file "
                f"against {sizes['large']:,} prefixes (whole process, output to a file)",
                l_start,
                l_plen,
                q_large,
                Path(tmp),
                skip,
            )
        judge(j, "pytricia", 5)
        jobs.append(j)
        print_job(j)

    report = {
        "mode": "quick" if args.quick else "full",
        "seed": args.seed,
        "sizes": sizes,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "jobs": {
            j.key: {
                "title": j.title,
                "target": j.target,
                "met": j.met,
                "verdict": j.verdict,
                "candidates": [
                    {
                        "name": r.name,
                        "seconds": round(r.seconds, 4),
                        "rate_per_s": round(r.rate, 1),
                        "mem_mib": None if r.mem_mib is None else round(r.mem_mib, 2),
                        "ratio_to_ours": round(r.seconds / j.results[0].seconds, 2),
                        "fraction_run": round(r.fraction, 4),
                        "same_answers": r.agrees,
                        "note": r.note,
                        **r.extra,
                    }
                    for r in j.results
                ],
            }
            for j in jobs
        },
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nfigures written to {os.path.relpath(args.out, ROOT)}; total {time.perf_counter() - t0:.0f}s")
    bad = [r.name for j in jobs for r in j.results if r.agrees is False]
    if bad:
        print(f"ANSWERS DIFFER: {', '.join(bad)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
