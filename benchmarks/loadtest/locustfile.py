"""The load `make loadtest` offers the production server: operators, applicants and the public.

Each simulated user keeps a constant rate (locust's `constant_throughput`), so the offered load is
fixed whatever the latencies: with the counts and rates below, about 200 requests a second.

- Operators (each with its own API token): the signed index with If-None-Match (304 once held),
  the full `latest.txt` (and the nftables file now and then), `latest.txt` again with its ETag
  (304), and single exemption answers.
- Applicants (each with its own token and organisation): create an application and submit it.
- The public: the restriction-event calendar and the statistics as JSON.

The accounts come from the file the driver prepared (`LOADTEST_ACCOUNTS`).
"""

from __future__ import annotations

import itertools
import json
import os
import random

from locust import FastHttpUser, constant_throughput, task

ACCOUNTS = json.loads(open(os.environ["LOADTEST_ACCOUNTS"]).read())  # noqa: SIM115
# Per-user rates (requests or tasks a second) and counts: 100 x 1.9 + 20 x 0.1 x 2 + 15 x 1 = 209/s.
# Two applications a second (created and submitted) is 170,000 a day, fifty times the peak the design
# names; LOADTEST_APPLICANT_RATE=1 offers twenty a second, a stress mix whose writes dominate.
OPERATOR_RATE = float(os.environ.get("LOADTEST_OPERATOR_RATE", "1.9"))
APPLICANT_RATE = float(os.environ.get("LOADTEST_APPLICANT_RATE", "0.1"))
PUBLIC_RATE = float(os.environ.get("LOADTEST_PUBLIC_RATE", "1.0"))
_operators = itertools.count()
_applicants = itertools.count()


def _expect(response, status: int) -> None:
    if response.status_code != status:
        response.failure(f"HTTP {response.status_code}, expected {status}")
    else:
        response.success()


class Operator(FastHttpUser):
    fixed_count = len(ACCOUNTS["operators"])
    wait_time = constant_throughput(OPERATOR_RATE)

    def on_start(self) -> None:
        token = ACCOUNTS["operators"][next(_operators) % len(ACCOUNTS["operators"])]
        self.auth = {"Authorization": f"Token {token}"}
        self.etags: dict[str, str] = {}
        self.rng = random.Random()

    def _fetch(self, path: str, name: str) -> None:
        with self.client.get(path, headers=self.auth, name=name, catch_response=True) as response:
            _expect(response, 200)
            if response.status_code == 200:
                self.etags[path] = response.headers.get("ETag", "")

    def _revalidate(self, path: str, name: str) -> None:
        if path not in self.etags:
            self._fetch(path, name.replace("(304)", "(full)"))
            return
        headers = {**self.auth, "If-None-Match": self.etags[path]}
        with self.client.get(path, headers=headers, name=name, catch_response=True) as response:
            _expect(response, 304)

    @task(4)
    def index_304(self) -> None:
        self._revalidate("/api/v1/allowlist/index.json", "allowlist index.json (304)")

    @task(2)
    def latest_txt_full(self) -> None:
        self._fetch("/api/v1/allowlist/latest.txt", "allowlist latest.txt (full)")

    @task(1)
    def latest_nft_full(self) -> None:
        self._fetch("/api/v1/allowlist/latest.nft", "allowlist latest.nft (full)")

    @task(4)
    def latest_txt_304(self) -> None:
        self._revalidate("/api/v1/allowlist/latest.txt", "allowlist latest.txt (304)")

    @task(3)
    def exemption(self) -> None:
        address = self.rng.choice(ACCOUNTS["addresses"])
        with self.client.get(
            f"/api/v1/exemptions/check?address={address}",
            headers=self.auth,
            name="exemption check (single)",
            catch_response=True,
        ) as response:
            _expect(response, 200)


class Applicant(FastHttpUser):
    fixed_count = len(ACCOUNTS["applicants"])
    wait_time = constant_throughput(APPLICANT_RATE)

    def on_start(self) -> None:
        account = ACCOUNTS["applicants"][next(_applicants) % len(ACCOUNTS["applicants"])]
        self.auth = {"Authorization": f"Token {account['token']}"}
        self.value = account["value"]

    @task
    def create_and_submit(self) -> None:
        body = {"resources": [{"value": self.value, "subscriber_id": "SUB-LOAD-1", "district": "pb-lahore"}]}
        with self.client.post(
            "/api/v1/applications/",
            json=body,
            headers=self.auth,
            name="application create",
            catch_response=True,
        ) as response:
            _expect(response, 201)
            if response.status_code != 201:
                return
            pk = response.json()["id"]
        with self.client.post(
            f"/api/v1/applications/{pk}/submit/",
            headers=self.auth,
            name="application submit",
            catch_response=True,
        ) as response:
            _expect(response, 200)


class Public(FastHttpUser):
    fixed_count = int(os.environ.get("LOADTEST_PUBLIC_USERS", "15"))
    wait_time = constant_throughput(PUBLIC_RATE)

    @task(1)
    def events(self) -> None:
        with self.client.get("/events.json", name="public events.json", catch_response=True) as response:
            _expect(response, 200)

    @task(1)
    def statistics(self) -> None:
        with self.client.get("/statistics.json", name="public statistics.json", catch_response=True) as r:
            _expect(r, 200)
