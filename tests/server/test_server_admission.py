"""Admission, cancellation and the memory bound, against a real ``isrender serve`` process.

Each test starts its own server with the settings it needs (render_slots, render_queue,
render_timeout, render_memory_mb), talks to it over keep-alive connections and reads its CPU
time and peak RSS from /proc. Each stays within a few seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from isrender.catalog import Catalog
from isrender.config import Settings
from tests.http_server import free_port, wait_until_serving

LOADGEN = Path(__file__).resolve().parents[2] / "benchmarks" / "loadgen.py"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "jpeg"
SMALL = CORPUS / "giunchedi-srgb.jpg"  # 800x533 baseline
BIG = CORPUS / "photo-6000x4000-progressive.jpg"  # 24 Mpx progressive: a full decode
# ~2.7 s on the big photo, alone on a core (one blur alone became ~0.4 s once JPEGs are
# decoded at a reduced scale: too close to the 0.3 s render_timeout to be sure of a 504)
SLOW = "wid=2000&layer=0&op_blur=100&op_noise=50&layer=comp&op_blur=100&fmt=png"
CHEAP = "wid=120&fmt=jpeg"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM in /proc status")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not BIG.is_file() or not SMALL.is_file():
        pytest.skip("the corpus (../shared/corpus) is absent")
    folder = tmp_path_factory.mktemp("admission") / "data"
    catalog = Catalog(Settings(data_dir=folder))
    catalog.upload(catalog.add_company("Acme").id, [SMALL, BIG])
    return folder


@contextmanager
def serving(data_dir: Path, **settings: object) -> Iterator[Server]:
    """``isrender serve`` (one worker, no job worker, result cache off) with ``settings``."""
    port = free_port()
    env = {**os.environ, "ISRENDER_DATA_DIR": str(data_dir), "ISRENDER_RESULT_CACHE_MB": "0"}
    env.update({f"ISRENDER_{key.upper()}": str(value) for key, value in settings.items()})
    command = [sys.executable, "-c", "from isrender.cli import main; main()", "serve", "--port",
               str(port), "--workers", "1", "--no-worker", "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        wait_until_serving(f"{server.url}/healthz", process, why=lambda: "no server")
        yield server
    finally:
        process.terminate()
        process.wait(10)


def image(name: str, modifiers: str) -> str:
    return f"/is/image/Acme/{name}?{modifiers}"


def timed_get(client: httpx.Client, path: str, **headers: str) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    reply = client.get(path, headers=headers)
    return reply, time.perf_counter() - started


def test_a_slow_render_is_stopped_and_its_slot_comes_back(data_dir: Path) -> None:
    """504 from inside libvips: the CPU stops and the next request needing the only slot is
    answered about as fast as when the server is idle."""
    with serving(data_dir, render_slots=1, render_timeout=0.3) as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:  # fmt: skip
        cheap = image(SMALL.stem, CHEAP)
        for _ in range(3):
            assert client.get(cheap).status_code == 200  # warm
        idle = statistics.median(timed_get(client, cheap)[1] for _ in range(7))
        slow, slow_seconds = timed_get(client, image(BIG.stem, SLOW))
        after, after_seconds = timed_get(client, cheap)
        cpu_before = server.cpu_seconds()
        time.sleep(0.5)
        cpu_idle = server.cpu_seconds() - cpu_before
    assert slow.status_code == 504 and "longer than" in slow.text, slow.text
    assert slow_seconds < 1.2, f"504 after {slow_seconds:.2f} s: the render was not stopped"
    assert after.status_code == 200
    assert after_seconds <= 2 * max(idle, 0.02), (after_seconds, idle)
    assert cpu_idle < 0.15, f"{cpu_idle:.2f} s of CPU in 0.5 s after the 504: still rendering"


def test_admission_comes_before_parsing_and_cheap_replies_never_wait(data_dir: Path) -> None:
    """With the one slot busy and no queue, a render is refused at once (an invalid modifier
    string too: nothing parsed it); a 304 and req=exists are still answered."""
    # SLOW takes 3.5-4.2 s on 2 idle cores: a 5 s timeout answered it 504 under load
    with serving(data_dir, render_slots=1, render_queue=0, render_timeout=30) as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:  # fmt: skip
        etag = client.get(image(SMALL.stem, CHEAP)).headers["etag"]

        async def busy_then_probe() -> list[tuple[httpx.Response, float]]:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as slow_client:
                slow = asyncio.ensure_future(slow_client.get(image(BIG.stem, SLOW)))
                await asyncio.sleep(0.25)  # the slow render holds the slot
                probes = [
                    await asyncio.to_thread(timed_get, client, image(SMALL.stem, "wid=abc")),
                    await asyncio.to_thread(timed_get, client, image(SMALL.stem, CHEAP)),
                    await asyncio.to_thread(
                        timed_get, client, image(SMALL.stem, CHEAP), **{"If-None-Match": etag}
                    ),
                    await asyncio.to_thread(timed_get, client, image(SMALL.stem, "req=exists")),
                ]
                assert (await slow).status_code == 200
                return probes

        (bad, bad_s), (busy, busy_s), (cond, cond_s), (exists, _) = asyncio.run(busy_then_probe())
    for refused, seconds in ((bad, bad_s), (busy, busy_s)):
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert seconds < 0.05, f"a refusal took {seconds * 1000:.0f} ms"
    assert cond.status_code == 304 and cond_s < 0.2
    assert exists.status_code == 200 and "catalogRecord.exists=1" in exists.text


def test_a_short_burst_waits_in_the_queue(data_dir: Path) -> None:
    """8 renders at once on 2 slots with a queue of 8: all answered 200, none refused."""
    with serving(data_dir, render_slots=2, render_queue=8, render_queue_timeout=10) as server:

        async def burst() -> list[int]:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                paths = [image(SMALL.stem, f"wid={200 + n}&fmt=jpeg") for n in range(8)]
                return [r.status_code for r in await asyncio.gather(*map(client.get, paths))]

        assert asyncio.run(burst()) == [200] * 8


def test_64_clients_get_200s_and_fast_503s(data_dir: Path) -> None:
    """Overload: only 200s and 503s; the 503s are cheap (p50 under 50 ms). The 64 clients run
    in their own process (benchmarks/loadgen.py), so the test's Python does not slow them."""
    with serving(data_dir, render_slots=2, render_queue=4, render_queue_timeout=0.5) as server:
        url = server.url + image(SMALL.stem, "wid=3{c}&fmt=jpeg&.i={i}")
        command = [sys.executable, str(LOADGEN), url, "--clients", "64", "--requests", "4"]
        run = subprocess.run(command, capture_output=True, check=True, timeout=120)
    replies = json.loads(run.stdout)["replies"]
    assert len(replies) == 64 * 4  # each request answered once, none counted twice
    statuses = {status for status, _ in replies}
    refused = [seconds for status, seconds in replies if status == 503]
    assert statuses == {200, 503}, statuses
    assert statistics.median(refused) < 0.05, f"p50 of 503s: {statistics.median(refused):.3f} s"


def test_memory_stays_bounded_under_16_clients_on_24_mpx_progressive(data_dir: Path) -> None:
    """Renders are admitted by their estimated decode memory: 16 clients thumbnailing a
    24 Mpx progressive JPEG keep the process under 400 MB."""
    with serving(data_dir, render_slots=4, render_queue=16, render_queue_timeout=30,
                 render_memory_mb=192) as server:  # fmt: skip

        async def load() -> list[int]:
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
                paths = [image(BIG.stem, f"wid={300 + n}&fmt=jpeg") for n in range(16)]
                return [r.status_code for r in await asyncio.gather(*map(client.get, paths))]

        statuses = asyncio.run(load())
        peak = server.peak_rss_mb()
    assert statuses == [200] * 16
    assert peak <= 400, f"peak RSS {peak:.0f} MB"
