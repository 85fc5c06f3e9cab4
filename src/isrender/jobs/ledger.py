"""Every write a job run makes to the database, each one atomic and guarded, so any number of
worker processes on any number of machines can share a run without a lock of their own.

- Claims are one guarded ``UPDATE ... WHERE id = (SELECT ... [FOR UPDATE SKIP LOCKED])
  RETURNING``: PostgreSQL skips rows another transaction holds, SQLite serialises writers.
  Each transaction starts with its write, so SQLite never has to upgrade a read lock.
- An entry is settled by ``UPDATE job_entries SET settled = true WHERE ... AND NOT settled``;
  only the transaction that flips it writes the log line and the counters (SQL increments),
  so a chunk re-run by a second worker never logs or counts an entry twice.
- Leases are renewed only by their owner; a renewal that finds another owner reports the loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from isrender.catalog import Catalog
from isrender.jobs.models import Job, JobChunk, JobEntry, JobLogEntry, JobState, utcnow

__all__ = ["Claim", "Ledger", "LogLine"]

WORKING = (JobState.RUNNING, JobState.STOPPING)


@dataclass(frozen=True)
class LogLine:
    log_type: str
    message: str = ""
    position: int = 0
    handle: str | None = None
    asset_name: str | None = None
    asset_type: str | None = None
    code: int | None = None
    aux: tuple[str, ...] = ()

    def row(self, job_id: int) -> JobLogEntry:
        return JobLogEntry(job_id=job_id, position=self.position, log_type=self.log_type,
                           message=self.message, asset_handle=self.handle,
                           asset_name=self.asset_name, asset_type=self.asset_type,
                           fault_code=self.code, aux=list(self.aux))  # fmt: skip


@dataclass(frozen=True)
class Claim:
    chunk_id: int
    job_id: int
    number: int


QUEUED = "queued:"  # owner of a chunk the sweeper re-sent to the broker: any worker may claim it


def _claimable(now: Any) -> Any:
    return or_(
        JobChunk.owner.is_(None), JobChunk.owner.startswith(QUEUED), JobChunk.lease_expires < now
    )


def changed(session: Session, statement: Any) -> int:
    """Rows an UPDATE changed (the guard of every claim)."""
    return int(cast("CursorResult[Any]", session.execute(statement)).rowcount)


def bump(session: Session, job_id: int, counts: dict[str, int]) -> None:
    """Counters as SQL increments: concurrent workers never lose one."""
    if counts:
        values = {key: getattr(Job, key) + step for key, step in counts.items()}
        session.execute(update(Job).where(Job.id == job_id).values(**values))


class Ledger:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.lease = timedelta(seconds=catalog.settings.job_lease_seconds)

    # ---- log lines and settled entries ----------------------------------------------------

    def log(self, job_id: int, line: LogLine, counts: dict[str, int] | None = None) -> None:
        with self.catalog.session() as s:
            bump(s, job_id, counts or {})
            s.add(line.row(job_id))

    def settle(
        self, entry_id: int, job_id: int, line: LogLine, counts: dict[str, int],
        sha256: str | None = None, size: int | None = None,
    ) -> bool:  # fmt: skip
        """Settle one entry exactly once: False when another worker already did."""
        with self.catalog.session() as s:
            flipped = changed(
                s,
                update(JobEntry)
                .where(JobEntry.id == entry_id, JobEntry.settled.is_(False))
                .values(
                    settled=True,
                    outcome=line.log_type,
                    message=line.message,
                    sha256=sha256,
                    bytes=size,
                ),
            )
            if flipped != 1:
                return False
            bump(s, job_id, counts)
            s.add(line.row(job_id))
        return True

    def set(self, job_id: int, guard: Any = None, **fields: Any) -> bool:
        """Update job fields, only where ``guard`` (a SQL condition) holds."""
        query = update(Job).where(Job.id == job_id)
        if guard is not None:
            query = query.where(guard)
        with self.catalog.session() as s:
            return changed(s, query.values(**fields)) == 1

    def fail(self, job_id: int, line: LogLine) -> None:
        """A job-level failure, logged once however many workers meet it; the rest of the
        job is cancelled by the workers (stop requested)."""
        with self.catalog.session() as s:
            first = changed(
                s,
                update(Job)
                .where(Job.id == job_id, Job.fatal_error.is_(False))
                .values(fatal_error=True, stop_requested=True, state=JobState.STOPPING),
            )
            if first == 1:
                s.add(line.row(job_id))

    # ---- chunk claims and leases ----------------------------------------------------------

    def claim(self, owner: str, only_job: int | None = None) -> Claim | None:
        """The first claimable chunk (unowned, or its lease expired), now leased to ``owner``."""
        now = utcnow()
        claimable = _claimable(now)
        candidate = (
            select(JobChunk.id)
            .join(Job, Job.id == JobChunk.job_id)
            .where(JobChunk.done.is_(False), claimable, Job.state.in_(WORKING))
            .where(or_(Job.pause_requested.is_(False), Job.stop_requested.is_(True)))
            .order_by(JobChunk.job_id, JobChunk.number)
            .limit(1)
            .with_for_update(skip_locked=True, of=JobChunk)
        )
        if only_job is not None:
            candidate = candidate.where(JobChunk.job_id == only_job)
        claim = (
            update(JobChunk)
            .where(JobChunk.id == candidate.scalar_subquery(), JobChunk.done.is_(False))
            .where(claimable)
            .values(owner=owner, lease_expires=now + self.lease, attempts=JobChunk.attempts + 1)
            .returning(JobChunk.id, JobChunk.job_id, JobChunk.number)
            .execution_options(synchronize_session=False)
        )
        with self.catalog.session() as s:
            row = s.execute(claim).first()
        return Claim(row[0], row[1], row[2]) if row else None

    def renew(self, chunk_id: int, owner: str) -> bool:
        """Extend the lease; False when the chunk is no longer ours."""
        with self.catalog.session() as s:
            renewed = changed(
                s,
                update(JobChunk)
                .where(JobChunk.id == chunk_id, JobChunk.owner == owner)
                .values(lease_expires=utcnow() + self.lease),
            )
        return bool(renewed == 1)

    def release(self, chunk_id: int, owner: str) -> bool:
        """Mark the chunk done (only its owner may)."""
        with self.catalog.session() as s:
            done = changed(
                s,
                update(JobChunk)
                .where(JobChunk.id == chunk_id, JobChunk.owner == owner)
                .values(done=True, lease_expires=None),
            )
        return bool(done == 1)

    def open_chunks(self, job_id: int) -> int:
        with self.catalog.session() as s:
            query = select(func.count()).where(JobChunk.job_id == job_id, JobChunk.done.is_(False))
            return int(s.scalar(query) or 0)

    def requeue_expired(self) -> list[tuple[int, int]]:
        """Chunks whose lease expired (their worker died), marked as re-sent; per job, how
        many. A chunk is re-sent at most once per lease period."""
        now = utcnow()
        with self.catalog.session() as s:
            rows = s.execute(
                update(JobChunk)
                .where(JobChunk.done.is_(False), JobChunk.lease_expires < now)
                .values(owner=f"{QUEUED}{now.isoformat()}", lease_expires=now + self.lease)
                .returning(JobChunk.job_id)
                .execution_options(synchronize_session=False)
            ).all()
        counts: dict[int, int] = {}
        for (job_id,) in rows:
            counts[job_id] = counts.get(job_id, 0) + 1
        return sorted(counts.items())

    def pending(self, claim: Claim) -> list[JobEntry]:
        with self.catalog.session() as s:
            query = select(JobEntry).where(
                JobEntry.job_id == claim.job_id,
                JobEntry.chunk == claim.number,
                JobEntry.settled.is_(False),
            )
            return list(s.scalars(query.order_by(JobEntry.idx)).all())

    # ---- the finish step -------------------------------------------------------------------

    def claim_finish(self, owner: str, only_job: int | None = None) -> int | None:
        """A started job whose chunks are all done, now leased to ``owner`` for its finish
        step; or a finished job whose e-mail a dead finisher did not send."""
        now = utcnow()
        open_chunk = exists().where(JobChunk.job_id == Job.id, JobChunk.done.is_(False))
        free = or_(Job.finisher.is_(None), Job.finish_expires < now)
        ready = or_(
            and_(Job.state.in_(WORKING), Job.type == "Export", ~open_chunk),
            and_(Job.state == JobState.DONE, Job.mail_pending.is_(True)),
        )
        candidate = select(Job.id).where(ready, free).order_by(Job.id).limit(1)
        if only_job is not None:
            candidate = candidate.where(Job.id == only_job)
        candidate = candidate.with_for_update(skip_locked=True)
        claim = (
            update(Job)
            .where(Job.id == candidate.scalar_subquery(), free)
            .values(finisher=owner, finish_expires=now + self.lease)
            .returning(Job.id)
            .execution_options(synchronize_session=False)
        )
        with self.catalog.session() as s:
            return s.scalar(claim)

    def entries(self, job_id: int) -> list[JobEntry]:
        with self.catalog.session() as s:
            query = select(JobEntry).where(JobEntry.job_id == job_id).order_by(JobEntry.idx)
            return list(s.scalars(query).all())

    def flags(self, job_id: int) -> tuple[bool, bool]:
        """(stop requested, pause requested)."""
        with self.catalog.session() as s:
            row = s.execute(
                select(Job.stop_requested, Job.pause_requested).where(Job.id == job_id)
            ).first()
        return (True, False) if row is None else (bool(row[0]), bool(row[1]))
