"""Export throughput (issue 5): 200 corpus-derived images -> 1200 px WebP through an
ExportJob, against raw pyvips converting the same files in a single-threaded loop, in the same
run. Target: at least 1.6x the loop on 2 cores. The pool size is swept (1-4 workers) so the
default is chosen by measurement; peak RSS is read from VmHWM in a fresh process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pyvips = pytest.importorskip("pyvips")

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SOURCES = ["jpeg/giunchedi-srgb.jpg", "exif/Landscape_1.jpg", "jpeg/sample-a98.jpg",
           "webp/lossy.webp", "png/blackbug-rgba.png", "tiff/rgb16-adobergb.tiff"]  # fmt: skip
RESULTS: dict[str, float] = {}
COUNT = 200


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """200 JPEGs of 1600-2400 px derived from corpus photos (crops, flips, scales)."""
    if not SHARED.exists():
        pytest.skip("../shared/corpus is absent")
    folder = tmp_path_factory.mktemp("export-corpus")
    bases = [pyvips.Image.new_from_file(str(SHARED / s)).colourspace("srgb")[:3] for s in SOURCES]
    paths = []
    for i in range(COUNT):
        base = bases[i % len(bases)]
        width = 1600 + (i * 37) % 800
        image = base.resize(width / base.width)
        if i % 2:
            image = image.fliphor()
        path = folder / f"img{i:03}.jpg"
        image.cast("uchar").jpegsave(str(path), Q=88, keep=0)  # sRGB pixels, no profile:
        # both sides then do the same work (no ICC transform on either)
        paths.append(path)
    return paths


def raw_loop(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        # wid=1200 bounds the width only; thumbnail's height defaults to the width, which
        # would fit a portrait photo into 1200x1200 and do less work than the export
        image = pyvips.Image.thumbnail(str(path), 1200, height=10_000_000)
        total += len(image.webpsave_buffer(Q=80, keep=0))
    return total


EXPORT = """
import json, re, sys, time
from pathlib import Path
from isrender.catalog import Catalog, Role
from isrender.config import Settings
from isrender.jobs import JobService
from isrender.jobs.mail import LogTransport
data, workers, files = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
catalog = Catalog(Settings(data_dir=data, export_workers=workers))
acme = catalog.add_company("Acme").id
user = catalog.add_user("e@acme.example", "pw", Role.IPS_USER, ((acme, None),))
entries = catalog.upload(acme, [Path(f) for f in files], "products")
service = JobService(catalog, LogTransport())
handles = [f"a|{e.asset_id}" for e in entries]
payload = {"assetHandleArray": handles, "fmt": "convert", "is_modifier": "&fmt=webp&wid=1200"}
job = service.submit(user, "Acme", "bench", payload)
started = time.perf_counter()
job = service.run(job.id)
seconds = time.perf_counter() - started
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) / 1024
print(json.dumps({"seconds": seconds, "success": job.success, "peak_mb": peak}))
"""


def run_export(tmp: Path, workers: int, paths: list[Path]) -> dict[str, Any]:
    data = tmp / f"data-{workers}-{time.monotonic_ns()}"
    output = subprocess.run(
        [sys.executable, "-c", EXPORT, str(data), str(workers), *map(str, paths)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


def test_raw_pyvips_loop(benchmark: Any, images: list[Path]) -> None:
    assert benchmark.pedantic(raw_loop, args=(images,), rounds=2, warmup_rounds=0)
    RESULTS["raw"] = COUNT / benchmark.stats.stats.median


@pytest.mark.parametrize("workers", [1, 2, 3, 4])
def test_export_job(benchmark: Any, images: list[Path], tmp_path: Path, workers: int) -> None:
    """Each run in a fresh process (upload, submit, run); the rate counts the run only."""
    outcome = benchmark.pedantic(run_export, args=(tmp_path, workers, images), rounds=1)
    assert outcome["success"] == COUNT
    RESULTS[f"export-{workers}"] = COUNT / outcome["seconds"]
    RESULTS[f"peak-{workers}"] = outcome["peak_mb"]


def report() -> str:
    if "raw" not in RESULTS:
        return ""
    lines = [f"export: raw pyvips loop {RESULTS['raw']:.1f} assets/s (single thread)"]
    for workers in (1, 2, 3, 4):
        rate = RESULTS.get(f"export-{workers}")
        if rate:
            lines.append(
                f"export: ExportJob with {workers} worker(s) {rate:.1f} assets/s = "
                f"{rate / RESULTS['raw']:.2f}x the loop (target >= 1.6x), "
                f"peak RSS {RESULTS[f'peak-{workers}']:.0f} MB"
            )
    return "\n".join(lines)
