"""``--against``: load-test a running isrender server with keep-alive clients.

Traffic goes only to the host the user names: the URL must be an explicit http(s) URL of an
``/is/image/<company>/<asset>`` path, every request is built from it, and redirects are
counted, never followed (http.client does not follow them). Each client is a thread with one
persistent HTTP/1.1 connection (reopened only when the server closes it). Rows are capped in
duration (MAX_DURATION_S) and in requests (``max_requests``, at most MAX_REQUESTS).
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from isrender.bench.inputs import MAX_DURATION_S, MAX_REQUESTS
from isrender.bench.local import Progress
from isrender.bench.stats import percentile
from isrender.errors import BenchSetupError

__all__ = ["LoadRow", "Target", "parse_target", "run_load"]

# Kept readable in the query: the modifier language's own characters (%-escapes included).
_QUERY_SAFE = "=&$,;:/?!*'()~@+-_.%{}[]|"


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # /is/image/<company>/<asset>, as the user wrote it

    def connection(self, timeout: float) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return kind(self.host, self.port, timeout=timeout)

    def request_path(self, modifiers: str) -> str:
        query = quote(modifiers, safe=_QUERY_SAFE)
        return f"{self.path}?{query}" if query else self.path

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{self.path}"


def parse_target(url: str) -> Target:
    """The one host this run may talk to; anything but an explicit http(s) image URL is refused."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise BenchSetupError(f"--against takes an explicit http:// or https:// URL, not {url!r}")
    if not parts.hostname:
        raise BenchSetupError(f"--against: {url!r} names no host")
    if parts.username or parts.password:
        raise BenchSetupError("--against: credentials in the URL are not sent; remove them")
    if parts.query or parts.fragment:
        raise BenchSetupError("--against: give the modifiers with --mods, not in the URL")
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 4 or segments[:2] != ["is", "image"]:
        raise BenchSetupError(
            f"--against: the path must be /is/image/<company>/<asset>, not {parts.path or '/'!r}"
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise BenchSetupError(f"--against: {url!r} has an invalid port") from None
    return Target(parts.scheme, parts.hostname, port, parts.path)


@dataclass
class LoadRow:
    modifiers: str
    clients: int
    requests: int = 0
    duration_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    capped: bool = False  # stopped by the request cap before the duration was over

    @property
    def req_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    def as_data(self) -> dict[str, Any]:
        by_status = {str(k): v for k, v in sorted(self.statuses.items()) if k != 503}
        return {
            "modifiers": self.modifiers,
            "clients": self.clients,
            "requests": self.requests,
            "duration_s": round(self.duration_s, 3),
            "req_per_s": round(self.req_per_s, 2),
            "latency_ms": {
                "p50": round(percentile(self.latencies_ms, 0.5), 2),
                "p99": round(percentile(self.latencies_ms, 0.99), 2),
                "max": round(max(self.latencies_ms, default=0.0), 2),
            },
            "status_counts": by_status,
            "status_503": self.statuses.get(503, 0),
            "transport_errors": self.transport_errors,
            "capped_by_requests": self.capped,
        }


def check_reachable(target: Target) -> None:
    """One request before any row, so an unreachable server is an error, not a row of zeros."""
    connection = target.connection(timeout=10)
    try:
        connection.request("GET", target.request_path(""))
        connection.getresponse().read()
    except (OSError, http.client.HTTPException) as exc:
        raise BenchSetupError(f"cannot reach {target.host}:{target.port}: {exc}") from None
    finally:
        connection.close()


class _Shared:
    """What the client threads share: the request budget and the row they fill."""

    def __init__(self, row: LoadRow, deadline: float, max_requests: int) -> None:
        self.row, self.deadline, self.max_requests = row, deadline, max_requests
        self.lock = threading.Lock()
        self.claimed = 0

    def claim(self) -> bool:
        with self.lock:
            if time.perf_counter() >= self.deadline:
                return False
            if self.claimed >= self.max_requests:
                self.row.capped = True
                return False
            self.claimed += 1
            return True

    def record(self, status: int | None, seconds: float) -> None:
        with self.lock:
            if status is None:
                self.row.transport_errors += 1
                return
            self.row.requests += 1
            self.row.statuses[status] += 1
            self.row.latencies_ms.append(seconds * 1000)


def _client(target: Target, path: str, shared: _Shared) -> None:
    connection = target.connection(timeout=60)
    try:
        while shared.claim():
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                shared.record(None, 0.0)
                connection.close()  # the next request reconnects
                time.sleep(0.05)  # a refusing server must not be hammered in a tight loop
                continue
            shared.record(response.status, time.perf_counter() - started)
            if response.will_close:
                connection.close()
    finally:
        connection.close()


def run_load(
    target: Target,
    modifiers: str,
    clients: int,
    duration_s: float,
    max_requests: int,
    progress: Progress,
) -> LoadRow:
    if not 0 < duration_s <= MAX_DURATION_S:
        raise BenchSetupError(f"--duration must be more than 0 and at most {MAX_DURATION_S:g} s")
    if not 1 <= max_requests <= MAX_REQUESTS:
        raise BenchSetupError(f"--max-requests must be within 1..{MAX_REQUESTS}")
    row = LoadRow(modifiers, clients)
    started = time.perf_counter()
    shared = _Shared(row, started + duration_s, max_requests)
    path = target.request_path(modifiers)
    threads = [
        threading.Thread(target=_client, args=(target, path, shared), daemon=True)
        for _ in range(clients)
    ]
    progress.start(f"{modifiers} x {clients} client{'s' * (clients > 1)}", duration_s)
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.2)
            progress.update(min(time.perf_counter() - started, duration_s))
    row.duration_s = time.perf_counter() - started
    return row
