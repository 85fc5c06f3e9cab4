"""Scheduled ExportJobs (production-system.md §2.4-§2.6): ``execTime`` once, ``execSchedule``
by Quartz cron. A scheduled job is a row in state ``Scheduled`` with a trigger; each firing
creates a run row named ``<name>_<yyyy-MM-dd-HH:mm:ss>`` that runs like any job.

Runs of one schedule never overlap: a firing while the previous run is active is held (trigger
``Blocked``) and starts when that run is done; at most one firing is held. Paused triggers do
not fire, and resuming does not fire missed times. ``fire_due`` is what a worker calls.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from isrender.errors import IpsFault, JobNotFound
from isrender.jobs.cron import CronError, parse_cron
from isrender.jobs.ledger import changed
from isrender.jobs.models import ACTIVE_STATES, Job, JobState

if TYPE_CHECKING:
    from isrender.catalog import Catalog

__all__ = ["Scheduling", "first_fire"]


def first_fire(exec_time: datetime | None, exec_schedule: str | None, now: datetime) -> datetime:
    """When a new schedule fires first; a time in the past fires at once."""
    if exec_time is not None and exec_schedule:
        raise IpsFault(30001, "give execTime or execSchedule, not both")
    if exec_schedule:
        try:
            fire = parse_cron(exec_schedule).next_after(now)
        except CronError as exc:
            raise IpsFault(30001, f"execSchedule: {exc}") from None
        if fire is None:
            raise IpsFault(30001, "execSchedule never fires")
        return fire
    assert exec_time is not None
    return max(exec_time.replace(tzinfo=None), now)


class Scheduling:
    """Mixed into JobService: scheduled jobs, firing, executeJob."""

    catalog: Catalog
    run: Callable[[int], Job]  # provided by JobService
    enqueue: Callable[..., None]  # provided by JobService

    def scheduled(self, company_id: int) -> list[Job]:
        """getScheduledJobs: schedules not deleted and not yet fired for good."""
        with self.catalog.session() as s:
            query = select(Job).where(Job.company_id == company_id, Job.state == JobState.SCHEDULED)
            return list(s.scalars(query.order_by(Job.id)).all())

    def fire(self, now: datetime | None = None) -> list[int]:
        """Create the run of every due (or held) firing, exactly once however many workers
        call this at the same moment (a compare-and-set on the trigger's fields); returns
        the new runs (state New) for the workers to start."""
        moment = now or datetime.now()
        with self.catalog.session() as s:
            due = s.scalars(select(Job).where(Job.state == JobState.SCHEDULED)).all()
        runs = []
        for job in due:
            if job.trigger_state == "Paused":
                continue
            if not (job.held or (job.next_fire is not None and job.next_fire <= moment)):
                continue
            if self._active_run(job):
                # hold this one firing; a recurring trigger moves on, a one-shot waits
                later = self._advance(job, moment) if job.exec_schedule else {}
                self._swap(job, {**later, "trigger_state": "Blocked", "held": True})
                continue
            fields = {"held": False, "trigger_state": "Normal", **self._advance(job, moment)}
            run_id = self._swap(job, fields, run_at=moment)
            if run_id is not None:
                runs.append(run_id)
        return runs

    def fire_due(self, now: datetime | None = None) -> list[int]:
        """``fire``, then run each new run to the end in this process."""
        return [self.run(run_id).id for run_id in self.fire(now)]

    def execute(
        self, company_id: int, handle: str, find: Callable[[int, str], Job | None],
        wait: bool = True,
    ) -> Job:  # fmt: skip
        """executeJob on a schedule: one run now, schedule unchanged (held when one runs).
        ``wait``: run it here to the end; otherwise the workers start it."""
        job = find(company_id, handle)
        if job is None:
            raise JobNotFound()
        if job.state != JobState.SCHEDULED:
            raise IpsFault(30001, "the job is not scheduled")
        if self._active_run(job):
            self._set(job.id, trigger_state="Blocked", held=True)
            return job
        with self.catalog.session() as s:
            run_id = self._create_run(s, job, datetime.now())
        if wait:
            return self.run(run_id)
        self.enqueue(run_id)
        return self.job_row(run_id)

    def control_schedule(self, job: Job, action: str) -> Job:
        """pause/resume the trigger, delete the schedule; stop is for running jobs (m-10)."""
        if action == "stop":
            raise IpsFault(30001, "job is not running; use pauseJob or deleteJob")
        if action == "pause":
            self._set(job.id, trigger_state="Paused")
        elif action == "resume" and job.trigger_state == "Paused":
            fields = self._advance(job, datetime.now()) if job.exec_schedule else {}
            self._set(job.id, trigger_state="Normal", **fields)
        elif action == "delete":
            self._set(job.id, state=JobState.DELETED, trigger_state="None", next_fire=None)
        with self.catalog.session() as s:
            row = s.get(Job, job.id)
        assert row is not None
        return row

    # ---- helpers --------------------------------------------------------------------------

    def _advance(self, job: Job, moment: datetime) -> dict[str, Any]:
        if job.exec_schedule:
            return {"next_fire": parse_cron(job.exec_schedule).next_after(moment)}
        return {"state": JobState.FIRED, "trigger_state": "Complete", "next_fire": None}

    def _active_run(self, job: Job) -> bool:
        with self.catalog.session() as s:
            query = select(Job.id).where(Job.parent_id == job.id, Job.state.in_(ACTIVE_STATES))
            return s.scalar(query) is not None

    def _create_run(self, s: Session, job: Job, moment: datetime) -> int:
        name = f"{job.name}_{moment:%Y-%m-%d-%H:%M:%S}"
        run = Job(company_id=job.company_id, name=name, original_name=job.original_name,
                  submit_user_id=job.submit_user_id, recipient_user_id=job.recipient_user_id,
                  params=job.params, description=job.description, locale=job.locale,
                  total=job.total, parent_id=job.id)  # fmt: skip
        s.add(run)
        s.flush()
        return run.id  # its log (BeginExport, ..., InitiatingJobName) is the planner's

    def _swap(self, job: Job, fields: dict[str, Any], run_at: datetime | None = None) -> int | None:
        """Compare-and-set the trigger from what ``job`` saw; with ``run_at``, create the run in
        the same transaction. None when another worker changed the trigger first."""
        seen = Job.next_fire.is_(None) if job.next_fire is None else Job.next_fire == job.next_fire
        with self.catalog.session() as s:
            swapped = changed(
                s,
                update(Job)
                .where(Job.id == job.id, Job.state == JobState.SCHEDULED, seen)
                .where(Job.held.is_(job.held), Job.trigger_state == job.trigger_state)
                .values(**fields),
            )
            if swapped != 1:
                return None
            return self._create_run(s, job, run_at) if run_at is not None else 0

    def job_row(self, job_id: int) -> Job:
        with self.catalog.session() as s:
            row = s.get(Job, job_id)
        assert row is not None
        return row

    def _set(self, job_id: int, **fields: Any) -> None:
        with self.catalog.session() as s:
            row = s.get(Job, job_id)
            assert row is not None
            for key, value in fields.items():
                setattr(row, key, value)
