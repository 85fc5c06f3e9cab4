"""JobService: submit, run, control and query ExportJobs (production-system.md §2).

``submit`` checks in the order of §2.1 and raises the first IpsFault; a failed submission
creates no job, no log and no mail. A submitted job is a row in state New: workers of the
configured backend (``backends.py``) start it, share its chunks and finish it
(``worker.py``). ``run`` works a job to the end in this process (the CLI's ``--wait``,
tests); ``start`` does that on a background thread; ``wait`` polls the database, so it sees
jobs that other processes run.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from isrender.catalog import Catalog, Operation, Role, parse_handle
from isrender.catalog.authorize import authorize, check_role
from isrender.catalog.handles import HandleKind
from isrender.catalog.models import User
from isrender.catalog.roles import category
from isrender.catalog.service import free_name
from isrender.errors import IpsFault, JobNotFound
from isrender.jobs.backends import Backend, backend_for
from isrender.jobs.entries import EntryError, Exporter
from isrender.jobs.export import validate_export
from isrender.jobs.finish import Finisher, outcome, severity
from isrender.jobs.ledger import Ledger
from isrender.jobs.mail import LogTransport, SmtpTransport, Transport
from isrender.jobs.models import Job, JobLogEntry, JobState
from isrender.jobs.plan import Planner
from isrender.jobs.schedule import Scheduling, first_fire

__all__ = ["JobService", "job_handle", "outcome", "severity"]

_LOCALE = re.compile(r"[a-z]{2}(-[A-Z]{2})?\Z")
_BAD_NAME = re.compile(r"[|\x00-\x1f\x7f]")
# The reference's Get family is accepted in log-type filters as the Export family (§2.7.4).
_GET_ALIASES = {"BeginGet": "BeginExport", "EndGet": "EndExport", "ReturnSuccess": "ExportSuccess",
                "GetFailure": "ExportError"}  # fmt: skip
_ACTIONS: dict[str, dict[str, Any]] = {
    "stop": {"stop_requested": True, "state": JobState.STOPPING},
    "delete": {"stop_requested": True, "state": JobState.STOPPING},  # logs and outputs stay
    "pause": {"pause_requested": True},
    "resume": {"pause_requested": False},
}


def job_handle(job: Job) -> str:
    return f"j|{job.company_id}||{job.name}|{job.id}"


@dataclass
class JobService(Scheduling):
    catalog: Catalog
    transport: Transport | None = None
    threads: int = 0  # conversions in parallel in ``run``; 0: the export_workers setting
    backend: Backend | None = None

    def __post_init__(self) -> None:
        settings = self.catalog.settings
        if self.transport is None:
            self.transport = (
                SmtpTransport(settings.smtp_host, settings.smtp_port)
                if settings.mail_transport == "smtp"
                else LogTransport()
            )
        if self.backend is None:
            self.backend = backend_for(settings)
        self.outputs = settings.data_dir / "outputs"
        self.threads = self.threads or settings.export_workers
        self.ledger = Ledger(self.catalog)
        self.finisher = Finisher(self.catalog, self.ledger, self.outputs, self.transport)
        self._threads: dict[int, threading.Thread] = {}
        self.failures: dict[int, Exception] = {}
        if self.threads > 1:
            from isrender.render.vips.renderer import set_threads

            set_threads(1)  # the pool provides the parallelism (see set_threads)

    # ---- submit ---------------------------------------------------------------------------

    def submit(
        self,
        caller: User,
        company_ref: str | None,
        job_name: str | None,
        export: dict[str, Any] | None,
        *,
        user_ref: str | None = None,
        description: str = "",
        locale: str = "",
        other_payloads: int = 0,
        exec_time: datetime | None = None,
        exec_schedule: str | None = None,
    ) -> Job:
        company = self.catalog.company(company_ref) if company_ref else None
        role = (self.catalog.effective_role(caller, company.id) if company else None) or Role(
            caller.default_role
        )
        check_role(self.catalog, role, Operation.SUBMIT_JOB)  # before the company (§2.1)
        if not company_ref:
            raise IpsFault(30002, "companyHandle is required")
        if company is None:
            raise IpsFault(20000, "companyHandle does not name a company")
        expired = company.expires and company.expires < datetime.now()
        if expired or self.catalog.effective_role(caller, company.id) is None:
            raise IpsFault(20006, "not an active member of the company")
        recipient = self._recipient(caller, role, company.id, user_ref)
        name = self._check_name(job_name, description, locale, export, other_payloads)
        scheduled = exec_time is not None or bool(exec_schedule)
        fire = first_fire(exec_time, exec_schedule, datetime.now()) if scheduled else None
        registry = self.catalog.macro_registry(company.id)
        params = validate_export(export or {}, registry, f"c|{company.id}")
        if self.catalog.settings.validate_handles_at_submit:
            self._strict_handles(caller, company.id, params.asset_handles, params.fmt)
        with self.catalog.session() as s:
            job = Job(company_id=company.id, name=self._unique(company.id, name),
                      original_name=name, submit_user_id=caller.id,
                      recipient_user_id=recipient.id, params=params.as_dict(),
                      description=description, locale=locale,
                      total=len(params.asset_handles))  # fmt: skip
            if scheduled:
                job.state, job.trigger_state, job.next_fire = JobState.SCHEDULED, "Normal", fire
                job.exec_time, job.exec_schedule = exec_time, exec_schedule or None
            s.add(job)
        return self._enqueue(job)

    def _strict_handles(
        self, caller: User, company_id: int, handles: tuple[str, ...], fmt: str
    ) -> None:
        """Strict mode (§2.8.3): the per-entry checks at submit; the first problem is a fault.
        Duplicates are never a fault."""
        probe = Job(id=0, company_id=company_id, name="", original_name="", total=len(handles),
                    submit_user_id=caller.id, recipient_user_id=caller.id,
                    params={"assetHandleArray": list(handles), "fmt": fmt})  # fmt: skip
        exporter = Exporter(self.catalog, probe)
        for handle in dict.fromkeys(handles):
            try:
                exporter.prepare(handle)
            except EntryError as error:
                raise IpsFault(error.code, error.message) from None

    def _recipient(self, caller: User, role: Role, company_id: int, ref: str | None) -> User:
        if not ref:
            return caller
        target = self.catalog.user(ref) if parse_handle(ref, HandleKind.USER) else None
        if target is None:
            raise IpsFault(20002, "userHandle does not name a user")
        if self.catalog.effective_role(target, company_id) is None:
            raise IpsFault(20007, "the userHandle user is not an active member of the company")
        if target.id != caller.id and category(role) != "admin":
            raise IpsFault(20004, "only administrators may submit for another user")
        return target

    @staticmethod
    def _check_name(
        name: str | None, description: str, locale: str, export: Any, others: int
    ) -> str:
        if not name:
            raise IpsFault(30002, "jobName is required")
        if len(name) > 255 or _BAD_NAME.search(name):
            raise IpsFault(30001, "jobName: at most 255 characters, no '|' or control characters")
        if export is None or not isinstance(export, dict):
            raise IpsFault(30002 if not others else 30001, "exactly one job payload is required")
        if others:
            raise IpsFault(30001, "only one job type may be submitted")
        if locale and not _LOCALE.match(locale):
            raise IpsFault(30001, "locale must be ll or ll-CC")
        if len(description) > 4000:
            raise IpsFault(30001, "description: at most 4000 characters")
        return name

    def _unique(self, company_id: int, name: str) -> str:
        with self.catalog.session() as s:
            taken = set(s.scalars(select(Job.name).where(Job.company_id == company_id)))
        return free_name(name, taken)

    # ---- upload (an UploadPostJob-like job, §1.9) -------------------------------------------

    def upload(
        self, caller: User, company_ref: str, paths: list[Path], folder: str = "",
        *, overwrite: bool = True, job_name: str = "upload",
    ) -> Job:  # fmt: skip
        """Upload files and folders as one job with upload logs: BeginUpload, one
        UploadSuccess / FileUpdated / DuplicateSkipped / UploadError per file, EndUpload."""
        company, _ = authorize(self.catalog, caller, company_ref, Operation.UPLOAD)
        with self.catalog.session() as s:
            job = Job(company_id=company.id, name=self._unique(company.id, job_name),
                      original_name=job_name, type="UploadPost", submit_user_id=caller.id,
                      recipient_user_id=caller.id, state=JobState.RUNNING,
                      start_date=datetime.now(),
                      params={"destFolder": folder, "overwrite": overwrite})  # fmt: skip
            s.add(job)
        entries = self.catalog.upload(company.id, paths, folder, overwrite=overwrite,
                                      user_id=caller.id)  # fmt: skip
        rows: list[tuple[str, str, str | None]] = [("BeginUpload", "Upload has begun", None)]
        for e in entries:
            handle = f"a|{e.asset_id}" if e.asset_id else None
            rows.append((e.status, e.message or f"{e.source} ({e.asset_type})", handle))
        kinds = ("UploadSuccess", "FileUpdated", "DuplicateSkipped", "UploadError")
        counts = {status: sum(e.status == status for e in entries) for status in kinds}
        with self.catalog.session() as s:
            for log_type, message, handle in rows:
                s.add(JobLogEntry(job_id=job.id, log_type=log_type, message=message,
                                  asset_handle=handle))  # fmt: skip
            summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
            s.add(JobLogEntry(job_id=job.id, log_type="EndUpload", message=summary or "nothing"))
            row = s.get(Job, job.id)
            assert row is not None
            row.state, row.end_date, row.total = JobState.DONE, datetime.now(), len(entries)
            row.success = counts["UploadSuccess"] + counts["FileUpdated"]
            row.errors, row.duplicates = counts["UploadError"], counts["DuplicateSkipped"]
            row.processed = len(entries)
        return self.job(job.id)

    # ---- running --------------------------------------------------------------------------

    def run(self, job_id: int) -> Job:
        """Work the job to the end in this process (``threads`` workers) and return it.
        Workers elsewhere may share it; this returns when it is Done, whoever finished it."""
        from isrender.jobs.worker import Worker

        failures: list[BaseException] = []

        def drain() -> None:
            try:
                Worker(self, only_job=job_id).drain(job_id)
            except BaseException as exc:  # re-raised below, in the caller's thread
                failures.append(exc)

        workers = [threading.Thread(target=drain, name=f"export-{job_id}-{n}")
                   for n in range(self.threads)]  # fmt: skip
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        if failures:
            raise failures[0]
        return self.job(job_id)

    def start(self, job_id: int) -> threading.Thread:
        """``run`` on a background thread (``wait`` polls for the end). If it fails, the
        cause is kept in ``failures[job_id]``."""

        def run() -> None:
            try:
                self.run(job_id)
            except Exception as exc:  # the job is not lost: its chunks' leases run out
                self.failures[job_id] = exc

        thread = threading.Thread(target=run, name=f"export-{job_id}")
        self._threads[job_id] = thread
        thread.start()
        return thread

    def wait(self, job_id: int, timeout: float | None = None, poll: float = 0.1) -> Job:
        """The job once Done (or as it is when ``timeout`` runs out), whoever runs it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job.state == JobState.DONE or (deadline and time.monotonic() > deadline):
                return job
            time.sleep(poll)

    def enqueue(self, job_id: int, copies: int = 1) -> None:
        """Tell the backend there is work on the job (nothing to do for the local one)."""
        assert self.backend is not None
        self.backend.enqueue(job_id, copies)

    def _enqueue(self, job: Job) -> Job:
        """Tell the backend about a new job; a broker that cannot take it removes the job
        (never a half-created job) and raises ServiceUnavailable."""
        if job.state == JobState.NEW:
            try:
                self.enqueue(job.id)
            except Exception:
                with self.catalog.session() as s:
                    row = s.get(Job, job.id)
                    if row is not None and row.state == JobState.NEW:
                        s.delete(row)
                raise
        return job

    def next_new(self, only_job: int | None = None) -> Job | None:
        """The oldest job waiting to be started."""
        with self.catalog.session() as s:
            query = select(Job).where(Job.state == JobState.NEW, Job.type == "Export")
            if only_job is not None:
                query = query.where(Job.id == only_job)
            return s.scalars(query.order_by(Job.id).limit(1)).first()

    # ---- control --------------------------------------------------------------------------

    def control(self, company_id: int, handle: str, action: str) -> Job:
        """stop, pause, resume or delete a job of this company (§2.6), from any process:
        workers read the flags between entries."""
        job = self.require(company_id, handle)
        if job.state == JobState.SCHEDULED:
            return self.control_schedule(job, action)
        if job.state in (JobState.DONE, JobState.FIRED, JobState.DELETED):
            if action == "delete":
                raise IpsFault(30001, "the job has finished")
            return job
        # Never started by a worker: every entry cancelled, then Done (§2.6). If a worker
        # starts it first, the guarded start loses and the stop flag below applies.
        stoppable = action in ("stop", "delete") and job.state == JobState.NEW
        if stoppable and Planner(self.catalog).start(job, cancel_all=True):
            from isrender.jobs.worker import Worker

            Worker(self, only_job=job.id).finish_one()
            return self.job(job.id)
        self.ledger.set(job.id, Job.state != JobState.DONE, **_ACTIONS[action])
        return self.job(job.id)

    # ---- queries --------------------------------------------------------------------------

    def job(self, job_id: int) -> Job:
        with self.catalog.session() as s:
            job = s.get(Job, job_id)
        if job is None:
            raise IpsFault(30001, "job not found")
        return job

    def find(self, company_id: int, handle: str) -> Job | None:
        parsed = parse_handle(handle, HandleKind.JOB)
        if parsed is None or parsed.id is None:
            return None
        with self.catalog.session() as s:
            job = s.get(Job, parsed.id)
        if job is None or job.company_id != company_id or parsed.company != company_id:
            return None
        # a handle whose name part names another job is not this job (the id alone is not
        # enough: `j|1||bogus|2` must not show job 2)
        return job if not parsed.name or parsed.name == job.name else None

    def require(self, company_id: int, handle: str) -> Job:
        """``find``, or JobNotFound."""
        job = self.find(company_id, handle)
        if job is None:
            raise JobNotFound()
        return job

    def jobs(self, company_id: int) -> list[Job]:
        with self.catalog.session() as s:
            query = select(Job).where(Job.company_id == company_id).order_by(Job.id.desc())
            return list(s.scalars(query).all())

    def details(
        self, job_id: int, log_types: tuple[str, ...] = (), page: int = 1, per_page: int = 0
    ) -> list[JobLogEntry]:
        """Log entries in order; ``log_types`` filters (``BeginGet`` matches ``BeginExport``,
        and so on, §2.7.4); ``per_page`` (at most 1000) and ``page`` page them."""
        return self.details_page(job_id, log_types, page, per_page)[0]

    def details_page(
        self, job_id: int, log_types: tuple[str, ...] = (), page: int = 1, per_page: int = 0
    ) -> tuple[list[JobLogEntry], int]:
        """The page and the total number of matching rows (``detailTotalRows``)."""
        types = tuple(_GET_ALIASES.get(t, t) for t in log_types)
        with self.catalog.session() as s:
            query = select(JobLogEntry).where(JobLogEntry.job_id == job_id)
            if types:
                query = query.where(JobLogEntry.log_type.in_(types))
            order = (JobLogEntry.position, JobLogEntry.id)
            rows = list(s.scalars(query.order_by(*order)).all())
        if per_page:
            size = min(per_page, 1000)
            return rows[(max(page, 1) - 1) * size : max(page, 1) * size], len(rows)
        return rows, len(rows)

    def asset_logs(self, company_id: int, asset_handle: str) -> list[tuple[Job, JobLogEntry]]:
        """Every log entry about one asset across the company's jobs (getAssetJobLogs)."""
        with self.catalog.session() as s:
            query = (
                select(Job, JobLogEntry)
                .join(JobLogEntry, JobLogEntry.job_id == Job.id)
                .where(Job.company_id == company_id, JobLogEntry.asset_handle == asset_handle)
                .order_by(JobLogEntry.job_id, JobLogEntry.position, JobLogEntry.id)
            )
            return [(job, entry) for job, entry in s.execute(query).all()]

    def purge(self, now: datetime | None = None) -> list[int]:
        """Delete the outputs of jobs that ended more than ``retention_days`` ago (§2.8.9);
        their logs stay. Returns the ids of the jobs whose outputs went."""
        days = self.catalog.settings.retention_days
        limit = (now or datetime.now()) - timedelta(days=days)
        with self.catalog.session() as s:
            old = s.scalars(select(Job).where(Job.end_date.is_not(None), Job.end_date < limit))
            expired = list(old.all())
        purged = []
        for job in expired:
            folder = self.output_dir(job)
            if folder.exists() or folder.with_suffix(".zip").exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.with_suffix(".zip").unlink(missing_ok=True)
                purged.append(job.id)
        return purged

    def output_dir(self, job: Job) -> Path:
        return self.outputs / str(job.id)
