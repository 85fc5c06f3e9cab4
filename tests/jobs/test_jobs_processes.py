"""Jobs across real processes: worker processes started, listed around, killed with SIGKILL,
on SQLite and PostgreSQL, with the local backend and with Celery on a real redis-server.

Every test checks the same invariant at the end: the job is Done, each entry was exported
exactly once (one log line, one manifest row, one file), the counters add up and no
temporary ``.part`` file is left.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

pyvips = pytest.importorskip("pyvips")

from isrender.catalog import Catalog, Role  # noqa: E402
from isrender.config import Settings  # noqa: E402
from isrender.errors import ServiceUnavailable  # noqa: E402
from isrender.jobs import Job, JobService  # noqa: E402
from isrender.jobs.mail import LogTransport  # noqa: E402
from isrender.jobs.models import JobChunk  # noqa: E402
from tests.render_fixtures import gradient  # noqa: E402
from tests.services import fresh_database, service_absent  # noqa: E402
from tests.waiting import until  # noqa: E402

ISRENDER = str(Path(sys.executable).with_name("isrender"))
ASSETS = 16
LEASE = 2.0  # seconds: a dead worker's chunk comes back quickly
EXPORT = {"fmt": "convert", "is_modifier": "wid=900&fmt=webp&qlt=80"}


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        yield ""
        return
    with fresh_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture
def catalog(tmp_path: Path, database: str) -> Catalog:
    """A company with ASSETS photos big enough that exporting them takes a few seconds."""
    settings = Settings(data_dir=tmp_path / "data", database_url=database,
                        job_lease_seconds=LEASE, job_chunk_size=2)  # fmt: skip
    catalog = Catalog(settings)
    acme = catalog.add_company("Acme").id
    catalog.add_user("editor@acme.example", "secret", Role.IPS_USER, ((acme, None),))
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for n in range(ASSETS):
        gradient(1800, 1200).linear(1, n).cast("uchar").jpegsave(str(incoming / f"p{n:02}.jpg"))
    catalog.upload(acme, sorted(incoming.iterdir()), "products")
    return catalog


def environment(catalog: Catalog, broker: str = "") -> dict[str, str]:
    s = catalog.settings
    return {**os.environ, "ISRENDER_DATA_DIR": str(s.data_dir), "ISRENDER_DATABASE_URL":
            s.database_url, "ISRENDER_JOB_LEASE_SECONDS": str(LEASE), "ISRENDER_JOB_CHUNK_SIZE":
            "2", "ISRENDER_BROKER_URL": broker, "ISRENDER_CONFIG": str(s.data_dir / "none.toml"),
            "ISRENDER_PASSWORD": "secret"}  # fmt: skip


@contextmanager
def worker(catalog: Catalog, *args: str, broker: str = "") -> Iterator[subprocess.Popen[bytes]]:
    """``isrender jobs worker`` in its own process group (so SIGKILL takes its children too)."""
    log = open(catalog.settings.data_dir / f"worker-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115
    command = [ISRENDER, "jobs", "worker", *args]
    process = subprocess.Popen(command, env=environment(catalog, broker), stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        log.close()


def submit(catalog: Catalog, broker: str = "", **when: object) -> Job:
    service = JobService(catalog, LogTransport(), backend=None) if not broker else None
    if broker:
        service = JobService(
            Catalog(catalog.settings.model_copy(update=dict(broker_url=broker))), LogTransport()
        )
    assert service is not None
    editor = catalog.user("editor@acme.example")
    handles = [f"a|{n}" for n in range(1, ASSETS + 1)]
    return service.submit(editor, "c|1", "bulk", {"assetHandleArray": handles, **EXPORT},
                          **when)  # type: ignore[arg-type]  # fmt: skip


def job(catalog: Catalog, job_id: int) -> Job:
    with catalog.session() as s:
        row = s.get(Job, job_id)
    assert row is not None
    return row


def assert_exported_exactly_once(catalog: Catalog, job_id: int) -> None:
    service = JobService(catalog, LogTransport())
    done = service.job(job_id)
    assert done.state == "Done", done.state
    assert (done.success, done.errors, done.cancelled, done.total) == (ASSETS, 0, 0, ASSETS)
    exported = Counter(e.asset_handle for e in service.details(job_id, ("ExportSuccess",)))
    assert len(exported) == ASSETS and set(exported.values()) == {1}, exported
    folder = service.output_dir(done)
    manifest = json.loads((folder / "manifest.json").read_text())["entries"]
    assert sorted(e["assetHandle"] for e in manifest) == sorted(exported)
    files = [p for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json"]
    assert len(files) == ASSETS and not list(folder.rglob("*.part"))
    kinds = [e.log_type for e in service.details(job_id)]
    assert kinds[0] == "BeginExport" and kinds[-1] == "EndExport" and "FatalError" not in kinds
    positions = [e.position for e in service.details(job_id)]
    assert positions == sorted(positions)  # array order, whatever order workers finished in


def chunk_attempts(catalog: Catalog, job_id: int) -> list[int]:
    with catalog.session() as s:
        return [c.attempts for c in s.query(JobChunk).filter(JobChunk.job_id == job_id)]


# ---- the local backend -----------------------------------------------------------------------


def test_a_job_keeps_running_while_jobs_list_and_a_second_worker_start(catalog: Catalog) -> None:
    submitted = submit(catalog)
    with worker(catalog, "--processes", "1"):
        until(lambda: job(catalog, submitted.id).processed >= 2, what="the first entries")
        command = [ISRENDER, "jobs", "list", "--company", "Acme"]
        listed = subprocess.run(command, env=environment(catalog), capture_output=True, timeout=60)
        assert listed.returncode == 0 and b"bulk" in listed.stdout, listed.stderr
        current = job(catalog, submitted.id)  # nobody failed it (it may have ended already)
        assert current.state in ("Running", "Done") and not current.fatal_error
        with worker(catalog, "--processes", "1"):
            until(lambda: job(catalog, submitted.id).state == "Done", what="Done")
    assert_exported_exactly_once(catalog, submitted.id)


def test_kill_9_of_one_of_two_workers_mid_job(catalog: Catalog) -> None:
    submitted = submit(catalog)
    with worker(catalog, "--processes", "1") as victim, worker(catalog, "--processes", "1"):
        until(lambda: job(catalog, submitted.id).processed >= 4, what="the first entries")
        os.killpg(victim.pid, signal.SIGKILL)  # the supervisor and its worker process
        victim.wait(10)
        assert job(catalog, submitted.id).state == "Running"
        until(lambda: job(catalog, submitted.id).state == "Done", what="Done after the kill")
    assert_exported_exactly_once(catalog, submitted.id)


def test_two_workers_and_one_due_schedule_give_exactly_one_run(catalog: Catalog) -> None:
    schedule = submit(catalog, exec_time=datetime.now() + timedelta(seconds=2))
    with worker(catalog, "--processes", "1"), worker(catalog, "--processes", "1"):
        until(lambda: runs(catalog, schedule.id), what="the firing")
        (run_id,) = runs(catalog, schedule.id)
        until(lambda: job(catalog, run_id).state == "Done", what="the run")
        time.sleep(2 * LEASE)  # time for a second firing, if there were one
        assert runs(catalog, schedule.id) == [run_id]
    assert_exported_exactly_once(catalog, run_id)


def runs(catalog: Catalog, parent: int) -> list[int]:
    with catalog.session() as s:
        return [j.id for j in s.query(Job).filter(Job.parent_id == parent)]


def test_disk_full_fails_the_job_with_the_cause_and_export_wait_exits_1(
    catalog: Catalog, tmp_path: Path
) -> None:
    outputs = catalog.settings.data_dir / "outputs"
    outputs.mkdir(exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(outputs)],
                             capture_output=True)  # fmt: skip
    if mounted.returncode != 0:
        service_absent(f"cannot mount a small tmpfs here (needs root): {mounted.stderr!r}")
    try:
        handles = [f"a|{n}" for n in range(1, ASSETS + 1)]
        exported = subprocess.run(
            [ISRENDER, "export", *handles, "--company", "Acme", "--user", "editor@acme.example",
             "--convert", "--modifier", "fmt=png", "--name", "full"],
            env=environment(catalog), capture_output=True, timeout=180,
        )  # fmt: skip
        assert exported.returncode == 1, exported.stderr
        assert b"disk full writing products/" in exported.stderr
        service = JobService(catalog, LogTransport())
        (failed,) = [j for j in service.jobs(1) if j.original_name == "full"]
        assert failed.state == "Done" and failed.fatal_error
        (fatal,) = service.details(failed.id, ("FatalError",))
        assert fatal.message.startswith("disk full writing products/p")
        assert failed.total == failed.success + failed.errors + failed.cancelled
    finally:
        subprocess.run(["umount", "-l", str(outputs)], check=False)


# ---- Celery on a real redis-server -----------------------------------------------------------


def test_celery_kill_9_of_one_of_two_workers_mid_job(catalog: Catalog, redis_url: str) -> None:
    submitted = submit(catalog, broker=redis_url)
    with (
        worker(catalog, "--concurrency", "1", broker=redis_url) as victim,
        worker(catalog, "--concurrency", "1", broker=redis_url),
    ):
        until(lambda: job(catalog, submitted.id).processed >= 4, what="the first entries")
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(10)
        until(lambda: job(catalog, submitted.id).state == "Done", what="Done after the kill")
    assert_exported_exactly_once(catalog, submitted.id)


def test_celery_job_and_jobs_list_and_a_second_worker(catalog: Catalog, redis_url: str) -> None:
    submitted = submit(catalog, broker=redis_url)
    with worker(catalog, "--concurrency", "1", broker=redis_url):
        until(lambda: job(catalog, submitted.id).processed >= 2, what="the first entries")
        listed = subprocess.run([ISRENDER, "jobs", "list", "--company", "Acme"],
                                env=environment(catalog, redis_url), capture_output=True,
                                timeout=60)  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        with worker(catalog, "--concurrency", "1", broker=redis_url):
            until(lambda: job(catalog, submitted.id).state == "Done", what="Done")
    assert_exported_exactly_once(catalog, submitted.id)


def test_an_unreachable_broker_creates_no_job(catalog: Catalog) -> None:
    from tests.http_server import free_port

    broker = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    before = len(JobService(catalog, LogTransport()).jobs(1))
    with pytest.raises(ServiceUnavailable, match="broker_url"):
        submit(catalog, broker=broker)
    assert len(JobService(catalog, LogTransport()).jobs(1)) == before
    exported = subprocess.run(
        [ISRENDER, "export", "a|1", "--company", "Acme", "--user", "editor@acme.example",
         "--orig", "--no-wait"], env=environment(catalog, broker), capture_output=True, timeout=60,
    )  # fmt: skip
    assert exported.returncode == 1 and b"broker_url" in exported.stderr
    assert len(JobService(catalog, LogTransport()).jobs(1)) == before


def test_stop_from_another_process_cancels_the_rest(catalog: Catalog) -> None:
    submitted = submit(catalog)
    handle = f"j|1||{submitted.name}|{submitted.id}"
    with worker(catalog, "--processes", "1"):
        until(lambda: job(catalog, submitted.id).processed >= 2, what="the first entries")
        JobService(catalog, LogTransport()).control(1, handle, "pause")  # the worker waits
        command = [ISRENDER, "jobs", "stop", handle, "--company", "Acme"]
        stopped = subprocess.run(command, env=environment(catalog), capture_output=True, timeout=60)
        assert stopped.returncode == 0, stopped.stderr
        until(lambda: job(catalog, submitted.id).state == "Done", what="Done after the stop")
    done = job(catalog, submitted.id)
    assert done.stopped and 0 < done.cancelled < ASSETS
    assert done.success + done.errors + done.cancelled == ASSETS
    service = JobService(catalog, LogTransport())
    cancelled = service.details(done.id, ("FileCancel",))
    assert len(cancelled) == done.cancelled and len({e.asset_handle for e in cancelled}) == len(
        cancelled
    )


def test_an_unreachable_database_is_a_clear_error(catalog: Catalog) -> None:
    from tests.http_server import free_port

    nowhere = f"postgresql+psycopg://u@127.0.0.1:{free_port()}/none"
    env = {**environment(catalog), "ISRENDER_DATABASE_URL": nowhere}
    listed = subprocess.run([ISRENDER, "jobs", "list", "--company", "Acme"], env=env,
                            capture_output=True, timeout=60)  # fmt: skip
    assert listed.returncode == 1 and b"database_url" in listed.stderr, listed.stderr
