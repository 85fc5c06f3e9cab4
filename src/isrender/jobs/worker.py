"""A job worker: the loop every backend runs (local processes, threads in one process, Celery
tasks). One ``step`` does one unit of work, each claimed atomically in the database:

1. fire due schedules (compare-and-set on ``next_fire``: exactly one run per firing);
2. start a New job (``Planner.start``, guarded on the job still being New);
3. claim a chunk of entries with a lease, export them, settle each exactly once;
4. claim the finish step of a job whose chunks are all done.

While a chunk is worked, a heartbeat thread renews its lease every third of
``job_lease_seconds``. A worker that dies stops renewing; once the lease expires any other
worker takes the chunk back and re-runs only its unsettled entries. Stop and pause are read
from the job row between entries, so they work across processes and machines.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from isrender.jobs.entries import EntryError, Exporter, StoreFailure, write_output
from isrender.jobs.finish import outcome
from isrender.jobs.ledger import Claim, Ledger, LogLine
from isrender.jobs.models import Job, JobEntry, JobState
from isrender.jobs.plan import Planner, entry_line
from isrender.logs import job_event

if TYPE_CHECKING:
    from isrender.jobs.service import JobService

__all__ = ["Worker", "new_owner"]

log = logging.getLogger("isrender.jobs")


def new_owner() -> str:
    """Who holds a lease: host, process and a random part (a restarted pid is someone new)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Heartbeat:
    """Renews one chunk's lease until stopped; ``lost`` once another worker owns it."""

    def __init__(self, ledger: Ledger, claim: Claim, owner: str, every: float) -> None:
        self.ledger, self.claim, self.owner, self.every = ledger, claim, owner, every
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            try:
                if not self.ledger.renew(self.claim.chunk_id, self.owner):
                    self.lost = True
                    return
            except Exception:  # a database hiccup: try again at the next beat
                log.exception("lease renewal failed for chunk %s", self.claim.chunk_id)


@dataclass
class Worker:
    service: JobService
    only_job: int | None = None
    owner: str = field(default_factory=new_owner)
    on_event: Callable[[str, int], None] | None = None

    def __post_init__(self) -> None:
        catalog = self.service.catalog
        self.ledger = Ledger(catalog)
        self.planner = Planner(catalog)
        self.tag = self.owner.rsplit(":", 1)[1]
        self._exporters: dict[int, Exporter] = {}

    # ---- the loop ------------------------------------------------------------------------

    def step(self) -> bool:
        """One unit of work; False when there was nothing to do."""
        if self.only_job is None and self.service.fire():
            return True
        return self.start_one() or self.work_one() or self.finish_one()

    def run(self, stop: threading.Event, idle: float = 0.2) -> None:
        """Work until ``stop`` is set (a long-running worker)."""
        while not stop.is_set():
            try:
                busy = self.step()
            except Exception:  # the database went away, say: log, back off, go on
                log.exception("job worker step failed; retrying")
                busy = False
            if not busy:
                stop.wait(idle)

    def drain(self, job_id: int, idle: float = 0.05) -> None:
        """Work on one job until it is Done (other workers may share it)."""
        while True:
            if self.step():
                continue
            if self.service.job(job_id).state == JobState.DONE:
                return
            time.sleep(idle)

    # ---- units of work -------------------------------------------------------------------

    def start_one(self) -> bool:
        job = self.service.next_new(self.only_job)
        if job is None:
            return False
        try:
            started = self.planner.start(job)
        except DBAPIError:
            raise  # the database: transient, the next step tries again
        except Exception as exc:  # a job that cannot start must not block those behind it
            log.exception("job %s cannot start", job.id)
            started = self.planner.start(job, fatal=f"the job could not start: {exc}")
        if started:
            self._event("started", job.id)
        return started or self.only_job is None

    def work_one(self) -> bool:
        claim = self.ledger.claim(self.owner, self.only_job)
        if claim is None:
            return False
        every = self.ledger.lease.total_seconds() / 3
        started = time.monotonic()
        with Heartbeat(self.ledger, claim, self.owner, every) as beat:
            self._work(claim, beat)
        if not beat.lost:
            self.ledger.release(claim.chunk_id, self.owner)
        self._event("chunk", claim.job_id, chunk=claim.number, lease_lost=beat.lost,
                    seconds=round(time.monotonic() - started, 3))  # fmt: skip
        return True

    def finish_one(self) -> bool:
        job_id = self.ledger.claim_finish(self.owner, self.only_job)
        if job_id is None:
            return False
        self.service.finisher.finish(job_id, self.owner)
        job = self.service.job(job_id)
        self._event("finished", job_id, outcome=outcome(job), success=job.success,
                    errors=job.errors, cancelled=job.cancelled, total=job.total)  # fmt: skip
        return True

    # ---- one chunk ---------------------------------------------------------------------------

    def _work(self, claim: Claim, beat: Heartbeat) -> None:
        job = self.service.job(claim.job_id)
        exporter = self._exporter(job)
        folder = self.service.output_dir(job)
        rows = self.ledger.pending(claim)
        for index, row in enumerate(rows):
            if not self._may_go_on(job.id, beat):
                if not beat.lost:
                    self._cancel(job.id, rows[index:])
                return
            self._export(exporter, folder, row)

    def _may_go_on(self, job_id: int, beat: Heartbeat) -> bool:
        """False on a stop or a lost lease; waits (lease renewed) while paused."""
        while not beat.lost:
            stop, pause = self.ledger.flags(job_id)
            if stop:
                return False
            if not pause:
                return True
            time.sleep(0.2)
        return False

    def _export(self, exporter: Exporter, folder: Path, row: JobEntry) -> None:
        job_id = exporter.job.id
        entry = None
        try:
            entry = exporter.prepare(row.handle)  # re-checked: the asset may have changed
            data = exporter.produce(entry)
            write_output(folder, row.output or "", data, self.tag)
        except DBAPIError:
            raise  # the database: the chunk's lease runs out and it is tried again
        except EntryError as error:
            line = entry_line(row, entry, "ExportError", error.message, error.code)
            self.ledger.settle(row.id, job_id, line, {"errors": 1, "processed": 1})
            return
        except StoreFailure as failure:
            self._event("failed", job_id, cause=str(failure))
            self.ledger.fail(job_id, LogLine("FatalError", str(failure), row.idx + 1, row.handle))
            line = entry_line(row, entry, "ExportError", str(failure), 30000)
            self.ledger.settle(row.id, job_id, line, {"errors": 1, "processed": 1})
            return
        except Exception:  # a bug fails this entry instead of looping on it forever
            log.exception("export of %s in job %s failed", row.handle, job_id)
            line = entry_line(row, entry, "ExportError", "Conversion failed: internal error", 30000)
            self.ledger.settle(row.id, job_id, line, {"errors": 1, "processed": 1})
            return
        kind = "ExportWarning" if row.aux else "ExportSuccess"
        counts = {"success": 1, "warnings": int(bool(row.aux)), "processed": 1}
        line = entry_line(row, entry, kind, f"Exported {row.output}")
        digest = hashlib.sha256(data).hexdigest()
        self.ledger.settle(row.id, job_id, line, counts, digest, len(data))

    def _cancel(self, job_id: int, rows: list[JobEntry]) -> None:
        for row in rows:
            line = LogLine("FileCancel", f"Not exported: {row.handle}", row.idx + 1, row.handle)
            self.ledger.settle(row.id, job_id, line, {"cancelled": 1})

    def _exporter(self, job: Job) -> Exporter:
        exporter = self._exporters.get(job.id)
        if exporter is None:
            if len(self._exporters) > 16:
                self._exporters.clear()
            exporter = self._exporters[job.id] = Exporter(self.service.catalog, job)
        return exporter

    def _event(self, name: str, job_id: int, **fields: object) -> None:
        """A structured log line (``job.started``, ``job.chunk``, ``job.finished``, ...)."""
        job_event(f"job.{name}", job=job_id, worker=self.owner, **fields)
        if self.on_event is not None:
            self.on_event(name, job_id)
