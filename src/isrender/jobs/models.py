"""Job tables: one row per job run, its entries and their chunks, and its log
(production-system.md §2.5-§2.7). They share the catalog's metadata, so one database holds
catalog and jobs.

A run's entries are rows (array index, state, output name, sha256, error). The entries that
produce files are grouped into chunks; a worker claims a whole chunk with a lease that its
heartbeat renews, so any number of worker processes on any number of machines share a job and
a dead worker's chunk is taken back once its lease expires (``jobs/worker.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from isrender.catalog.models import Base

__all__ = ["ACTIVE_STATES", "Job", "JobChunk", "JobEntry", "JobLogEntry", "JobState", "utcnow"]


class JobState(StrEnum):
    """Every state a job row takes. Pause is a flag (``pause_requested``), not a state."""

    NEW = "New"  # submitted, not yet started by a worker
    RUNNING = "Running"  # started: entries planned, chunks being worked
    STOPPING = "Stopping"  # stop requested; workers cancel what is left
    DONE = "Done"  # finished (outcome says how)
    SCHEDULED = "Scheduled"  # a schedule: fires run rows (§2.4)
    FIRED = "Fired"  # a one-shot schedule that has fired
    DELETED = "Deleted"  # a deleted schedule


# A run that has not ended: getActiveJobs lists these, a schedule holds a firing while one exists.
ACTIVE_STATES = frozenset({JobState.NEW, JobState.RUNNING, JobState.STOPPING})
# Entry outcomes (log types) that produced a file.
EXPORTED = ("ExportSuccess", "ExportWarning")


def utcnow() -> datetime:
    """Naive UTC: leases are compared across machines, so never local time."""
    return datetime.now(UTC).replace(tzinfo=None)


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    name: Mapped[str] = mapped_column(String(300))  # unique within the company (-n suffixes)
    original_name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(40), default="Export")
    state: Mapped[str] = mapped_column(String(30), default=JobState.NEW)
    submit_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recipient_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    params: Mapped[dict[str, object]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text, default="")
    locale: Mapped[str] = mapped_column(String(20), default="")
    submitted: Mapped[datetime] = mapped_column(server_default=func.now())
    start_date: Mapped[datetime | None]
    end_date: Mapped[datetime | None]
    stop_requested: Mapped[bool] = mapped_column(default=False)
    pause_requested: Mapped[bool] = mapped_column(default=False)
    stopped: Mapped[bool] = mapped_column(default=False)
    fatal_error: Mapped[bool] = mapped_column(default=False)
    processed: Mapped[int] = mapped_column(default=0)  # entries finished (for progress)
    success: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    warnings: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    cancelled: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    # scheduling (§2.4): a scheduled job row fires run rows (parent_id) at next_fire
    exec_time: Mapped[datetime | None]
    exec_schedule: Mapped[str | None] = mapped_column(String(200))
    trigger_state: Mapped[str] = mapped_column(String(20), default="None")
    next_fire: Mapped[datetime | None]
    held: Mapped[bool] = mapped_column(default=False)  # one firing held while Blocked
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
    # the finish step (manifest, ZIP, EndExport, Done) runs once: claimed with a lease
    finisher: Mapped[str | None] = mapped_column(String(200))
    finish_expires: Mapped[datetime | None]
    mail_pending: Mapped[bool] = mapped_column(default=False)  # Done, digest not yet sent


class JobEntry(Base):
    """One entry of assetHandleArray. ``chunk`` is set for entries that produce a file;
    entries refused or skipped when the run starts are settled at once."""

    __tablename__ = "job_entries"
    __table_args__ = (UniqueConstraint("job_id", "idx"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    idx: Mapped[int]  # position in assetHandleArray
    handle: Mapped[str] = mapped_column(String(200))
    asset_id: Mapped[int | None]
    chunk: Mapped[int | None]
    output: Mapped[str | None] = mapped_column(Text)  # relative path, fixed when the run starts
    settled: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str | None] = mapped_column(String(40))  # the entry's log type
    sha256: Mapped[str | None] = mapped_column(String(64))
    bytes: Mapped[int | None]
    message: Mapped[str] = mapped_column(Text, default="")
    aux: Mapped[list[str]] = mapped_column(JSON, default=list)  # warnings known at start


class JobChunk(Base):
    """Entries ``first``..``last`` (array order) of one job, claimed as a unit."""

    __tablename__ = "job_chunks"
    __table_args__ = (UniqueConstraint("job_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    number: Mapped[int]
    done: Mapped[bool] = mapped_column(default=False, index=True)
    owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)


class JobLogEntry(Base):
    __tablename__ = "job_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    # Log order is (position, id): the header at 0, entry i at i + 1, the end after the last
    # entry, so the log reads in array order whatever order workers finish in.
    position: Mapped[int] = mapped_column(default=0)
    date: Mapped[datetime] = mapped_column(server_default=func.now())
    log_type: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text, default="")
    asset_handle: Mapped[str | None] = mapped_column(String(200))
    asset_name: Mapped[str | None] = mapped_column(String(500))
    asset_type: Mapped[str | None] = mapped_column(String(40))
    fault_code: Mapped[int | None]
    aux: Mapped[list[str]] = mapped_column(JSON, default=list)
