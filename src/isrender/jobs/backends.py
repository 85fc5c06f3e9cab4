"""Where jobs run: two backends behind one interface (``enqueue``).

- **local** (the default, no extra service): worker processes poll the database and claim
  work there (``isrender jobs worker --processes N``; ``isrender serve`` runs one in-process
  worker unless ``--no-worker``). ``enqueue`` has nothing to do: the row is the queue.
- **celery** (``broker_url`` set, Redis): ``enqueue`` sends a ``isrender.work`` task; Celery
  workers (``isrender jobs worker --concurrency N``) run the same ``Worker`` steps restricted
  to that job. Claims and leases still live in the database, so a task delivered twice, or
  redelivered after a worker died, never exports an entry twice.

The local process pool lives here too: ``run_processes`` supervises N worker processes and
restarts one that dies (its chunks come back when their leases expire).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol

from isrender.config import Settings
from isrender.errors import ServiceUnavailable

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

__all__ = ["Backend", "CeleryBackend", "LocalBackend", "backend_for", "run_processes"]

log = logging.getLogger("isrender.jobs")
WORK_TASK = "isrender.work"


class Backend(Protocol):
    name: str

    def enqueue(self, job_id: int, copies: int = 1) -> None: ...


class LocalBackend:
    name = "local"

    def enqueue(self, job_id: int, copies: int = 1) -> None:
        """Nothing to send: local workers find New jobs and open chunks in the database."""


class CeleryBackend:
    name = "celery"

    def __init__(self, settings: Settings) -> None:
        from isrender.jobs.celery_app import make_app

        self.app = make_app(settings)

    def enqueue(self, job_id: int, copies: int = 1) -> None:
        from kombu.exceptions import OperationalError

        try:
            with self.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
                for _ in range(copies):
                    self.app.send_task(WORK_TASK, args=[job_id], connection=connection,
                                       retry=False)  # fmt: skip
        except (OperationalError, OSError) as exc:
            raise ServiceUnavailable("job broker", "broker_url", f": {exc}") from None


def backend_for(settings: Settings) -> Backend:
    return CeleryBackend(settings) if settings.broker_url else LocalBackend()


# ---- the local process pool ------------------------------------------------------------------


def _worker_main(settings: Settings, parent: int) -> None:
    """One worker process: the Worker loop until the parent goes away or SIGTERM."""
    from isrender.catalog import Catalog
    from isrender.jobs.service import JobService
    from isrender.jobs.worker import Worker

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def orphaned() -> None:  # a worker never outlives its supervisor
        while not stop.wait(1.0):
            if os.getppid() != parent:
                stop.set()

    threading.Thread(target=orphaned, daemon=True).start()
    from isrender.render.vips.renderer import set_threads

    set_threads(1)  # one worker process per core: each conversion on one libvips thread
    service = JobService(Catalog(settings), threads=1)
    Worker(service).run(stop)


def run_processes(settings: Settings, processes: int, stop: threading.Event) -> None:
    """Supervise ``processes`` worker processes until ``stop``; a dead one is replaced."""
    context: Any = multiprocessing.get_context("spawn")  # no fork: libvips threads
    pool: list[BaseProcess] = []

    def spawn() -> BaseProcess:
        process: BaseProcess = context.Process(
            target=_worker_main, args=(settings, os.getpid()), daemon=True
        )
        process.start()
        return process

    pool = [spawn() for _ in range(processes)]
    try:
        while not stop.wait(0.5):
            for i, process in enumerate(pool):
                if not process.is_alive():
                    log.warning("worker process %s exited (%s); starting another",
                                process.pid, process.exitcode)  # fmt: skip
                    pool[i] = spawn()
    finally:
        for process in pool:
            process.terminate()
        deadline = time.monotonic() + 10
        for process in pool:
            process.join(max(0.1, deadline - time.monotonic()))
