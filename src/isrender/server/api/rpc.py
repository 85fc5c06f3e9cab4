"""The canonical RPC form ``POST /ops/{operationName}`` (production-system.md §5.3): the same
operations as the resource routes, with every parameter in the JSON body. The operation table
built here is what the SOAP endpoint and the web UI call too."""

# No ``from __future__ import annotations``: FastAPI reads the handler's annotations, and the
# ``Caller`` dependency is local to ``add_rpc_route``, so they must be evaluated eagerly.

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header

from isrender.catalog.models import User
from isrender.errors import IpsFault
from isrender.server.api import image_formats, job_logs, jobs
from isrender.server.api.context import ApiContext, IpsOperation
from isrender.server.api.views import filter_jobs, normalize_input, with_locale

__all__ = ["add_rpc_route", "rpc_operations"]


def _text(body: dict[str, Any], name: str, required: bool = True) -> str:
    value = body.get(name)
    if required and not value:
        raise IpsFault(30002, f"{name} is required")
    return str(value or "")


def _number(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise IpsFault(30001, f"{name}: a number from {low} to {high}")
    return value


def _control(ctx: ApiContext, action: str) -> IpsOperation:
    def run(user: User, body: dict[str, Any]) -> dict[str, Any]:
        company, job = _text(body, "companyHandle"), _text(body, "jobHandle")
        jobs.control_job(ctx, company, job, action, user)
        return {}  # an empty <op>Return (§2.6)

    return run


def _job_log_query(body: dict[str, Any]) -> job_logs.JobLogQuery:
    return job_logs.JobLogQuery(
        body.get("userHandle"), body.get("sortBy") or "StartDate",
        body.get("sortDirection") or "Descending", body.get("startDate"), body.get("endDate"),
        _number(body, "numRows", 100, 1, 1000),
    )  # fmt: skip


def _job_operations(ctx: ApiContext) -> dict[str, IpsOperation]:
    def submit(u: User, b: dict[str, Any]) -> dict[str, Any]:
        return {"jobHandle": jobs.submit_job(ctx, _text(b, "companyHandle"), u, b)}

    def active(u: User, b: dict[str, Any]) -> dict[str, Any]:
        company = _text(b, "companyHandle", required=False)
        views = (jobs.active_jobs(ctx, company, u) if company
                 else jobs.active_in_all_companies(ctx, u))  # fmt: skip
        return {"jobArray": filter_jobs(views, b)}

    def scheduled(u: User, b: dict[str, Any]) -> dict[str, Any]:
        return {"jobArray": filter_jobs(jobs.scheduled_jobs(ctx, _text(b, "companyHandle"), u), b)}

    return {
        "submitJob": submit,
        "getActiveJobs": active,
        "getScheduledJobs": scheduled,
        **{f"{action}Job": _control(ctx, action) for action in (*jobs.CONTROL_ACTIONS, "delete")},
    }


def _log_operations(ctx: ApiContext) -> dict[str, IpsOperation]:
    def logs(u: User, b: dict[str, Any]) -> dict[str, Any]:
        company = _text(b, "companyHandle")
        return {"jobLogArray": job_logs.job_log_list(ctx, company, u, _job_log_query(b))}

    def details(u: User, b: dict[str, Any]) -> dict[str, Any]:
        company, job = _text(b, "companyHandle"), _text(b, "jobHandle")
        log_types = tuple(str(t) for t in b.get("logTypeArray") or ())
        per_page = _number(b, "recordsPerPage", 1000, 1, 1000)
        page = _number(b, "resultsPage", 1, 1, 2**31)
        return {"jobLogArray": [
            job_logs.job_log_details(ctx, company, job, u, log_types, per_page, page)
        ]}  # fmt: skip

    def asset_logs(u: User, b: dict[str, Any]) -> dict[str, Any]:
        company, asset = _text(b, "companyHandle"), _text(b, "assetHandle")
        return {"assetJobLogArray": job_logs.asset_job_log_list(ctx, company, asset, u)}

    return {"getJobLogs": logs, "getJobLogDetails": details, "getAssetJobLogs": asset_logs}


def _format_operations(ctx: ApiContext) -> dict[str, IpsOperation]:
    def listed(u: User, b: dict[str, Any]) -> dict[str, Any]:
        company = _text(b, "companyHandle")
        return {"imageFormatArray": image_formats.list_image_formats(ctx, company, u)}

    def save(u: User, b: dict[str, Any]) -> dict[str, Any]:
        return image_formats.save_format(ctx, _text(b, "companyHandle"), u, b)

    def delete(u: User, b: dict[str, Any]) -> dict[str, Any]:
        company, handle = _text(b, "companyHandle"), _text(b, "imageFormatHandle")
        image_formats.delete_format(ctx, company, handle, u)
        return {}

    return {"getImageFormats": listed, "saveImageFormat": save, "deleteImageFormat": delete}


def rpc_operations(ctx: ApiContext) -> dict[str, IpsOperation]:
    """Every operation by its IPS name."""
    return {**_job_operations(ctx), **_log_operations(ctx), **_format_operations(ctx)}


def add_rpc_route(router: APIRouter, ctx: ApiContext, operations: dict[str, IpsOperation]) -> None:
    Caller = Annotated[User, Depends(ctx.caller)]

    @router.post("/ops/{operation}", summary="Any operation in the canonical RPC form")
    def rpc(
        operation: str, user: Caller, body: Annotated[dict[str, Any] | None, Body()] = None,
        accept_language: Annotated[str | None, Header(alias="Accept-Language")] = None,
    ) -> dict[str, Any]:  # fmt: skip
        handler = operations.get(operation)
        if handler is None:
            supported = ", ".join(sorted(operations))
            raise IpsFault(30000, f"operation {operation!r} is not implemented ({supported})")
        return handler(user, with_locale(normalize_input(body or {}), accept_language))
