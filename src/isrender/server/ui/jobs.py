"""``/ui/jobs`` and ``/ui/jobs/{handle}``: submit an ExportJob, follow it, control it, and
download its outputs. Every action is the JSON API's operation of the same name."""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations.

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse

from isrender.catalog import Operation, asset_handle, export_class
from isrender.catalog.models import User
from isrender.errors import IpsFault, IsRenderError
from isrender.jobs import Job
from isrender.jobs.export import EMAIL_SETTINGS
from isrender.server.api.views import manifest, missing_output, output_file
from isrender.server.ui.access import companies_of, member, pick_company, readable
from isrender.server.ui.checking import error_data
from isrender.server.ui.views import Ui, guarded, see_other

__all__ = ["jobs_router"]

Text = Annotated[str, Form()]
PER_PAGE = 25
FINAL = ("Done", "Deleted", "Fired")
CONTROLS = ("stop", "pause", "resume", "delete")
FORM_FIELDS = ("name", "fmt", "is_modifier", "macro", "email", "when", "at", "schedule")


def quoted(handle: str) -> str:
    return quote(handle, safe="")


def company_of(handle: str) -> str:
    """``j|<company id>||name|id`` -> ``c|<company id>`` (the API then checks membership)."""
    company_id = handle.split("|")[1] if handle.count("|") >= 4 else ""
    if not company_id.isdigit():
        raise IpsFault(30001, "job not found: jobHandle does not name a job of this company")
    return f"c|{company_id}"


def jobs_router(ui: Ui) -> APIRouter:
    router = APIRouter(prefix="/ui", include_in_schema=False)
    catalog = ui.catalog

    @router.get("/jobs")
    @guarded(ui)
    def jobs(request: Request, company: str = "",
             asset: Annotated[list[str] | None, Query()] = None) -> Response:  # fmt: skip
        user, session = ui.sessions.user(request)
        found = pick_company(catalog, user, company or None)
        return jobs_page(user, session, found.id, set(asset or ()), {}, None, 200)

    def jobs_page(
        user: User, session: Any, company_id: int, picked: set[str], form: dict[str, Any],
        error: str | None, status: int,
    ) -> Response:  # fmt: skip
        company = catalog.company(f"c|{company_id}")
        assert company is not None
        form = {key: "" for key in FORM_FIELDS} | form
        listed = ui.call("getJobLogs", user, companyHandle=f"c|{company_id}", numRows=100)
        exportable = [
            a for a in readable(catalog, user, company, Operation.GET_ASSETS)
            if export_class(a.type, a.sub_type).name in ("RENDERABLE", "FILE", "VIRTUAL")
        ]  # fmt: skip
        return ui.page(
            "jobs.html", session, status, title="Jobs", active="jobs", company=company,
            companies=companies_of(catalog, user), jobs=listed["jobLogArray"],
            assets=[(asset_handle(a.id), a) for a in exportable], picked=picked,
            macros=[p.name for p in catalog.presets(company_id)], email_settings=EMAIL_SETTINGS,
            form=form, error=error, quoted=quoted,
        )  # fmt: skip

    @router.post("/jobs")
    @guarded(ui)
    def submit(
        request: Request, company: Text, name: Text = "", fmt: Text = "",
        is_modifier: Text = "", macro: Text = "", email: Text = "None", when: Text = "now",
        at: Text = "", schedule: Text = "", csrf: Text = "",
        asset: Annotated[list[str] | None, Form()] = None,
    ) -> Response:  # fmt: skip
        user, session = ui.sessions.user(request)
        ui.sessions.check_csrf(session, csrf)
        found = pick_company(catalog, user, company)
        export = {"assetHandleArray": list(asset or ()), "fmt": fmt, "emailSetting": email,
                  "is_modifier": is_modifier or None, "macro": macro or None}  # fmt: skip
        body: dict[str, Any] = {"companyHandle": f"c|{found.id}", "jobName": name.strip(),
                                "exportJob": {k: v for k, v in export.items() if v}}  # fmt: skip
        if when == "at":
            body["execTime"] = at
        elif when == "schedule":
            body["execSchedule"] = schedule.strip()
        form = {"name": name, "fmt": fmt, "is_modifier": is_modifier, "macro": macro,
                "email": email, "when": when, "at": at, "schedule": schedule}  # fmt: skip
        try:
            if when == "at" and at:
                datetime.fromisoformat(at)  # the API says "execTime: not an ISO-8601 date"
            handle = ui.call("submitJob", user, **body)["jobHandle"]
        except (IpsFault, ValueError) as exc:
            if isinstance(exc, IpsFault) and exc.http_status in (401, 403):
                raise
            reason = exc.reason if isinstance(exc, IpsFault) else "execTime: not a date and time"
            return jobs_page(user, session, found.id, set(asset or ()), form, reason, 400)
        return see_other(f"/ui/jobs/{quoted(handle)}")

    def log_page(
        user: User, handle: str, types: list[str], page: int
    ) -> tuple[dict[str, Any], list[str]]:
        """One page of the log (getJobLogDetails) and every log type the job has."""
        company = company_of(handle)
        view = ui.call(
            "getJobLogDetails",
            user,
            companyHandle=company,
            jobHandle=handle,
            logTypeArray=types,
            recordsPerPage=PER_PAGE,
            resultsPage=page,
        )
        everything = ui.call("getJobLogDetails", user, companyHandle=company, jobHandle=handle,
                             recordsPerPage=1000, resultsPage=1)  # fmt: skip
        kinds = sorted({d["logType"] for d in everything["jobLogArray"][0]["details"]})
        return view["jobLogArray"][0], kinds

    @router.get("/jobs/{handle}")
    @guarded(ui)
    def job(request: Request, handle: str, page: int = 1,
            type: Annotated[list[str] | None, Query()] = None) -> Response:  # fmt: skip
        user, session = ui.sessions.user(request)
        view, kinds = log_page(user, handle, list(type or ()), max(page, 1))
        found = catalog.company(company_of(handle))
        assert found is not None
        outputs = _outputs(user, found.id, handle) if view["state"] == "Done" else []
        pages = max(1, -(-view["detailTotalRows"] // PER_PAGE))
        filters = [("type", t) for t in type or ()]
        return ui.page(
            "job.html", session, title=view["jobName"], active="jobs", job=view,
            company=found, companies=companies_of(catalog, user), kinds=kinds,
            types=set(type or ()), page=max(page, 1), pages=pages, outputs=outputs,
            base=f"/ui/jobs/{quoted(handle)}", filter_query=urlencode(filters),
            final=view["state"] in FINAL, controls=CONTROLS,
        )  # fmt: skip

    @router.get("/api/jobs/{handle}")
    def job_json(request: Request, handle: str, page: int = 1,
                 type: Annotated[list[str] | None, Query()] = None) -> JSONResponse:  # fmt: skip
        """The job page's live data (polled while the job runs)."""
        user, _ = ui.sessions.user(request)
        try:
            view, _ = log_page(user, handle, list(type or ()), max(page, 1))
        except IsRenderError as exc:
            return JSONResponse({"error": error_data(exc)}, exc.http_status)
        return JSONResponse({**view, "final": view["state"] in FINAL, "perPage": PER_PAGE})

    @router.post("/jobs/{handle}/{action}")
    @guarded(ui)
    def control(request: Request, handle: str, action: str, csrf: Text = "") -> Response:
        user, session = ui.sessions.user(request)
        ui.sessions.check_csrf(session, csrf)
        if action not in CONTROLS:
            raise IpsFault(30001, f"unknown job operation {action!r}")
        ui.call(f"{action}Job", user, companyHandle=company_of(handle), jobHandle=handle)
        return see_other(f"/ui/jobs/{quoted(handle)}")

    def _job(user: User, handle: str) -> Job:
        """The job, after the API's check for its output routes (getJobLogs role list)."""
        company = company_of(handle)
        member(catalog, user, company, Operation.JOB_LOGS)
        return ui.jobs.require(int(company.removeprefix("c|")), handle)

    def _outputs(user: User, company_id: int, handle: str) -> list[dict[str, Any]]:
        try:
            return manifest(ui.jobs, _job(user, handle))
        except IpsFault:
            return []  # expired or never written: the page says there is nothing to download

    @router.get("/jobs/{handle}/outputs.zip")
    @guarded(ui)
    def package(request: Request, handle: str) -> Response:
        user, _ = ui.sessions.user(request)
        found = _job(user, handle)
        path = ui.jobs.output_dir(found).with_suffix(".zip")
        if not path.is_file():
            raise IpsFault(30001, missing_output(found))
        return FileResponse(path, media_type="application/zip", filename=f"{found.name}.zip")

    @router.get("/jobs/{handle}/outputs/{path:path}")
    @guarded(ui)
    def one_output(request: Request, handle: str, path: str) -> Response:
        user, _ = ui.sessions.user(request)
        return output_file(ui.jobs, _job(user, handle), path)

    return router
