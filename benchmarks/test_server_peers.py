"""isrender serve against thumbor and a raw Starlette + pyvips app (benchmarks/raw_app.py).

Same work everywhere: a 300 px wide JPEG (quality 80) from the 800x533 and the 6000x4000
(progressive) corpus JPEGs; result caches off; the same number of server processes (1, 2).
Keep-alive clients (1, 4, 16) run in their own process (benchmarks/loadgen.py). One run,
interleaved: for each cell the three servers are measured one after the other, REPEATS times
(``ISRENDER_BENCH_REPEATS``, in a rotating order), and the medians are kept. Printed: req/s
ratios (isrender/thumbor, isrender/raw, and the range of isrender/thumbor over the repeats:
how noisy the machine was), p99 and peak RSS per server process.

thumbor 7 runs from its own virtualenv, ``.venv-thumbor`` (made here with pip when missing:
thumbor pins its own Pillow and must not share isrender's environment), with the file loader,
no storage and no result storage. The cell is skipped with the reason when it cannot be
installed.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.http_server import free_port

from isrender.catalog import Catalog
from isrender.config import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "jpeg"
SOURCES = {"800x533": CORPUS / "giunchedi-srgb.jpg",
           "6000x4000p": CORPUS / "photo-6000x4000-progressive.jpg"}  # fmt: skip
CLIENTS = (1, 4, 16)
SECONDS = float(os.environ.get("ISRENDER_BENCH_SECONDS", "3"))
REPEATS = int(os.environ.get("ISRENDER_BENCH_REPEATS", "3"))
THUMBOR_VENV = ROOT / ".venv-thumbor"
ISRENDER_MAIN = "from isrender.cli import main; main()"
ROWS: list[dict[str, Any]] = []
CACHED: list[tuple[int, int, float, float]] = []  # workers, clients, req/s, p99 ms


def _thumbor() -> Path:
    binary = THUMBOR_VENV / "bin" / "thumbor"
    if not binary.is_file():
        made = subprocess.run(
            f"{sys.executable} -m venv {THUMBOR_VENV} && "
            f"{THUMBOR_VENV}/bin/pip install -q 'thumbor>=7,<8'",
            shell=True, capture_output=True, text=True,
        )  # fmt: skip
        if made.returncode or not binary.is_file():
            pytest.skip(f"thumbor could not be installed: {made.stderr.strip()[-400:]}")
    return binary


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (server workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _peak_rss_mb(pid: int) -> float:
    peaks = []
    for member in _tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        peaks += [int(line.split()[1]) / 1024 for line in status.splitlines()
                  if line.startswith("VmHWM:")]  # fmt: skip
    return max(peaks, default=0.0)


@contextmanager
def _process(command: list[str], url: str, env: dict[str, str]) -> Iterator[int]:
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url, timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, command
            time.sleep(0.2)
        yield process.pid
    finally:
        _stop_tree(process)


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its new parent to reap it is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _stop_tree(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server and its forked workers: thumbor's and the raw app's children
    outlive a parent stopped by a plain terminate()."""
    members = _tree(process.pid)
    for pid in members:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    process.wait(20)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in members[1:]):
        if time.monotonic() > deadline:
            for pid in members[1:]:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.1)


def _servers(stack: ExitStack, workers: int, folder: Path) -> dict[str, tuple[int, str]]:
    """name -> (pid, URL template with {source})."""
    data = folder / "isrender"
    catalog = Catalog(Settings(data_dir=data))
    catalog.upload(catalog.add_company("Acme").id, list(SOURCES.values()))
    images = folder / "images"
    images.mkdir()
    for path in SOURCES.values():
        (images / path.name).symlink_to(path)
    conf = folder / "thumbor.conf"
    conf.write_text(
        f"LOADER = 'thumbor.loaders.file_loader'\nFILE_LOADER_ROOT_PATH = '{images}'\n"
        "STORAGE = 'thumbor.storages.no_storage'\nRESULT_STORAGE = None\n"
        "ALLOW_UNSAFE_URL = True\nQUALITY = 80\nAUTO_WEBP = False\n"
    )
    ports = {name: free_port() for name in ("isrender", "thumbor", "raw")}
    urls = {
        "isrender": f"http://127.0.0.1:{ports['isrender']}/is/image/Acme/{{stem}}?wid=300&fmt=jpeg&qlt=80",
        "thumbor": f"http://127.0.0.1:{ports['thumbor']}/unsafe/300x0/{{name}}",
        "raw": f"http://127.0.0.1:{ports['raw']}/{{stem}}?w=300",
    }  # fmt: skip
    first = SOURCES["800x533"]
    commands = {
        "isrender": ([sys.executable, "-c", ISRENDER_MAIN, "serve", "--port",
                      str(ports["isrender"]), "--workers", str(workers), "--no-worker",
                      "--log-level", "warning"],
                     {"ISRENDER_DATA_DIR": str(data), "ISRENDER_RESULT_CACHE_MB": "0"}),
        "thumbor": ([str(_thumbor()), "-p", str(ports["thumbor"]), "-i", "127.0.0.1", "-c",
                     str(conf), "--processes", str(workers)], {}),
        "raw": ([sys.executable, str(ROOT / "benchmarks" / "raw_app.py"), str(images),
                 "--port", str(ports["raw"]), "--workers", str(workers)], {}),
    }  # fmt: skip
    found = {}
    for name, (command, env) in commands.items():
        url = urls[name].format(stem=first.stem, name=first.name)
        found[name] = (stack.enter_context(_process(command, url, env)), urls[name])
    return found


def _load(url: str, clients: int) -> dict[str, float]:
    loadgen = ROOT / "benchmarks" / "loadgen.py"
    command = [sys.executable, str(loadgen), url, "--clients", str(clients),
               "--duration", str(SECONDS)]  # fmt: skip
    run = json.loads(subprocess.run(command, capture_output=True, check=True).stdout)
    ok = sorted(seconds for status, seconds in run["replies"] if status == 200)
    p99 = ok[min(len(ok) - 1, int(0.99 * len(ok)))] * 1000 if ok else float("nan")
    return {"rps": len(ok) / run["wall"], "p99": p99, "errors": len(run["replies"]) - len(ok)}


def _cell(urls: dict[str, str], clients: int) -> dict[str, Any]:
    """Each server's medians over REPEATS interleaved runs, and the range of the
    isrender/thumbor req/s ratio over the repeats."""
    for url in urls.values():
        _load(url, clients)  # warm-up: first decode, connections
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in urls}
    for repeat in range(REPEATS):  # rotating order: no server always measured first
        names = list(urls)[repeat % len(urls) :] + list(urls)[: repeat % len(urls)]
        for name in names:
            runs[name].append(_load(urls[name], clients))
    cell: dict[str, Any] = {
        name: {key: statistics.median(run[key] for run in measured)
               for key in ("rps", "p99", "errors")}
        for name, measured in runs.items()
    }  # fmt: skip
    ratios = [ours["rps"] / theirs["rps"] if theirs["rps"] else float("nan")
              for ours, theirs in zip(runs["isrender"], runs["thumbor"], strict=True)]  # fmt: skip
    cell["thumbor_ratio_range"] = (min(ratios), max(ratios))
    return cell


@pytest.mark.parametrize("workers", [1, 2])
def test_isrender_vs_thumbor_vs_raw(benchmark: Any, workers: int, tmp_path: Path) -> None:
    if not all(path.is_file() for path in SOURCES.values()):
        pytest.skip("the corpus (../shared/corpus) is absent")
    with ExitStack() as stack:
        servers = _servers(stack, workers, tmp_path)
        for source, path in SOURCES.items():
            for clients in CLIENTS:
                row: dict[str, Any] = {"workers": workers, "source": source, "clients": clients}
                urls = {name: template.format(stem=path.stem, name=path.name)
                        for name, (_pid, template) in servers.items()}  # fmt: skip
                ROWS.append(row | _cell(urls, clients))
        for name, (pid, _template) in servers.items():
            for row in ROWS:
                if row["workers"] == workers:
                    row[name]["rss"] = _peak_rss_mb(pid)
    benchmark.pedantic(lambda: None, rounds=1)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_repeated_url_from_the_result_cache(benchmark: Any, workers: int, tmp_path: Path):
    """isrender alone, result cache on (the default): one URL asked again and again is
    answered from the cache on the event loop (goal: at least 1,000 req/s)."""
    if not SOURCES["800x533"].is_file():
        pytest.skip("the corpus (../shared/corpus) is absent")
    data = tmp_path / "isrender"
    catalog = Catalog(Settings(data_dir=data))
    catalog.upload(catalog.add_company("Acme").id, [SOURCES["800x533"]])
    port = free_port()
    url = f"http://127.0.0.1:{port}/is/image/Acme/{SOURCES['800x533'].stem}?wid=300&fmt=jpeg&qlt=80"
    command = [sys.executable, "-c", ISRENDER_MAIN, "serve", "--port", str(port), "--workers",
               str(workers), "--no-worker", "--log-level", "warning"]  # fmt: skip
    with _process(command, url, {"ISRENDER_DATA_DIR": str(data)}):
        assert httpx.get(url).headers["x-isrender-cache"] in ("hit", "miss")
        for clients in CLIENTS:
            _load(url, clients)  # every worker has the entry in memory after this
            runs = [_load(url, clients) for _ in range(REPEATS)]
            CACHED.append((workers, clients, statistics.median(r["rps"] for r in runs),
                           statistics.median(r["p99"] for r in runs)))  # fmt: skip
    benchmark.pedantic(lambda: None, rounds=1)


def report() -> str:
    lines = [
        f"result cache (workers={workers}, {clients:2} clients, one repeated URL): "
        f"{rps:7.1f} req/s, p99 {p99:.1f} ms"
        for workers, clients, rps, p99 in CACHED
    ]
    for row in ROWS:
        ours, thumbor, raw = row["isrender"], row["thumbor"], row["raw"]
        lines.append(
            f"server peers (workers={row['workers']}, {row['source']}, {row['clients']:2} "
            f"clients): isrender {ours['rps']:6.1f} req/s = {ours['rps'] / thumbor['rps']:.2f}x "
            f"thumbor (repeats {row['thumbor_ratio_range'][0]:.2f}-"
            f"{row['thumbor_ratio_range'][1]:.2f}), {ours['rps'] / raw['rps']:.2f}x raw; "
            f"p99 ms {ours['p99']:.0f} / "
            f"{thumbor['p99']:.0f} / {raw['p99']:.0f}; peak RSS MB a process "
            f"{ours['rss']:.0f} / {thumbor['rss']:.0f} / {raw['rss']:.0f}; non-200s "
            f"{ours['errors']:.0f} / {thumbor['errors']:.0f} / {raw['errors']:.0f}"
        )
    return "\n".join(lines)
