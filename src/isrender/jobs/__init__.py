"""Jobs: ExportJob submission, runs, control, logs and e-mail (production-system.md §2-§3)."""

from isrender.jobs.models import Job, JobLogEntry
from isrender.jobs.service import JobService, job_handle, outcome

__all__ = ["Job", "JobLogEntry", "JobService", "job_handle", "outcome"]
