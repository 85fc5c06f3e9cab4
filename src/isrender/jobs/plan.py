"""Starting a run (production-system.md §2.8.2 steps 1-3): the start entries of the log, the
job-level re-check, and every entry classified and named, in ONE transaction guarded on the
job still being New. Two workers racing to start a job: one wins, the other finds nothing.

Entries refused here (not found, a set, no permission, duplicate) are settled at once with
their log line; accepted entries get their output name (collisions resolved in array order,
so names never depend on which worker finishes first) and are grouped into chunks.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update

from isrender.catalog import Catalog
from isrender.errors import IpsFault
from isrender.jobs.entries import Entry, EntryError, Exporter, log_file_type
from isrender.jobs.export import compose, unique_name
from isrender.jobs.ledger import LogLine, bump, changed
from isrender.jobs.models import Job, JobChunk, JobEntry, JobState

__all__ = ["Planner"]


@dataclass
class _Plan:
    header: list[LogLine] = field(default_factory=list)
    entries: list[JobEntry] = field(default_factory=list)
    lines: list[LogLine] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    chunks: int = 0
    fatal: bool = False

    def settle(self, row: JobEntry, line: LogLine, **counts: int) -> None:
        row.settled, row.outcome, row.message = True, line.log_type, line.message
        self.lines.append(line)
        for key, step in counts.items():
            self.counts[key] = self.counts.get(key, 0) + step


class Planner:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.chunk_size = catalog.settings.job_chunk_size

    def start(self, job: Job, cancel_all: bool = False, fatal: str = "") -> bool:
        """Start ``job`` if it is still New; False when another process got there first.
        ``cancel_all``: stopped before it began, so every entry is cancelled (§2.6);
        ``fatal``: it cannot run at all (logged as FatalError, every entry cancelled).

        The guard comes first and the plan is made inside its transaction: a second worker
        waits on the row instead of planning the same job for nothing."""
        with self.catalog.session() as s:
            guard = update(Job).where(Job.id == job.id, Job.state == JobState.NEW)
            started = changed(s, guard.values(state=JobState.RUNNING, start_date=datetime.now()))
            if started != 1:
                s.rollback()
                return False
            plan = self._cancelled(job, fatal) if fatal or cancel_all else self._plan(job)
            fields: dict[str, object] = {}
            if cancel_all:
                fields.update(state=JobState.STOPPING, stopped=True, stop_requested=True)
            if plan.fatal:
                fields["fatal_error"] = True
            if fields:
                s.execute(update(Job).where(Job.id == job.id).values(**fields))
            bump(s, job.id, plan.counts)
            s.add_all(line.row(job.id) for line in plan.header + plan.lines)
            s.add_all(plan.entries)
            s.add_all(JobChunk(job_id=job.id, number=n) for n in range(plan.chunks))
        return True

    def _header(self, job: Job, first: str) -> list[LogLine]:
        lines = [LogLine("BeginExport", first), LogLine("OriginalJobName", job.original_name),
                 LogLine("JobType", "Export"), LogLine("JobClient", socket.gethostname()),
                 LogLine("TotalFileCount", str(job.total))]  # fmt: skip
        if job.parent_id is not None:  # a run of a schedule (or of executeJob)
            with self.catalog.session() as s:
                parent = s.get(Job, job.parent_id)
            lines.append(LogLine("InitiatingJobName", parent.name if parent else ""))
        return lines

    def _cancelled(self, job: Job, fatal: str = "") -> _Plan:
        plan = _Plan(self._header(job, "Export stopped before it began" if not fatal else
                                  "Export has begun"))  # fmt: skip
        if fatal:
            plan.header.append(LogLine("FatalError", fatal))
            plan.fatal = True
        handles = [str(h) for h in job.params["assetHandleArray"]]  # type: ignore[attr-defined]
        for idx, handle in enumerate(handles):
            row = JobEntry(job_id=job.id, idx=idx, handle=handle)
            plan.entries.append(row)
            plan.settle(row, LogLine("FileCancel", f"Not exported: {handle}", idx + 1, handle),
                        cancelled=1)  # fmt: skip
        return plan

    def _plan(self, job: Job) -> _Plan:
        fatal = self._recheck(job)
        if fatal:
            return self._cancelled(job, fatal)
        exporter = Exporter(self.catalog, job)
        plan = _Plan(self._header(job, "Export has begun"))
        params = exporter.params
        if params.fmt == "orig" and (params.is_modifier or params.macro):
            plan.header.append(LogLine("ExportInfo", "is_modifier/macro ignored because fmt=orig"))
        seen: set[str] = set()
        taken: set[str] = set()
        accepted = 0
        for idx, handle in enumerate(params.asset_handles):
            row = JobEntry(job_id=job.id, idx=idx, handle=handle)
            plan.entries.append(row)
            if handle in seen:
                plan.settle(row, LogLine("DuplicateSkipped", f"Duplicate entry skipped: {handle}",
                                         idx + 1, handle), duplicates=1, processed=1)  # fmt: skip
                continue
            seen.add(handle)
            try:
                entry = exporter.prepare(handle)
                wanted = exporter.output_name(entry)
            except EntryError as error:
                plan.settle(row, LogLine("ExportError", error.message, idx + 1, handle,
                                         code=error.code), errors=1, processed=1)  # fmt: skip
                continue
            self._accept(row, entry, wanted, taken, accepted)
            accepted += 1
        plan.chunks = -(-accepted // self.chunk_size)
        return plan

    def _accept(self, row: JobEntry, entry: Entry, wanted: str, taken: set[str], n: int) -> None:
        relative = unique_name(wanted, taken)
        if relative != wanted:
            name = relative.rpartition("/")[2]
            entry.warnings.append(f"output renamed to {name} to avoid a name collision")
        row.asset_id, row.output, row.aux = entry.asset.id, relative, entry.warnings
        row.chunk = n // self.chunk_size

    def _recheck(self, job: Job) -> str:
        """§2.8.2 step 2: the job may be run long after it was submitted."""
        company = self.catalog.company(f"c|{job.company_id}")
        if company is None or (company.expires and company.expires < datetime.now()):
            return "the company is no longer available"
        user = self.catalog.user(f"u|{job.submit_user_id}|")
        if user is None or not user.is_valid or not self.catalog.effective_role(user, company.id):
            return "the submitting user is no longer an active member of the company"
        if str(job.params.get("fmt")) == "convert":
            exporter = Exporter(self.catalog, job)
            try:
                compose(exporter.params, exporter.registry, exporter.scope)
            except IpsFault as fault:
                return f"the export commands no longer validate: {fault.reason}"
        try:
            (self.catalog.settings.data_dir / "outputs" / str(job.id)).mkdir(
                parents=True, exist_ok=True
            )
        except OSError as exc:
            return f"the output store is unavailable: {exc.strerror}"
        return ""


def entry_line(row: JobEntry, entry: Entry | None, log_type: str, message: str,
               code: int | None = None) -> LogLine:  # fmt: skip
    """The log line of an entry settled by a worker."""
    asset = entry.asset if entry else None
    return LogLine(log_type, message, row.idx + 1, row.handle,
                   asset.name if asset else None,
                   log_file_type(asset.type) if asset else None, code,
                   tuple(row.aux or ()))  # fmt: skip
