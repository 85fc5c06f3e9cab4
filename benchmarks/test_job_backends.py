"""Job backends (issue 9): one ExportJob of 100 corpus-derived photos -> 1200 px WebP, on the
local backend (``isrender jobs worker --processes 2``) and on Celery (``--concurrency 2`` on a
real redis-server), against a raw pyvips loop and a 2-process raw pyvips pool doing the same
work (thumbnail to 1200 px, WebP Q 80, file written) in the same run.
Goal: both backends >= 0.9x the pool's throughput (>= 1.7x the loop's) on 2 cores.

Workers and the pool are started, and warmed until both of their processes have worked, before
the timer: process start-up is not export time. A backend's time is submit -> Done as seen in
the database, split into pickup + planning, the entries, and the finish step (manifest, ZIP).
Rounds interleave (loop, pool, local, celery, loop, ...) so the drift of a shared machine hits
every variant alike; the report gives medians. Each backend's workers live only during its own
turn: a local worker claims any job in the database, so it would steal Celery's chunks.

The claim/lease overhead is measured on the database work alone: a planned job's chunks
claimed, entries settled and chunks released with no rendering, and a whole job of 100 tiny
originals (fmt=orig) run in this process.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pyvips = pytest.importorskip("pyvips")

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SOURCES = ("jpeg/photo-4000x6000-progressive.jpg", "jpeg/photo-6000x4000-progressive.jpg",
           "jpeg/ultra-hdr.jpg")  # fmt: skip
ISRENDER = str(Path(sys.executable).with_name("isrender"))
COUNT, ROUNDS, PROCESSES, WIDTH, QUALITY = 100, 3, 2, 1200, 80
EXPORT = {"fmt": "convert", "is_modifier": f"wid={WIDTH}&fmt=webp"}
UNBOUNDED = 10_000_000  # a thumbnail height that never binds: the width alone sets the size
WARM_UP = 8  # entries of the warm-up job: two chunks, so both worker processes can take one
SECONDS: dict[str, list[float]] = {}  # variant -> wall seconds per round
# backend -> per round (submit -> Running, the entries, the finish step) in seconds
PHASES: dict[str, list[tuple[float, float, float]]] = {}
OVERHEAD: dict[str, float] = {}  # what -> milliseconds per entry
NOTES: list[str] = []


# ---- the images and the catalog ----------------------------------------------------------------


def derive_images(folder: Path, count: int) -> list[Path]:
    """``count`` distinct JPEGs of 2.5-4 Mpx: crops of three corpus photos at varying windows,
    sizes, flips and JPEG qualities. sRGB pixels and no profile, so the raw side and isrender
    do the same work (no ICC transform on either)."""
    bases = [pyvips.Image.thumbnail(str(CORPUS / s), 3200, height=3200).colourspace("srgb")[:3]
             .copy_memory() for s in SOURCES]  # fmt: skip
    paths = []
    for i in range(count):
        base = bases[i % len(bases)]
        share = 0.7 + 0.3 * ((i * 7) % 10) / 10  # the crop window: 70-97 % of each side
        width, height = int(base.width * share), int(base.height * share)
        left = (base.width - width) * ((i * 3) % 5) // 4
        top = (base.height - height) * ((i * 2) % 5) // 4
        image = base.crop(left, top, width, height)
        megapixels = 2.5 + 1.5 * ((i * 13) % 11) / 10
        image = image.resize(math.sqrt(megapixels * 1e6 / (width * height)))
        if i % 2:
            image = image.fliphor()
        path = folder / f"photo{i:03}.jpg"
        image.cast("uchar").jpegsave(str(path), Q=84 + i % 9, keep=0)
        paths.append(path)
    return paths


@dataclass
class Bench:
    catalog: Any  # isrender.catalog.Catalog
    user: Any  # the submitting User
    company: str  # its company handle
    photos: list[Path]
    handles: list[str]  # the photos' asset handles, in order
    tiny: list[str]  # asset handles of 100 tiny originals (the overhead job)
    broker: str  # a Redis URL, or "" when there is none
    broker_absent: str  # why not

    def environment(self, broker: str = "") -> dict[str, str]:
        settings = self.catalog.settings
        return {**os.environ, "ISRENDER_DATA_DIR": str(settings.data_dir),
                "ISRENDER_DATABASE_URL": settings.database_url, "ISRENDER_BROKER_URL": broker,
                "ISRENDER_CONFIG": str(settings.data_dir / "none.toml")}  # fmt: skip

    def service(self, broker: str = "") -> Any:
        """A JobService on the local backend, or on Celery with ``broker``. threads=1: a
        service with a thread pool would set libvips to one thread in this process, which
        would slow the raw loop measured here."""
        from isrender.catalog import Catalog
        from isrender.config import Settings
        from isrender.jobs import JobService
        from isrender.jobs.mail import LogTransport

        ours = self.catalog.settings
        catalog = self.catalog
        if broker:
            catalog = Catalog(Settings(data_dir=ours.data_dir, database_url=ours.database_url,
                                       broker_url=broker))  # fmt: skip
        return JobService(catalog, LogTransport(), threads=1)

    def submit(self, service: Any, handles: list[str], name: str, **export: str) -> int:
        payload = {"assetHandleArray": handles, **(export or EXPORT)}
        return int(service.submit(self.user, self.company, name, payload).id)


@contextmanager
def redis() -> Iterator[tuple[str, str]]:
    """(URL, "") of a real redis-server, or ("", why there is none)."""
    url = os.environ.get("ISRENDER_TEST_REDIS_URL", "")
    if url:
        yield url, ""
        return
    if shutil.which("redis-server") is None:
        yield "", "redis-server is not installed and ISRENDER_TEST_REDIS_URL is not set"
        return
    from tests.services import _own_redis

    with _own_redis() as started:
        yield started, ""


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    if not CORPUS.exists():
        pytest.skip("../shared/corpus is absent")
    from isrender.catalog import Catalog, Role
    from isrender.config import Settings

    root = tmp_path_factory.mktemp("job-backends")
    (root / "photos").mkdir()
    (root / "tiny").mkdir()
    photos = derive_images(root / "photos", COUNT)
    for i in range(COUNT):  # distinct tiny originals: only the job system's own work is left
        pyvips.Image.black(8, 8).linear(1, i).cast("uchar").pngsave(str(root / f"tiny/t{i}.png"))
    catalog = Catalog(Settings(data_dir=root / "data"))
    acme = catalog.add_company("Acme").id
    user = catalog.add_user("editor@acme.example", "secret", Role.IPS_USER, ((acme, None),))
    uploaded = catalog.upload(acme, photos, "products")
    tiny = catalog.upload(acme, sorted((root / "tiny").iterdir()), "tiny")
    with redis() as (url, absent):
        yield Bench(catalog, user, f"c|{acme}", photos, [f"a|{e.asset_id}" for e in uploaded],
                    [f"a|{e.asset_id}" for e in tiny], url, absent)  # fmt: skip


# ---- the variants ------------------------------------------------------------------------------


def convert(pair: tuple[Path, Path]) -> int:
    """The raw work of one entry: shrink-on-load thumbnail, WebP, the file written. The height
    is unbounded because thumbnail's defaults to the width (a square box): a portrait photo
    would come out 1200 px high and narrower, half the pixels isrender's wid=1200 makes."""
    source, target = pair
    image = pyvips.Image.thumbnail(str(source), WIDTH, height=UNBOUNDED)
    data = image.webpsave_buffer(Q=QUALITY, keep=0)
    target.write_bytes(data)
    return len(data)


def _ready(delay: float) -> int:
    """A pool process with libvips loaded and its WebP saver initialised, and its pid."""
    pyvips.Image.black(64, 64).webpsave_buffer()
    time.sleep(delay)
    return os.getpid()


def pairs_of(bench: Bench, variant: str) -> list[tuple[Path, Path]]:
    folder = bench.catalog.settings.data_dir / "raw" / variant
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return [(p, folder / f"{p.stem}.webp") for p in bench.photos]


def run_loop(bench: Bench) -> float:
    pairs = pairs_of(bench, "loop")
    started = time.perf_counter()
    sizes = [convert(pair) for pair in pairs]
    seconds = time.perf_counter() - started
    assert len(sizes) == COUNT and all(sizes)
    assert {pyvips.Image.new_from_file(str(target)).width for _, target in pairs} == {WIDTH}
    return seconds


def run_pool(bench: Bench) -> float:
    """The ideal pool: spawned and warm before the timer, one image per task (best balance)."""
    pairs = pairs_of(bench, "pool")
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        while len(set(pool.map(_ready, [0.05] * PROCESSES * 2, chunksize=1))) < PROCESSES:
            pass  # until every process has answered: all of them started and initialised
        started = time.perf_counter()
        sizes = pool.map(convert, pairs, chunksize=1)
        seconds = time.perf_counter() - started
    assert len(sizes) == COUNT and all(sizes)
    return seconds


@dataclass
class Workers:
    """A running ``isrender jobs worker`` and the JobService that submits to it."""

    process: subprocess.Popen[bytes]
    log: Path
    service: Any

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited:\n{self.log.read_text()[-3000:]}")


@contextmanager
def worker_processes(bench: Bench, broker: str) -> Iterator[Workers]:
    """``isrender jobs worker`` (local processes, or Celery with ``broker``) in its own
    process group, warmed up."""
    args = ["--concurrency", str(PROCESSES)] if broker else ["--processes", str(PROCESSES)]
    log_path = bench.catalog.settings.data_dir / f"worker-{time.monotonic_ns()}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([ISRENDER, "jobs", "worker", *args],
                                   env=bench.environment(broker), stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        try:
            workers = Workers(process, log_path, bench.service(broker))
            warm_up(bench, workers)
            yield workers
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


def warm_up(bench: Bench, workers: Workers) -> None:
    """Small jobs until two distinct worker processes have each claimed a chunk."""
    from isrender.jobs.models import JobChunk

    pids: set[str] = set()
    for attempt in range(8):
        job_id = bench.submit(workers.service, bench.handles[:WARM_UP], f"warm-up-{attempt}")
        wait_done(bench, workers, job_id, timeout=120)
        with bench.catalog.session() as s:
            owners = s.query(JobChunk.owner).filter(JobChunk.job_id == job_id).all()
        pids |= {str(owner).split(":")[-2] for (owner,) in owners if owner}
        clean_outputs(bench, job_id)
        if len(pids) >= PROCESSES:
            return
    NOTES.append(f"only {len(pids)} worker process(es) took part in the warm-up jobs")


def wait_done(bench: Bench, workers: Workers, job_id: int, timeout: float) -> tuple[float, float]:
    """Poll until Done; returns the perf_counter times at which the job was first seen
    started (Running or beyond) and with every entry processed."""
    from isrender.jobs.models import Job

    deadline = time.monotonic() + timeout
    running = settled = 0.0
    while time.monotonic() < deadline:
        with bench.catalog.session() as s:
            state, processed, total = (
                s.query(Job.state, Job.processed, Job.total).filter(Job.id == job_id).one()
            )
        now = time.perf_counter()
        running = running or (now if state != "New" else 0.0)
        settled = settled or (now if processed >= total else 0.0)
        if state == "Done":
            return running or now, settled or now
        workers.check_alive()
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for job {job_id} (worker log: {workers.log})")


def clean_outputs(bench: Bench, job_id: int) -> None:
    folder = bench.catalog.settings.data_dir / "outputs" / str(job_id)
    shutil.rmtree(folder, ignore_errors=True)
    folder.with_suffix(".zip").unlink(missing_ok=True)


def run_backend(bench: Bench, name: str, broker: str = "") -> float:
    with worker_processes(bench, broker) as workers:
        started = time.perf_counter()
        job_id = bench.submit(workers.service, bench.handles, f"bench-{name}")
        running, settled = wait_done(bench, workers, job_id, timeout=600)
        done = time.perf_counter()
    job = workers.service.job(job_id)
    assert (job.success, job.errors, job.total) == (COUNT, 0, COUNT), (job.success, job.errors)
    outputs = bench.catalog.settings.data_dir / "outputs" / str(job_id)
    assert len(list(outputs.rglob("*.webp"))) == COUNT
    clean_outputs(bench, job_id)
    PHASES.setdefault(name, []).append((running - started, settled - running, done - settled))
    return done - started


def test_export_100_images_on_each_backend(benchmark: Any, bench: Bench) -> None:
    """One benchmark round = one interleaved round of every variant."""
    variants: dict[str, Callable[[], float]] = {
        "loop": lambda: run_loop(bench),
        "pool": lambda: run_pool(bench),
        "local": lambda: run_backend(bench, "local"),
    }
    if bench.broker:
        variants["celery"] = lambda: run_backend(bench, "celery", bench.broker)
    else:
        NOTES.append(f"celery row skipped: {bench.broker_absent}")

    def one_round() -> None:
        for name, run in variants.items():
            SECONDS.setdefault(name, []).append(run())

    benchmark.pedantic(one_round, rounds=ROUNDS, warmup_rounds=0)
    for name, times in SECONDS.items():
        benchmark.extra_info[f"{name}_median_s"] = statistics.median(times)


# ---- the claim/lease overhead ------------------------------------------------------------------


def ledger_cycle(bench: Bench, job_id: int) -> dict[str, float]:
    """A planned job worked as a worker does, without rendering or writing: per chunk claim,
    pending entries and release (and one lease renewal); per entry the stop/pause flags, the
    entry's re-check (prepare) and its settle. Seconds spent on each."""
    from isrender.jobs.entries import Exporter
    from isrender.jobs.ledger import Ledger, LogLine
    from isrender.jobs.worker import new_owner

    ledger, owner = Ledger(bench.catalog), new_owner()
    spent = dict.fromkeys(("claim", "renew", "release", "flags", "prepare", "settle"), 0.0)

    @contextmanager
    def timed(kind: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        spent[kind] += time.perf_counter() - started

    exporter = Exporter(bench.catalog, bench.service().job(job_id))
    counts = {"success": 1, "processed": 1}
    while True:
        with timed("claim"):
            claim = ledger.claim(owner, job_id)
            rows = ledger.pending(claim) if claim else []
        if claim is None:
            return spent
        with timed("renew"):
            assert ledger.renew(claim.chunk_id, owner)
        for row in rows:
            with timed("flags"):
                ledger.flags(job_id)
            with timed("prepare"):
                exporter.prepare(row.handle)
            line = LogLine("ExportSuccess", f"Exported {row.output}", row.idx + 1, row.handle)
            with timed("settle"):
                assert ledger.settle(row.id, job_id, line, counts, "0" * 64, 1)
        with timed("release"):
            assert ledger.release(claim.chunk_id, owner)


def test_claim_and_lease_overhead_per_entry(benchmark: Any, bench: Bench) -> None:
    """The database work of the job system per entry, with no rendering: ledger cycles on a
    planned job of the 100 photos, then (the benchmark) whole fmt=orig jobs of 100 tiny files
    run in this process by one worker."""
    from isrender.jobs.plan import Planner

    service = bench.service()
    cycles: list[dict[str, float]] = []
    for n in range(ROUNDS):
        job_id = bench.submit(service, bench.handles, f"ledger-{n}")
        started = time.perf_counter()
        assert Planner(bench.catalog).start(service.job(job_id))
        spent = {"plan": time.perf_counter() - started, **ledger_cycle(bench, job_id)}
        assert service.job(job_id).processed == COUNT
        cycles.append(spent)
    for what in cycles[0]:
        OVERHEAD[what] = 1000 * statistics.median(c[what] for c in cycles) / COUNT

    def submitted() -> tuple[tuple[int], dict[str, Any]]:
        return (bench.submit(service, bench.tiny, "tiny", fmt="orig"),), {}

    def run(job_id: int) -> None:
        job = service.run(job_id)
        assert (job.success, job.total) == (COUNT, COUNT)

    benchmark.pedantic(run, setup=submitted, rounds=ROUNDS)
    OVERHEAD["tiny job"] = 1000 * benchmark.stats.stats.median / COUNT


# ---- the summary -------------------------------------------------------------------------------


def _row(label: str, name: str, medians: dict[str, float]) -> str:
    loop, pool, ours = medians["loop"], medians["pool"], medians[name]
    rounds = " ".join(f"{seconds:.1f}" for seconds in SECONDS[name])
    versus = f"{loop / ours:.2f}x loop" + (f"  {pool / ours:.2f}x pool" if name in PHASES else "")
    return f"  {label:<27} {ours:6.2f} s  {versus}  (rounds {rounds})"


def _backend(name: str, medians: dict[str, float]) -> str:
    met = medians["loop"] / medians[name] >= 1.7 and medians["pool"] / medians[name] >= 0.9
    plan, entries, finish = (statistics.median(p[i] for p in PHASES[name]) for i in range(3))
    return (
        f"      goal >= 1.7x loop and >= 0.9x pool: {'met' if met else 'NOT met'}; "
        f"submit -> Running {plan:.2f} s, entries {entries:.2f} s, finish {finish:.2f} s"
    )


LABELS = {"loop": "raw pyvips loop", "pool": "raw pyvips pool, 2 proc.",
          "local": "local backend, 2 processes", "celery": "Celery, 2 processes"}  # fmt: skip


def report() -> str:
    lines = []
    if {"loop", "pool"} <= SECONDS.keys():
        medians = {name: statistics.median(times) for name, times in SECONDS.items()}
        lines.append(
            f"job backends: {COUNT} photos (2.5-4 Mpx) -> {WIDTH} px WebP, medians of "
            f"{len(SECONDS['loop'])} interleaved rounds, {os.cpu_count()} cores"
        )
        for name in (n for n in LABELS if n in medians):
            lines.append(_row(LABELS[name], name, medians))
            lines += [_backend(name, medians)] if name in PHASES else []
    if OVERHEAD:
        ms = {what: f"{value:.2f}" for what, value in OVERHEAD.items()}
        ledger = sum(OVERHEAD[k] for k in ("claim", "renew", "release", "flags", "settle"))
        lines.append(
            f"job overhead per entry (SQLite, chunks of 4): claim/lease/release/flags/settle "
            f"{ledger:.2f} ms (claim+pending {ms['claim']}, renew {ms['renew']} [one per chunk], "
            f"release {ms['release']}, flags {ms['flags']}, settle {ms['settle']}); re-check "
            f"{ms['prepare']} ms; planning {ms['plan']} ms; a whole fmt=orig job of tiny files "
            f"{ms.get('tiny job', '-')} ms"
        )
    return "\n".join(lines + [f"  note: {note}" for note in NOTES if lines])
