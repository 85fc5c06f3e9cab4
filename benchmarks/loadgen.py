"""A keep-alive HTTP load generator, run in its own process so its work never shares the
measured server's interpreter: ``python benchmarks/loadgen.py URL --clients N``.

Each client is a thread with one persistent HTTP/1.1 connection (http.client: little Python
per request). ``{c}`` and ``{i}`` in the path are replaced by the client number and its
request number (distinct URLs when a test needs them). Prints one JSON object: every reply's
status and seconds, the wall time and the requests per second.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from urllib.parse import urlsplit


def client(
    host: str, port: int, path: str, number: int, until: float, count: int,
    out: list[tuple[int, float]],
) -> None:  # fmt: skip
    connection = http.client.HTTPConnection(host, port, timeout=120)
    i = 0
    while (count and i < count) or (not count and time.perf_counter() < until):
        started = time.perf_counter()
        try:
            connection.request("GET", path.replace("{c}", str(number)).replace("{i}", str(i)))
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            connection.close()
            status = 0
        out.append((status, time.perf_counter() - started))
        i += 1
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--requests", type=int, default=0, help="per client; 0: --duration")
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args()
    parts = urlsplit(args.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    results: list[list[tuple[int, float]]] = [[] for _ in range(args.clients)]
    started = time.perf_counter()
    until = started + args.duration
    threads = [
        threading.Thread(
            target=client,
            args=(parts.hostname, parts.port or 80, path, n, until, args.requests, results[n]),
        )
        for n in range(args.clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    replies = [reply for per_client in results for reply in per_client]
    print(json.dumps({"replies": replies, "wall": wall, "rps": len(replies) / wall}))


if __name__ == "__main__":
    main()
