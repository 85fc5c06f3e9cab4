"""Jobs: submitJob, getActiveJobs, getScheduledJobs, stop/pause/resume/execute/deleteJob, and a
job's current view (production-system.md §2, §5.3).

The operations are module functions taking the ``ApiContext``; the routes adapt them to HTTP,
and ``rpc.py`` adapts the same functions to the canonical RPC form and SOAP.
"""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations, and the
# ``Caller`` dependency is local to ``add_job_routes``, so they must be evaluated eagerly.

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Response

from isrender.catalog import Operation
from isrender.catalog.authorize import permits
from isrender.catalog.models import User
from isrender.errors import IpsFault
from isrender.jobs import ACTIVE_STATES, job_handle
from isrender.server.api.context import PREFIX, ApiContext
from isrender.server.api.views import (
    job_view,
    normalize_input,
    parse_datetime,
    quote_handle,
    with_locale,
)

__all__ = [
    "CONTROL_ACTIONS",
    "active_in_all_companies",
    "active_jobs",
    "add_job_routes",
    "control_job",
    "scheduled_jobs",
    "submit_job",
]

CONTROL_ACTIONS = ("stop", "pause", "resume", "execute")  # POST .../jobs/{job}/{action}


def submit_job(ctx: ApiContext, company: str, user: User, body: dict[str, Any]) -> str:
    """submitJob; the handle of the new job (the backend's workers start it)."""
    payloads = [k for k in body if k.endswith("Job") and k != "exportJob"]
    job = ctx.service.submit(
        user, company, body.get("jobName"), body.get("exportJob"),
        user_ref=body.get("userHandle"), description=str(body.get("description") or ""),
        locale=str(body.get("locale") or ""), other_payloads=len(payloads),
        exec_time=parse_datetime(body.get("execTime"), "execTime"),
        exec_schedule=body.get("execSchedule"),
    )  # fmt: skip
    return job_handle(job)


def active_jobs(ctx: ApiContext, company: str, user: User) -> list[dict[str, Any]]:
    found, _ = ctx.member(user, company, Operation.CONTROL_JOB)
    jobs = ctx.service.jobs(found.id)
    return [job_view(ctx.service, j) for j in jobs if j.state in ACTIVE_STATES]


def active_in_all_companies(ctx: ApiContext, user: User) -> list[dict[str, Any]]:
    """getActiveJobs with no company: the companies where the caller may control jobs."""
    views = []
    for found in ctx.catalog.companies():
        if permits(ctx.catalog, user, found, Operation.CONTROL_JOB):
            jobs = ctx.service.jobs(found.id)
            views += [job_view(ctx.service, j) for j in jobs if j.state in ACTIVE_STATES]
    return views


def scheduled_jobs(ctx: ApiContext, company: str, user: User) -> list[dict[str, Any]]:
    found, _ = ctx.member(user, company, Operation.CONTROL_JOB)
    return [job_view(ctx.service, j) for j in ctx.service.scheduled(found.id)]


def control_job(ctx: ApiContext, company: str, job: str, action: str, user: User) -> None:
    """stop, pause, resume, execute or delete one job of the company."""
    if action not in (*CONTROL_ACTIONS, "delete"):
        raise IpsFault(30001, f"unknown job operation {action!r}")
    found = ctx.company_job(user, company, job, Operation.CONTROL_JOB)
    service = ctx.service
    if action == "execute":
        service.execute(found.company_id, job_handle(found), service.find, wait=False)
    else:
        service.control(found.company_id, job_handle(found), action)


def add_job_routes(router: APIRouter, ctx: ApiContext) -> None:
    Caller = Annotated[User, Depends(ctx.caller)]

    @router.post("/companies/{company}/jobs", status_code=202, summary="submitJob")
    def submit(
        company: str, user: Caller, response: Response, body: Annotated[dict[str, Any], Body()],
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
        accept_language: Annotated[str | None, Header(alias="Accept-Language")] = None,
    ) -> dict[str, str]:  # fmt: skip
        body = with_locale(normalize_input(body), accept_language)
        found = ctx.catalog.company(company)
        if found is None:  # no key to share: submit_job answers the fault
            handle = submit_job(ctx, company, user, body)
        else:
            create = partial(submit_job, ctx, company, user, body)
            handle = ctx.submitted.submit(found.id, user.id, idempotency_key, body, create)
        response.headers["Location"] = (
            f"{PREFIX}/companies/{quote_handle(company)}/jobs/{quote_handle(handle)}"
        )
        return {"jobHandle": handle}

    @router.get("/companies/{company}/jobs/active", summary="getActiveJobs")
    def active(company: str, user: Caller) -> list[dict[str, Any]]:
        return active_jobs(ctx, company, user)

    @router.get(
        "/jobs/active", summary="getActiveJobs with no company: every company of the caller"
    )
    def active_everywhere(user: Caller) -> list[dict[str, Any]]:
        return active_in_all_companies(ctx, user)

    @router.get("/companies/{company}/jobs/scheduled", summary="getScheduledJobs")
    def scheduled(company: str, user: Caller) -> list[dict[str, Any]]:
        return scheduled_jobs(ctx, company, user)

    @router.get("/companies/{company}/jobs/{job}", summary="The job's current view")
    def job_current(company: str, job: str, user: Caller) -> dict[str, Any]:
        return job_view(ctx.service, ctx.company_job(user, company, job, Operation.JOB_LOGS))

    @router.post("/companies/{company}/jobs/{job}/{action}", status_code=204,
                 summary="stopJob, pauseJob, resumeJob, executeJob")  # fmt: skip
    def control(company: str, job: str, action: str, user: Caller) -> Response:
        if action not in CONTROL_ACTIONS:  # delete is the DELETE method, not a POST action
            raise IpsFault(30001, f"unknown job operation {action!r}")
        control_job(ctx, company, job, action, user)
        return Response(status_code=204)

    @router.delete("/companies/{company}/jobs/{job}", status_code=204, summary="deleteJob")
    def delete(company: str, job: str, user: Caller) -> Response:
        control_job(ctx, company, job, "delete", user)
        return Response(status_code=204)
