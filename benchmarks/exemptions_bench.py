"""Bulk exemption answers through the API on 127.0.0.1, against `vpnregistry check` on the same data.

A throwaway registry (SQLite under a temporary folder) is filled with a million registrations
(quick: 20,000) with active periods, served by gunicorn on 127.0.0.1, and sent ten million IPv4
addresses (quick: 200,000), half of them covered, as one streamed POST. The same addresses go
through `vpnregistry check` against the same prefixes; both must count the same covered addresses.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _env(home: Path) -> dict:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.update(
        VPNREGISTRY_VAR=str(home), VPNREGISTRY_DEBUG="1", DJANGO_SETTINGS_MODULE="vpnregistry.settings"
    )
    return env


def _populate(home: Path, count: int) -> list[str]:
    """Registrations straight into the tables (the workflow is not what is measured); their prefixes."""
    os.environ.update(_env(home))
    import django

    django.setup()
    from django.utils import timezone

    from benchmarks.allowlist_bench import make_allowlist
    from vpnregistry.accounts.models import Agency, Category, Operator, Organisation, Role, User
    from vpnregistry.applications.models import Application, Resource
    from vpnregistry.db import network_keys
    from vpnregistry.registrations.models import ActivePeriod, Registration, new_reference

    prefixes = list(make_allowlist(count, 0).ipv4)
    agency = Agency.objects.create(code="bench", name="Bench")
    category = Category.objects.create(code="company", name="Company", agency=agency)
    operator = Operator.objects.create(code="bench", name="Bench")
    org = Organisation.objects.create(name="Bench", category=category)
    user = User.objects.create(username="bench", role=Role.APPLICANT, organisation=org)
    app = Application.objects.create(organisation=org, category=category, created_by=user, state="approved")
    now = timezone.now() - timedelta(hours=1)
    until = now + timedelta(days=365)
    batch = 50_000
    for i in range(0, len(prefixes), batch):
        chunk = prefixes[i : i + batch]
        keys = [network_keys(ipaddress.ip_network(p)) for p in chunk]
        resources = Resource.objects.bulk_create(
            [
                Resource(
                    application=app,
                    kind="ipv4",
                    value=p,
                    family=4,
                    first=k[1],
                    last=k[2],
                    operator=operator,
                    subscriber_id="S",
                    state="confirmed",
                )
                for p, k in zip(chunk, keys, strict=True)
            ],
            batch_size=5000,
        )
        registrations = Registration.objects.bulk_create(
            [
                Registration(
                    reference=new_reference(),
                    resource=r,
                    organisation=org,
                    operator=operator,
                    kind="ipv4",
                    value=r.value,
                    family=4,
                    first=r.first,
                    last=r.last,
                    valid_from=now,
                    valid_until=until,
                )
                for r in resources
            ],
            batch_size=5000,
        )
        ActivePeriod.objects.bulk_create(
            [ActivePeriod(registration=r, start=now, end=until) for r in registrations], batch_size=5000
        )
    return prefixes


def _queries(prefixes: list[str], n: int, path: Path, rng: random.Random) -> None:
    nets = [ipaddress.ip_network(p) for p in rng.sample(prefixes, min(len(prefixes), 100_000))]
    with open(path, "w") as fh:
        block = []
        for i in range(n):
            if i % 2 == 0:
                net = nets[rng.randrange(len(nets))]
                addr = int(net.network_address) + rng.randrange(net.num_addresses)
            else:
                addr = rng.randrange(1 << 24, 224 << 24)
            block.append(socket.inet_ntoa(addr.to_bytes(4, "big")))
            if len(block) == 100_000:
                fh.write("\n".join(block) + "\n")
                block = []
        if block:
            fh.write("\n".join(block) + "\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(quick: bool = False) -> dict:
    registrations = 20_000 if quick else 1_000_000
    addresses = 200_000 if quick else 10_000_000
    rng = random.Random(3)
    with tempfile.TemporaryDirectory(prefix="vpnregistry-bench-") as tmp:
        home = Path(tmp)
        env = _env(home)
        subprocess.run([BIN / "vpnregistry", "migrate", "-v", "0"], env=env, check=True, cwd=tmp)
        t0 = time.perf_counter()
        prefixes = _populate(home, registrations)
        fill_seconds = time.perf_counter() - t0
        from vpnregistry.accounts.authentication import issue_token
        from vpnregistry.accounts.models import Operator, Role, User

        staff = User.objects.create(
            username="bench-operator", role=Role.OPERATOR, operator=Operator.objects.get(code="bench")
        )
        token = issue_token(staff)
        queries = home / "queries.txt"
        _queries(prefixes, addresses, queries, rng)
        allowlist = home / "allowlist.txt"
        allowlist.write_text("\n".join(prefixes) + "\n")

        port = _free_port()
        server = subprocess.Popen(
            [
                BIN / "gunicorn",
                "vpnregistry.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "900",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=tmp,
        )
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)

            def post() -> tuple[float, int, int]:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
                start = time.perf_counter()
                with open(queries, "rb") as body:
                    conn.request(
                        "POST",
                        "/api/v1/exemptions/check",
                        body=body,
                        headers={
                            "Authorization": f"Token {token}",
                            "Content-Type": "text/plain",
                            "Content-Length": str(queries.stat().st_size),
                        },
                    )
                    response = conn.getresponse()
                    assert response.status == 200, response.read()[:500]
                    lines = hits = 0
                    tail = b""
                    while block := response.read(1 << 20):
                        block = tail + block
                        cut = block.rfind(b"\n") + 1
                        lines += block.count(b"\n", 0, cut)
                        hits += block.count(b",true,", 0, cut)
                        tail = block[cut:]
                conn.close()
                return time.perf_counter() - start, lines - 1, hits

            first_seconds, answered, api_hits = post()  # builds and caches the index for this time
            api_seconds, answered, api_hits = post()
        finally:
            server.terminate()
            server.wait(timeout=30)

        start = time.perf_counter()
        check = subprocess.run(
            [BIN / "vpnregistry", "check", "--allowlist", str(allowlist), str(queries)],
            stdout=subprocess.PIPE,
            check=True,
        )
        check_seconds = time.perf_counter() - start
        check_hits = check.stdout.count(b"\tyes\n")
    assert answered == addresses, (answered, addresses)
    assert api_hits == check_hits, ("the API and check disagree", api_hits, check_hits)
    figures = {
        "registrations": registrations,
        "addresses": addresses,
        "covered": api_hits,
        "fill_seconds": round(fill_seconds, 1),
        "first_request_seconds": round(first_seconds, 2),
        "api_seconds": round(api_seconds, 2),
        "api_rate": round(addresses / api_seconds),
        "check_seconds": round(check_seconds, 2),
        "check_rate": round(addresses / check_seconds),
        "ratio_api_to_check": round(check_seconds / api_seconds, 2),
    }
    print(
        f"exemption answers: {addresses:,} IPv4 addresses against {registrations:,} registrations "
        f"({api_hits:,} covered)"
    )
    print(
        f"  API, one streamed POST on 127.0.0.1 (gunicorn, 1 worker)  {api_seconds:8.2f} s "
        f"{figures['api_rate']:>14,} addresses/s  (first request, building the index: {first_seconds:.2f} s)"
    )
    print(
        f"  vpnregistry check, same addresses and prefixes             {check_seconds:8.2f} s "
        f"{figures['check_rate']:>14,} addresses/s"
    )
    print(
        f"  ratio (API rate / check rate)                              {figures['ratio_api_to_check']:8.2f}"
    )
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    result = run(quick=parser.parse_args().quick)
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "exemptions.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"figures written to {out / 'exemptions.json'}")
