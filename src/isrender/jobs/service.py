"""JobService: submit, run, control and query ExportJobs (production-system.md §2).

``submit`` checks in the order of §2.1 and raises the first IpsFault; a failed submission
creates no job, no log and no mail. ``start`` runs a job on a background thread; ``run`` runs
it in the caller's thread. ``recover`` finishes jobs a crashed process left behind.
"""

from __future__ import annotations

import re
import shutil
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from isrender.catalog import Catalog, Operation, Role, allowed, parse_handle
from isrender.catalog.handles import HandleKind
from isrender.catalog.models import User
from isrender.catalog.roles import category
from isrender.catalog.service import free_name
from isrender.errors import IpsFault, JobNotFound
from isrender.jobs.export import validate_export
from isrender.jobs.mail import LogTransport, SmtpTransport, Transport, compose_digest, should_send
from isrender.jobs.models import Job, JobLogEntry
from isrender.jobs.runner import EntryError, Run
from isrender.jobs.schedule import Scheduling, first_fire

__all__ = ["JobService", "job_handle", "outcome"]

_LOCALE = re.compile(r"[a-z]{2}(-[A-Z]{2})?\Z")
_BAD_NAME = re.compile(r"[|\x00-\x1f\x7f]")
ACTIVE = ("New", "WaitingCoordinator", "Running", "Stopping")
RUNNING = ("Running", "Stopping")
# The reference's Get family is accepted in log-type filters as the Export family (§2.7.4).
_GET_ALIASES = {"BeginGet": "BeginExport", "EndGet": "EndExport", "ReturnSuccess": "ExportSuccess",
                "GetFailure": "ExportError"}  # fmt: skip
_STOP = {"stop_requested": True, "state": "Stopping"}
_ACTIONS: dict[str, dict[str, Any]] = {
    "stop": _STOP,
    "delete": _STOP,  # logs and outputs stay (§2.6)
    "pause": {"pause_requested": True},
    "resume": {"pause_requested": False},
}


def job_handle(job: Job) -> str:
    return f"j|{job.company_id}||{job.name}|{job.id}"


def outcome(job: Job) -> str:
    """§2.7.2: Stopped, Failed, PartiallyFailed, SucceededWithWarnings or Succeeded."""
    if job.stopped:
        return "Stopped"
    if job.fatal_error or (job.errors and not job.success):
        return "Failed"
    if job.errors:
        return "PartiallyFailed"
    return "SucceededWithWarnings" if job.warnings else "Succeeded"


def severity(log_type: str) -> str:
    if log_type.endswith(("Error", "Failure")):
        return "error"
    return "warning" if log_type.endswith("Warning") else "info"


@dataclass
class JobService(Scheduling):
    catalog: Catalog
    transport: Transport | None = None

    def __post_init__(self) -> None:
        settings = self.catalog.settings
        if self.transport is None:
            self.transport = (
                SmtpTransport(settings.smtp_host, settings.smtp_port)
                if settings.mail_transport == "smtp"
                else LogTransport()
            )
        self.outputs = settings.data_dir / "outputs"
        self._threads: dict[int, threading.Thread] = {}
        if settings.export_workers > 1:
            from isrender.renderer import set_threads

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
        strict = self.catalog.settings.strict_role_lists
        company = self.catalog.company(company_ref) if company_ref else None
        role = (self.catalog.effective_role(caller, company.id) if company else None) or Role(
            caller.default_role
        )
        if not allowed(role, Operation.SUBMIT_JOB, strict_role_lists=strict):
            raise IpsFault(20003, f"role {role.value} may not call submitJob")
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
                job.state, job.trigger_state, job.next_fire = "Scheduled", "Normal", fire
                job.exec_time, job.exec_schedule = exec_time, exec_schedule or None
            s.add(job)
        return job

    def _strict_handles(
        self, caller: User, company_id: int, handles: tuple[str, ...], fmt: str
    ) -> None:
        """Strict mode (§2.8.3): the per-entry checks at submit; the first problem is a fault.
        Duplicates are never a fault."""
        probe = Job(id=0, company_id=company_id, name="", original_name="", total=len(handles),
                    submit_user_id=caller.id, recipient_user_id=caller.id,
                    params={"assetHandleArray": list(handles), "fmt": fmt})  # fmt: skip
        run = Run(self.catalog, probe, self.outputs, 1)
        for handle in dict.fromkeys(handles):
            try:
                run.prepare(handle)
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
        company = self.catalog.company(company_ref)
        if company is None:
            raise IpsFault(20000, "companyHandle does not name a company")
        role = self.catalog.effective_role(caller, company.id)
        if role is None:
            raise IpsFault(20006, "not an active member of the company")
        if not allowed(role, Operation.UPLOAD):
            raise IpsFault(20003, f"role {role.value} may not upload")
        with self.catalog.session() as s:
            job = Job(company_id=company.id, name=self._unique(company.id, job_name),
                      original_name=job_name, type="UploadPost", submit_user_id=caller.id,
                      recipient_user_id=caller.id, state="Running", start_date=datetime.now(),
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
            row.state, row.end_date, row.total = "Done", datetime.now(), len(entries)
            row.success = counts["UploadSuccess"] + counts["FileUpdated"]
            row.errors, row.duplicates = counts["UploadError"], counts["DuplicateSkipped"]
            row.processed = len(entries)
        return self.job(job.id)

    # ---- running --------------------------------------------------------------------------

    def run(self, job_id: int) -> Job:
        """Run the job now, in this thread, and return it finished."""
        job = self.job(job_id)
        workers = self.catalog.settings.export_workers
        Run(self.catalog, job, self.outputs, workers).execute(self._notify)
        return self.job(job_id)

    def run_queued(self) -> list[int]:
        """Run every queued job (submitted without running, e.g. ``export --no-wait``)."""
        with self.catalog.session() as s:
            queued = s.scalars(select(Job.id).where(Job.state == "New").order_by(Job.id)).all()
        return [self.run(job_id).id for job_id in queued if job_id not in self._threads]

    def start(self, job_id: int) -> None:
        thread = threading.Thread(target=self.run, args=(job_id,), name=f"export-{job_id}")
        self._threads[job_id] = thread
        thread.start()

    def wait(self, job_id: int, timeout: float | None = None) -> Job:
        thread = self._threads.get(job_id)
        if thread is not None:
            thread.join(timeout)
        return self.job(job_id)

    def recover(self) -> list[int]:
        """Jobs left active by a crashed process: Done, FatalError "worker lost", unprocessed
        entries cancelled. Outputs already renamed into place are complete; partial ones
        were only ever temporary ``.part`` files and are removed."""
        recovered = []
        with self.catalog.session() as s:
            # queued jobs (New) were never picked up by a worker: they stay queued
            stale = s.scalars(select(Job).where(Job.state.in_(RUNNING))).all()
        for job in stale:
            run = Run(self.catalog, job, self.outputs, 1)
            run.log("FatalError", "worker lost: the process running this job stopped")
            done = job.success + job.errors + job.duplicates + job.cancelled
            run.cancel_from(done)
            for part in run.folder.rglob(".*.part") if run.folder.exists() else ():
                part.unlink()
            run.update(fatal_error=True)
            run.finish()
            self._notify(run)
            recovered.append(job.id)
        return recovered

    # ---- control --------------------------------------------------------------------------

    def control(self, company_id: int, handle: str, action: str) -> Job:
        """stop, pause, resume or delete a job of this company (§2.6)."""
        job = self.require(company_id, handle)
        if job.state == "Scheduled":
            return self.control_schedule(job, action)
        if job.state in ("Done", "Fired", "Deleted"):
            if action == "delete":
                raise IpsFault(30001, "the job has finished")
            return job
        fields: dict[str, Any] = _ACTIONS[action]
        if action in ("stop", "delete") and job.state == "New" and job.id not in self._threads:
            # Never picked up by a worker: straight to Done, every entry cancelled (§2.6).
            run = Run(self.catalog, job, self.outputs, 1)
            run.cancel_unstarted()
            self._notify(run)
            return self.job(job.id)
        with self.catalog.session() as s:
            row = s.get(Job, job.id)
            assert row is not None
            for key, value in fields.items():
                setattr(row, key, value)
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
        return job if job is not None and job.company_id == company_id else None

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
            rows = list(s.scalars(query.order_by(JobLogEntry.id)).all())
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
                .order_by(JobLogEntry.id)
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

    # ---- e-mail ---------------------------------------------------------------------------

    def _notify(self, run: Run) -> None:
        job = self.job(run.job.id)
        setting = str(job.params.get("emailSetting") or "None")
        if not should_send(setting, bool(job.errors or job.fatal_error), bool(job.warnings)):
            return
        recipient = self.catalog.user(f"u|{job.recipient_user_id}|")
        if recipient is None or not recipient.is_valid:
            run.log("ExportInfo", "notification recipient unavailable")
            return
        entries = self.details(job.id)
        problems = [(severity(e.log_type), f"{e.asset_handle or ''} {e.message}".strip())
                    for e in entries if severity(e.log_type) != "info"]  # fmt: skip
        problems += [("warning", f"{e.asset_handle}: {aux}") for e in entries for aux in e.aux]
        summary = [
            f"{job.success} exported, {job.errors} errors, {job.warnings} warnings, "
            f"{job.duplicates} duplicates, {job.cancelled} cancelled, {job.total} total"
        ]
        link = str(self.output_dir(job).with_suffix(".zip")) if job.success else None
        mail = compose_digest(setting, job.original_name, outcome(job), summary, problems, link,
                              recipient.email, job.locale)  # fmt: skip
        try:
            assert self.transport is not None
            self.transport.send(mail, self.catalog.settings.mail_from)
        except (OSError, ConnectionError) as exc:
            run.log("ExportInfo", f"notification could not be sent: {exc}")
