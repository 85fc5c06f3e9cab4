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

from sqlalchemy import select

from isrender.errors import IpsFault, JobNotFound
from isrender.jobs.cron import CronError, parse_cron
from isrender.jobs.models import Job

if TYPE_CHECKING:
    from isrender.catalog import Catalog

__all__ = ["Scheduling", "first_fire"]

ACTIVE_RUN = ("New", "Running", "Stopping")


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

    def scheduled(self, company_id: int) -> list[Job]:
        """getScheduledJobs: schedules not deleted and not yet fired for good."""
        with self.catalog.session() as s:
            query = select(Job).where(Job.company_id == company_id, Job.state == "Scheduled")
            return list(s.scalars(query.order_by(Job.id)).all())

    def fire_due(self, now: datetime | None = None) -> list[int]:
        """Start every due (or held) firing; returns the run ids, each run to completion."""
        moment = now or datetime.now()
        with self.catalog.session() as s:
            due = s.scalars(select(Job).where(Job.state == "Scheduled")).all()
        runs = []
        for job in due:
            if job.trigger_state == "Paused":
                continue
            if not (job.held or (job.next_fire is not None and job.next_fire <= moment)):
                continue
            if self._active_run(job):
                # hold this one firing; a recurring trigger moves on, a one-shot waits
                later = self._advance(job, moment) if job.exec_schedule else {}
                self._set(job.id, **{**later, "trigger_state": "Blocked", "held": True})
                continue
            run_id = self._create_run(job, moment)
            self._set(
                job.id, **{"held": False, "trigger_state": "Normal", **self._advance(job, moment)}
            )
            runs.append(self.run(run_id).id)
        return runs

    def execute(self, company_id: int, handle: str, find: Callable[[int, str], Job | None]) -> Job:
        """executeJob on a schedule: one run now, schedule unchanged (held when one runs)."""
        job = find(company_id, handle)
        if job is None:
            raise JobNotFound()
        if job.state != "Scheduled":
            raise IpsFault(30001, "the job is not scheduled")
        if self._active_run(job):
            self._set(job.id, trigger_state="Blocked", held=True)
            return job
        return self.run(self._create_run(job, datetime.now()))

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
            self._set(job.id, state="Deleted", trigger_state="None", next_fire=None)
        with self.catalog.session() as s:
            row = s.get(Job, job.id)
        assert row is not None
        return row

    # ---- helpers --------------------------------------------------------------------------

    def _advance(self, job: Job, moment: datetime) -> dict[str, Any]:
        if job.exec_schedule:
            return {"next_fire": parse_cron(job.exec_schedule).next_after(moment)}
        return {"state": "Fired", "trigger_state": "Complete", "next_fire": None}

    def _active_run(self, job: Job) -> bool:
        with self.catalog.session() as s:
            query = select(Job.id).where(Job.parent_id == job.id, Job.state.in_(ACTIVE_RUN))
            return s.scalar(query) is not None

    def _create_run(self, job: Job, moment: datetime) -> int:
        name = f"{job.name}_{moment:%Y-%m-%d-%H:%M:%S}"
        with self.catalog.session() as s:
            run = Job(company_id=job.company_id, name=name, original_name=job.original_name,
                      submit_user_id=job.submit_user_id, recipient_user_id=job.recipient_user_id,
                      params=job.params, description=job.description, locale=job.locale,
                      total=job.total, parent_id=job.id)  # fmt: skip
            s.add(run)
            s.flush()
            return run.id  # its log (BeginExport, ..., InitiatingJobName) is the runner's

    def _set(self, job_id: int, **fields: Any) -> None:
        with self.catalog.session() as s:
            row = s.get(Job, job_id)
            assert row is not None
            for key, value in fields.items():
                setattr(row, key, value)
