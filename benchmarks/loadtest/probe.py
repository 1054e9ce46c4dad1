"""An open-loop probe beside (or instead of) locust: fixed-rate 304 revalidations of latest.txt.

    python -m benchmarks.loadtest.probe PORT TOKEN [THREADS]

Each of THREADS threads (default 40) sends one request every 0.2 s for 20 s on a new connection
(THREADS x 5 requests a second), with the ETag of latest.txt, and prints p50, p90, p99 and max.
Unlike locust's figures, these do not depend on how busy the client's own event loop is.
"""

from __future__ import annotations

import http.client
import sys
import threading
import time

PERIOD, SECONDS = 0.2, 20
PATH = "/api/v1/allowlist/latest.txt"


def main() -> None:
    port, token = int(sys.argv[1]), sys.argv[2]
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    auth = {"Authorization": f"Token {token}"}
    first = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    first.request("GET", PATH, headers=auth)
    response = first.getresponse()
    response.read()
    headers = {**auth, "If-None-Match": response.getheader("ETag", "")}
    latencies: list[float] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        due = time.perf_counter() + i * PERIOD / threads
        end = time.perf_counter() + SECONDS
        while due < end:
            time.sleep(max(0.0, due - time.perf_counter()))
            start = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", PATH, headers=headers)
            connection.getresponse().read()
            connection.close()
            with lock:
                latencies.append((time.perf_counter() - start) * 1000)
            due += PERIOD

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    latencies.sort()
    n = len(latencies)
    print(
        f"{n} requests, {n / SECONDS:.0f}/s: p50 {latencies[n // 2]:.1f} ms, "
        f"p90 {latencies[int(n * 0.9)]:.1f} ms, p99 {latencies[int(n * 0.99)]:.1f} ms, "
        f"max {latencies[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
