"""Jobs: ExportJob submission, runs, control, logs and e-mail (production-system.md §2-§3)."""

from isrender.jobs.models import ACTIVE_STATES, Job, JobLogEntry, JobState
from isrender.jobs.service import JobService, job_handle, outcome

__all__ = ["ACTIVE_STATES", "Job", "JobLogEntry", "JobService", "JobState", "job_handle", "outcome"]
