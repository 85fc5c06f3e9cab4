"""What plain ``uvicorn --workers 2`` adds at one client against ``isrender serve --workers 2``.

Both are real server processes serving the same app with the same tuning
(benchmarks/uvicorn_app.py); only the process model differs: uvicorn's supervisor hands one
inherited listening socket to spawned children, ``isrender serve``'s supervisor accepts and
hands each connection to a child by file descriptor (cli/balancer.py). A third server is
uvicorn with the app alone (no serving tuning: libvips' default thread pool and cache, 5 ms
GIL switches). One keep-alive client (benchmarks/loadgen.py, its own process) asks for a
300 px JPEG of the 800x533 corpus photo, and for ``/healthz`` (no render: the server's own
cost). Interleaved: each round measures every server, in a rotating order; the medians of
the per-round median latencies are compared. Printed: milliseconds a request for each
server, the differences and the ratios to ``isrender serve``, and the range of the round
medians (how noisy the machine was).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from tests.http_server import free_port

from benchmarks.test_server_peers import ISRENDER_MAIN, SOURCES, _process
from isrender.catalog import Catalog
from isrender.config import Settings

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = int(os.environ.get("ISRENDER_BENCH_ROUNDS", "9"))
REQUESTS = {"render": 40, "healthz": 200}  # per round and server, one client
WORKERS = 2
MEDIANS: dict[str, dict[str, float]] = {}  # path kind -> server -> median ms a request
SPREAD: dict[str, dict[str, tuple[float, float]]] = {}  # ... -> (lowest, highest) round median


def _servers(stack: ExitStack, folder: Path) -> dict[str, str]:
    """name -> base URL, both serving the same catalog."""
    data = folder / "data"
    catalog = Catalog(Settings(data_dir=data))
    catalog.upload(catalog.add_company("Acme").id, [SOURCES["800x533"]])
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])  # benchmarks.uvicorn_app
    env = {"ISRENDER_DATA_DIR": str(data), "ISRENDER_RESULT_CACHE_MB": "0", "PYTHONPATH": path}
    ports = {name: free_port() for name in ("isrender", "uvicorn", "uvicorn untuned")}
    commands = {
        "isrender": [sys.executable, "-c", ISRENDER_MAIN, "serve", "--port",
                     str(ports["isrender"]), "--workers", str(WORKERS), "--no-worker",
                     "--log-level", "warning"],
        "uvicorn": [sys.executable, "-m", "uvicorn", "benchmarks.uvicorn_app:app", "--factory",
                    "--port", str(ports["uvicorn"]), "--workers", str(WORKERS),
                    "--log-level", "warning", "--no-access-log"],
        "uvicorn untuned": [sys.executable, "-m", "uvicorn", "benchmarks.uvicorn_app:untuned_app",
                            "--factory", "--port", str(ports["uvicorn untuned"]), "--workers",
                            str(WORKERS), "--log-level", "warning", "--no-access-log"],
    }  # fmt: skip
    bases = {}
    for name, command in commands.items():
        bases[name] = f"http://127.0.0.1:{ports[name]}"
        stack.enter_context(_process(command, bases[name] + "/healthz", env))
    return bases


def _median_ms(url: str, requests: int) -> float:
    command = [sys.executable, str(ROOT / "benchmarks" / "loadgen.py"), url, "--clients", "1",
               "--requests", str(requests)]  # fmt: skip
    run = json.loads(subprocess.run(command, capture_output=True, check=True).stdout)
    assert all(status == 200 for status, _seconds in run["replies"]), url
    return statistics.median(seconds for _status, seconds in run["replies"]) * 1000


def test_uvicorn_workers_against_isrender_serve(benchmark: Any, tmp_path: Path) -> None:
    if not SOURCES["800x533"].is_file():
        pytest.skip("the corpus (../shared/corpus) is absent")
    paths = {"render": f"/is/image/Acme/{SOURCES['800x533'].stem}?wid=300&fmt=jpeg&qlt=80",
             "healthz": "/healthz"}  # fmt: skip
    with ExitStack() as stack:
        bases = _servers(stack, tmp_path)
        rounds: dict[str, dict[str, list[float]]] = {kind: {name: [] for name in bases}
                                                     for kind in paths}  # fmt: skip
        for number in range(ROUNDS + 1):  # round 0 warms both servers and is dropped
            order = list(bases)[number % len(bases) :] + list(bases)[: number % len(bases)]
            for kind, path in paths.items():
                for name in order:
                    latency = _median_ms(bases[name] + path, REQUESTS[kind])
                    if number:
                        rounds[kind][name].append(latency)
    for kind, per_server in rounds.items():
        MEDIANS[kind] = {name: statistics.median(values) for name, values in per_server.items()}
        SPREAD[kind] = {name: (min(values), max(values)) for name, values in per_server.items()}
    benchmark.pedantic(lambda: None, rounds=1)


def report() -> str:
    lines = []
    for kind, medians in MEDIANS.items():
        ours = medians["isrender"]
        others = "; ".join(
            f"{name} {ms:.2f} ms ({ms - ours:+.2f} ms = {ms / ours:.2f}x, rounds "
            f"{SPREAD[kind][name][0]:.2f}-{SPREAD[kind][name][1]:.2f})"
            for name, ms in medians.items() if name != "isrender"
        )  # fmt: skip
        lines.append(
            f"workers={WORKERS}, 1 client, {kind}, medians of {ROUNDS} interleaved rounds: "
            f"isrender serve {ours:.2f} ms (rounds {SPREAD[kind]['isrender'][0]:.2f}-"
            f"{SPREAD[kind]['isrender'][1]:.2f}); {others}"
        )
    return "\n".join(lines)
