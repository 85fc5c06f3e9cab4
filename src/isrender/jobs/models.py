"""Job tables: one row per job run, and its log entries (production-system.md §2.5-§2.7).

They share the catalog's metadata, so one database holds catalog and jobs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from isrender.catalog.models import Base

__all__ = ["Job", "JobLogEntry"]


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    name: Mapped[str] = mapped_column(String(300))  # unique within the company (-n suffixes)
    original_name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(40), default="Export")
    state: Mapped[str] = mapped_column(String(30), default="New")
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


class JobLogEntry(Base):
    __tablename__ = "job_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    date: Mapped[datetime] = mapped_column(server_default=func.now())
    log_type: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text, default="")
    asset_handle: Mapped[str | None] = mapped_column(String(200))
    asset_name: Mapped[str | None] = mapped_column(String(500))
    asset_type: Mapped[str | None] = mapped_column(String(40))
    fault_code: Mapped[int | None]
    aux: Mapped[list[str]] = mapped_column(JSON, default=list)
