"""The Celery backend: a Celery app configured from isrender's settings.

One task, ``isrender.work(job_id)``: start the job if it is New, then claim chunks of it and
export them until none is left, then claim its finish step. Every step is claimed in the
database (``jobs/ledger.py``), so the task is safe to run twice or concurrently; messages only
say "there may be work on job N".

Configuration: late acks (a task killed with its worker is delivered again), prefetch 1 (a
worker holds one message beyond the one it runs), reject on worker loss, and a visibility
timeout of twice the lease, so a message whose worker died comes back about when its chunk's
lease has expired. A sweeper thread in each ``isrender jobs worker`` (``sweep``) fires due
schedules and re-sends work for chunks whose lease expired, in case a message was lost.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any

from celery import Celery  # type: ignore[import-untyped]

from isrender.config import Settings

if TYPE_CHECKING:
    from isrender.jobs.service import JobService

__all__ = ["make_app", "run_worker", "sweep"]

log = logging.getLogger("isrender.jobs")
WORK_TASK = "isrender.work"
_services: dict[int, JobService] = {}  # per process id: never share an engine across fork


def _service(settings: Settings, renders: bool = True) -> JobService:
    """This process's JobService. ``renders``: a Celery child that converts images. The
    worker's main process (the sweeper) never loads libvips: its children are forked from
    it, and libvips' threads do not survive a fork."""
    service = _services.get(os.getpid())
    if service is None:
        from isrender.catalog import Catalog
        from isrender.jobs.service import JobService

        if renders:
            from isrender.render.vips.renderer import set_threads

            set_threads(1)  # one Celery child per core (as the local worker processes)
        service = _services[os.getpid()] = JobService(Catalog(settings), threads=1)
    return service


def make_app(settings: Settings) -> Celery:
    app = Celery("isrender", broker=settings.broker_url, set_as_current=False)
    visibility = max(10, int(2 * settings.job_lease_seconds))
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        broker_transport_options={"visibility_timeout": visibility},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )

    @app.task(name=WORK_TASK)  # type: ignore[untyped-decorator]
    def work(job_id: int) -> None:
        from isrender.jobs.worker import Worker

        worker = Worker(_service(settings), only_job=job_id)
        if worker.start_one():
            chunks = worker.ledger.open_chunks(job_id)
            if chunks > 1:  # let the other workers share the job
                worker.service.enqueue(job_id, copies=chunks - 1)
        while worker.work_one():
            pass
        worker.finish_one()

    return app


def sweep(settings: Settings, stop: threading.Event) -> None:
    """Fire due schedules, start lost New jobs, re-send expired chunks, finish what is ready."""
    from isrender.jobs.worker import Worker

    service = _service(settings, renders=False)
    every = max(0.5, settings.job_lease_seconds / 3)
    while not stop.wait(every):
        try:
            for job_id in service.fire():
                service.enqueue(job_id)
            for job_id, copies in service.ledger.requeue_expired():
                service.enqueue(job_id, copies)
            worker = Worker(service)
            while worker.finish_one():
                pass
        except Exception:  # the broker or the database hiccuped: next round
            log.exception("job sweeper round failed")


def run_worker(settings: Settings, concurrency: int, loglevel: str = "INFO") -> None:
    """``isrender jobs worker`` with a broker: a Celery worker plus the sweeper thread."""
    app: Any = make_app(settings)
    stop = threading.Event()
    threading.Thread(target=sweep, args=(settings, stop), name="job-sweeper", daemon=True).start()
    try:
        app.worker_main([
            "worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ])  # fmt: skip
    finally:
        stop.set()
