"""Job logs: getJobLogs, getAssetJobLogs and getJobLogDetails (production-system.md §2.7)."""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations, and the
# ``Caller`` dependency is local to ``add_job_log_routes``, so they must be evaluated eagerly.

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from isrender.catalog import Operation
from isrender.catalog.models import User
from isrender.jobs import job_handle
from isrender.server.api.context import ApiContext
from isrender.server.api.views import descending, job_view, parse_datetime, present, sort_key

__all__ = [
    "JobLogQuery",
    "add_job_log_routes",
    "asset_job_log_list",
    "job_log_details",
    "job_log_list",
]


@dataclass(frozen=True, slots=True)
class JobLogQuery:
    """getJobLogs' filters and order (§2.7.1): by StartDate descending, 100 rows unless asked."""

    user_handle: str | None = None
    sort_by: str = "StartDate"
    direction: str = "Descending"
    start: str | None = None
    end: str | None = None
    rows: int = 100


def job_log_list(
    ctx: ApiContext, company: str, user: User, query: JobLogQuery
) -> list[dict[str, Any]]:
    """§2.7.1: one summary per job."""
    found, _ = ctx.member(user, company, Operation.JOB_LOGS)
    after = parse_datetime(query.start, "startDate")
    before = parse_datetime(query.end, "endDate")
    jobs = [
        j
        for j in ctx.service.jobs(found.id)
        if (not query.user_handle or f"u|{j.submit_user_id}|" == query.user_handle)
        and (after is None or j.submitted >= after)
        and (before is None or j.submitted <= before)
    ]
    jobs.sort(key=sort_key(query.sort_by), reverse=descending(query.direction))
    return [job_view(ctx.service, j) for j in jobs[: query.rows]]


def asset_job_log_list(
    ctx: ApiContext, company: str, asset: str, user: User
) -> list[dict[str, Any]]:
    found, _ = ctx.member(user, company, Operation.JOB_LOGS)
    return [
        present(
            jobHandle=job_handle(j),
            jobName=j.name,
            logType=e.log_type,
            date=e.date.isoformat(),
            message=e.message,
            code=e.fault_code,
        )
        for j, e in ctx.service.asset_logs(found.id, asset)
    ]


def job_log_details(
    ctx: ApiContext, company: str, job: str, user: User,
    log_types: tuple[str, ...], per_page: int, page: int,
) -> dict[str, Any]:  # fmt: skip
    """§2.7.1: the job's summary, then one page of its detail lines."""
    found = ctx.company_job(user, company, job, Operation.JOB_LOG_DETAILS)
    rows, total = ctx.service.details_page(found.id, log_types, page, per_page)
    details = [
        present(
            logType=e.log_type,
            date=e.date.isoformat(),
            assetHandle=e.asset_handle,
            message=e.message,
            code=e.fault_code,
        )  # absent optional elements are omitted, never null (§5.3)
        for e in rows
    ]
    return {**job_view(ctx.service, found), "detailTotalRows": total, "details": details}


def add_job_log_routes(router: APIRouter, ctx: ApiContext) -> None:
    Caller = Annotated[User, Depends(ctx.caller)]

    @router.get("/companies/{company}/job-logs", summary="getJobLogs")
    def job_logs(
        company: str, user: Caller,
        user_handle: Annotated[str | None, Query(alias="userHandle")] = None,
        sort_by: Annotated[str, Query(alias="sortBy")] = "StartDate",
        direction: Annotated[str, Query(alias="sortDirection")] = "Descending",
        start: Annotated[str | None, Query(alias="startDate")] = None,
        end: Annotated[str | None, Query(alias="endDate")] = None,
        rows: Annotated[int, Query(alias="numRows", ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:  # fmt: skip
        query = JobLogQuery(user_handle, sort_by, direction, start, end, rows)
        return job_log_list(ctx, company, user, query)

    @router.get("/companies/{company}/assets/{asset}/job-logs", summary="getAssetJobLogs")
    def asset_job_logs(company: str, asset: str, user: Caller) -> list[dict[str, Any]]:
        return asset_job_log_list(ctx, company, asset, user)

    @router.get("/companies/{company}/job-logs/{job}", summary="getJobLogDetails")
    def log_details(
        company: str, job: str, user: Caller,
        log_type: Annotated[list[str] | None, Query(alias="logType")] = None,
        per_page: Annotated[int, Query(alias="recordsPerPage", ge=0, le=1000)] = 0,
        page: Annotated[int, Query(alias="resultsPage", ge=1)] = 1,
    ) -> dict[str, Any]:  # fmt: skip
        return job_log_details(ctx, company, job, user, tuple(log_type or ()), per_page, page)
