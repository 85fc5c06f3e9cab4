"""``/api/ips/v1``: the IPS JSON API of production-system.md §5.3 (resource aliases).

Every handler authenticates (Basic, or a bearer token from ``POST /tokens``), resolves the
company from the path and checks the caller's role list before touching anything; faults are
answered as ``{"fault": {...}}`` with the status §5.3 gives (see ``fault_response``).
Handlers are plain functions, so FastAPI runs them in its thread pool (SQLite and file I/O).
"""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations, and the
# ``Caller`` dependency below is local to ``api_router``, so they must be evaluated eagerly.

import base64
import binascii
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Body,
    Depends,
    Form,
    Header,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi.responses import FileResponse

from isrender.catalog import Operation, Role, allowed
from isrender.catalog.attribute_store import company_attributes, set_company_attributes
from isrender.catalog.authorize import authorize
from isrender.catalog.models import Company, User
from isrender.catalog.names import check_folder_path
from isrender.errors import IpsFault
from isrender.jobs import ACTIVE_STATES, Job, JobService, job_handle
from isrender.render.attributes import effective_texts
from isrender.server.api_views import (
    descending,
    filter_jobs,
    job_view,
    json_object,
    manifest,
    missing_output,
    normalize_input,
    output_file,
    parse_datetime,
    present,
    quote_handle,
    save_part,
    sort_key,
    with_locale,
)
from isrender.server.idempotency import SharedIdempotencyKeys
from isrender.server.tokens import ExpiredToken, InvalidToken, Signer

__all__ = ["IpsOperation", "api_router"]

TOKEN_LIFETIME = 3600.0  # bearer tokens, seconds
LINK_LIFETIME = 3600.0  # signed download links in the outputs list, seconds
ATTRIBUTE_ADMINS = frozenset({Role.IPS_ADMIN, Role.IPS_COMPANY_ADMIN})  # catalog attributes


IpsOperation = Callable[[User, dict[str, Any]], dict[str, Any]]


def api_router(service: JobService, signer: Signer) -> tuple[APIRouter, dict[str, IpsOperation]]:
    """The JSON API router, and its operations by IPS name (the SOAP endpoint serves them too)."""
    catalog = service.catalog
    submitted = SharedIdempotencyKeys(catalog)  # in the database: every process agrees
    router = APIRouter(prefix="/api/ips/v1", tags=["IPS JSON API"])

    def caller(request: Request) -> User:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and credentials:
            try:
                subject = signer.open(credentials)
            except (InvalidToken, ExpiredToken) as exc:
                raise IpsFault(10001, f"bearer token: {exc.message}") from None
            user = catalog.user(f"u|{subject.removeprefix('user:')}|")
            if user is None or not user.is_valid:
                raise IpsFault(10002, "Invalid username/password")
            return user
        if scheme.lower() != "basic" or not credentials:
            raise IpsFault(10000, "the request carries no credentials (Basic or Bearer)")
        try:
            email, _, password = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise IpsFault(10001, "Invalid username/password") from None
        address = request.client.host if request.client else ""  # throttled per address too
        return catalog.authenticate(email, password, address)

    Caller = Annotated[User, Depends(caller)]

    def member(user: User, company_ref: str, operation: Operation) -> tuple[Company, Role]:
        return authorize(catalog, user, company_ref, operation)

    def company_job(user: User, company_ref: str, handle: str, operation: Operation) -> Job:
        company, _ = member(user, company_ref, operation)
        return service.require(company.id, handle)

    @router.post("/tokens", summary="Issue a bearer token for Basic credentials")
    def issue_token(user: Caller) -> dict[str, Any]:
        token, expires = signer.issue(f"user:{user.id}", TOKEN_LIFETIME)
        return {"token": token, "expires": expires.isoformat()}

    @router.post("/companies/{company}/jobs", status_code=202, summary="submitJob")
    def submit(
        company: str, user: Caller, response: Response, body: Annotated[dict[str, Any], Body()],
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
        accept_language: Annotated[str | None, Header(alias="Accept-Language")] = None,
    ) -> dict[str, str]:  # fmt: skip
        body = with_locale(normalize_input(body), accept_language)
        found = catalog.company(company)
        if found is None:  # no key to share: submit_job answers the fault
            handle = submit_job(company, user, body)
        else:
            create = partial(submit_job, company, user, body)
            handle = submitted.submit(found.id, user.id, idempotency_key, body, create)
        response.headers["Location"] = (
            f"/api/ips/v1/companies/{quote_handle(company)}/jobs/{quote_handle(handle)}"
        )
        return {"jobHandle": handle}

    def submit_job(company: str, user: User, body: dict[str, Any]) -> str:
        payloads = [k for k in body if k.endswith("Job") and k != "exportJob"]
        job = service.submit(
            user, company, body.get("jobName"), body.get("exportJob"),
            user_ref=body.get("userHandle"), description=str(body.get("description") or ""),
            locale=str(body.get("locale") or ""), other_payloads=len(payloads),
            exec_time=parse_datetime(body.get("execTime"), "execTime"),
            exec_schedule=body.get("execSchedule"),
        )  # fmt: skip
        return job_handle(job)  # the backend's workers start it (jobs/backends.py)

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
        """§2.7.1: one summary per job; by StartDate descending, 100 rows unless asked."""
        found, _ = member(user, company, Operation.JOB_LOGS)
        after, before = parse_datetime(start, "startDate"), parse_datetime(end, "endDate")
        jobs = [
            j
            for j in service.jobs(found.id)
            if (not user_handle or f"u|{j.submit_user_id}|" == user_handle)
            and (after is None or j.submitted >= after)
            and (before is None or j.submitted <= before)
        ]
        jobs.sort(key=sort_key(sort_by), reverse=descending(direction))
        return [job_view(service, j) for j in jobs[:rows]]

    @router.get("/companies/{company}/assets/{asset}/job-logs", summary="getAssetJobLogs")
    def asset_job_logs(company: str, asset: str, user: Caller) -> list[dict[str, Any]]:
        found, _ = member(user, company, Operation.JOB_LOGS)
        return [
            present(
                jobHandle=job_handle(j),
                jobName=j.name,
                logType=e.log_type,
                date=e.date.isoformat(),
                message=e.message,
                code=e.fault_code,
            )
            for j, e in service.asset_logs(found.id, asset)
        ]

    @router.get("/companies/{company}/jobs/active", summary="getActiveJobs")
    def active(company: str, user: Caller) -> list[dict[str, Any]]:
        found, _ = member(user, company, Operation.CONTROL_JOB)
        return [job_view(service, j) for j in service.jobs(found.id) if j.state in ACTIVE_STATES]

    @router.get(
        "/jobs/active", summary="getActiveJobs with no company: every company of the caller"
    )
    def active_everywhere(user: Caller) -> list[dict[str, Any]]:
        strict = catalog.settings.strict_role_lists
        views = []
        for found in catalog.companies():
            role = catalog.effective_role(user, found.id)
            if role is not None and allowed(role, Operation.CONTROL_JOB, strict_role_lists=strict):
                views += [
                    job_view(service, j) for j in service.jobs(found.id) if j.state in ACTIVE_STATES
                ]
        return views

    @router.get("/companies/{company}/jobs/scheduled", summary="getScheduledJobs")
    def scheduled(company: str, user: Caller) -> list[dict[str, Any]]:
        found, _ = member(user, company, Operation.CONTROL_JOB)
        return [job_view(service, j) for j in service.scheduled(found.id)]

    @router.get("/companies/{company}/jobs/{job}", summary="The job's current view")
    def job_current(company: str, job: str, user: Caller) -> dict[str, Any]:
        return job_view(service, company_job(user, company, job, Operation.JOB_LOGS))

    @router.post("/companies/{company}/jobs/{job}/{action}", status_code=204,
                 summary="stopJob, pauseJob, resumeJob, executeJob")  # fmt: skip
    def control(company: str, job: str, action: str, user: Caller) -> Response:
        if action not in ("stop", "pause", "resume", "execute"):
            raise IpsFault(30001, f"unknown job operation {action!r}")
        found = company_job(user, company, job, Operation.CONTROL_JOB)
        if action == "execute":
            service.execute(found.company_id, job_handle(found), service.find, wait=False)
        else:
            service.control(found.company_id, job_handle(found), action)
        return Response(status_code=204)

    @router.delete("/companies/{company}/jobs/{job}", status_code=204, summary="deleteJob")
    def delete(company: str, job: str, user: Caller) -> Response:
        found = company_job(user, company, job, Operation.CONTROL_JOB)
        service.control(found.company_id, job_handle(found), "delete")
        return Response(status_code=204)

    @router.get("/companies/{company}/job-logs/{job}", summary="getJobLogDetails")
    def log_details(
        company: str, job: str, user: Caller,
        log_type: Annotated[list[str] | None, Query(alias="logType")] = None,
        per_page: Annotated[int, Query(alias="recordsPerPage", ge=0, le=1000)] = 0,
        page: Annotated[int, Query(alias="resultsPage", ge=1)] = 1,
    ) -> dict[str, Any]:  # fmt: skip
        found = company_job(user, company, job, Operation.JOB_LOG_DETAILS)
        rows, total = service.details_page(found.id, tuple(log_type or ()), page, per_page)
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
        return {**job_view(service, found), "detailTotalRows": total, "details": details}

    @router.get("/companies/{company}/jobs/{job}/outputs", summary="The job's output files")
    def outputs(company: str, job: str, user: Caller) -> list[dict[str, Any]]:
        found = company_job(user, company, job, Operation.JOB_LOGS)
        files = manifest(service, found)
        for item in files:
            token, expires = signer.issue(f"output:{found.id}:{item['path']}", LINK_LIFETIME)
            item["downloadUrl"] = f"/api/ips/v1/downloads/{token}"
            item["downloadUrlExpires"] = expires.isoformat()
        return files

    @router.get("/downloads/{token}", summary="Signed-link download (no other authentication)")
    def download(token: str) -> FileResponse:
        kind, _, rest = signer.open(token).partition(":")
        job_id, _, path = rest.partition(":")
        if kind != "output" or not job_id.isdigit():
            raise InvalidToken("invalid or forged token")
        found = service.job(int(job_id))
        return output_file(service, found, path)

    @router.get("/companies/{company}/jobs/{job}/outputs.zip", summary="The ZIP package")
    def package(company: str, job: str, user: Caller) -> FileResponse:
        found = company_job(user, company, job, Operation.JOB_LOGS)
        path = service.output_dir(found).with_suffix(".zip")
        if not path.is_file():
            raise IpsFault(30001, missing_output(found))
        return FileResponse(path, media_type="application/zip", filename=f"{found.name}.zip")

    @router.get("/companies/{company}/jobs/{job}/outputs/{path:path}", summary="One output file")
    def one_output(company: str, job: str, path: str, user: Caller) -> FileResponse:
        found = company_job(user, company, job, Operation.JOB_LOGS)
        return output_file(service, found, path)

    @router.get("/companies/{company}/image-formats", summary="getImageFormats")
    def image_formats(company: str, user: Caller) -> list[dict[str, str]]:
        found, _ = member(user, company, Operation.GET_IMAGE_FORMATS)
        return [{"imageFormatHandle": f"f|{p.id}", "name": p.name, "urlModifier": p.url_modifier}
                for p in catalog.presets(found.id)]  # fmt: skip

    @router.post("/companies/{company}/image-formats", summary="saveImageFormat")
    def save_image_format(
        company: str, user: Caller, body: Annotated[dict[str, Any], Body()]
    ) -> dict[str, str]:
        found, _ = member(user, company, Operation.SAVE_IMAGE_FORMAT)
        name, modifier = body.get("name"), body.get("urlModifier")
        if not name or not isinstance(modifier, str):
            raise IpsFault(30002, "name and urlModifier are required")
        preset = catalog.save_preset(found.id, str(name), modifier)
        return {"imageFormatHandle": f"f|{preset.id}"}

    @router.put("/companies/{company}/image-formats/{handle}", summary="saveImageFormat (update)")
    def update_image_format(
        company: str, handle: str, user: Caller, body: Annotated[dict[str, Any], Body()]
    ) -> dict[str, str]:
        found, _ = member(user, company, Operation.SAVE_IMAGE_FORMAT)
        modifier = body.get("urlModifier")
        if not isinstance(modifier, str):
            raise IpsFault(30002, "urlModifier is required")
        preset = catalog.save_preset(found.id, preset_name(found.id, handle), modifier)
        return {"imageFormatHandle": f"f|{preset.id}"}

    @router.delete("/companies/{company}/image-formats/{handle}", status_code=204,
                   summary="deleteImageFormat")  # fmt: skip
    def delete_image_format(company: str, handle: str, user: Caller) -> Response:
        found, _ = member(user, company, Operation.SAVE_IMAGE_FORMAT)
        catalog.delete_preset(found.id, preset_name(found.id, handle))
        return Response(status_code=204)

    @router.get("/companies/{company}/attributes", summary="Catalog attributes (admins)")
    def get_attributes(company: str, user: Caller) -> dict[str, Any]:
        return attribute_view(company_admin(user, company))

    @router.put("/companies/{company}/attributes", summary="Set catalog attributes (admins)")
    def put_attributes(
        company: str, user: Caller, body: Annotated[dict[str, Any], Body()]
    ) -> dict[str, Any]:
        found = company_admin(user, company)
        changes = body.get("attributes")
        if not isinstance(changes, dict) or not all(
            isinstance(v, str | None) for v in changes.values()
        ):
            raise IpsFault(30002, "attributes: an object of name -> text (or null) is required")
        set_company_attributes(catalog, found.id, changes)
        return attribute_view(found)

    def company_admin(user: User, company_ref: str) -> Company:
        """The company, when the caller administers it (attributes change every URL)."""
        found, role = member(user, company_ref, Operation.GET_ASSETS)
        if role not in ATTRIBUTE_ADMINS:
            raise IpsFault(20003, f"role {role.value} may not read or set catalog attributes")
        return found

    def attribute_view(found: Company) -> dict[str, Any]:
        own = company_attributes(catalog, found.id)
        texts = effective_texts(own, catalog.settings)
        return {"companyHandle": f"c|{found.id}", "attributes": {
            name: {"value": text, "source": "company" if name in own else "server"}
            for name, text in texts.items()
        }}  # fmt: skip

    def preset_name(company_id: int, handle: str) -> str:
        for preset in catalog.presets(company_id):
            if handle in (f"f|{preset.id}", preset.name):
                return preset.name
        raise IpsFault(30001, f"imageFormatHandle {handle!r} does not name a preset")

    @router.post("/companies/{company}/uploads", status_code=201, summary="Multipart upload")
    def upload(
        company: str, user: Caller, files: list[UploadFile],
        upload_params: Annotated[str, Form(alias="uploadParams")] = "{}",
    ) -> dict[str, Any]:  # fmt: skip
        """File parts plus ``uploadParams`` (JSON: ``jobName``, ``destFolder``, ``overwrite``);
        one UploadPost job with its logs (§1.9)."""
        params = json_object(upload_params, "uploadParams")
        destination = check_folder_path(str(params.get("destFolder") or ""))
        with tempfile.TemporaryDirectory(prefix="isrender-upload-") as folder:
            paths = [save_part(part, Path(folder)) for part in files]
            job = service.upload(
                user, company, paths, destination,
                overwrite=bool(params.get("overwrite", True)),
                job_name=str(params.get("jobName") or "upload"),
            )  # fmt: skip
        rows = service.details(job.id)
        assets = [e.asset_handle for e in rows if e.asset_handle]
        return {**job_view(service, job), "assetHandles": assets}

    # ---- the canonical RPC form: POST /ops/{operationName} (§5.3) -------------------------

    def rpc_operations() -> dict[str, IpsOperation]:
        def text(body: dict[str, Any], name: str, required: bool = True) -> str:
            value = body.get(name)
            if required and not value:
                raise IpsFault(30002, f"{name} is required")
            return str(value or "")

        def number(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
            value = body.get(name, default)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise IpsFault(30001, f"{name}: a number from {low} to {high}")
            return value

        def control_op(action: str) -> IpsOperation:
            def run(user: User, body: dict[str, Any]) -> dict[str, Any]:
                company, job = text(body, "companyHandle"), text(body, "jobHandle")
                if action == "delete":
                    delete(company, job, user)
                else:
                    control(company, job, action, user)
                return {}  # an empty <op>Return (§2.6)

            return run

        def delete_format_op(user: User, body: dict[str, Any]) -> dict[str, Any]:
            delete_image_format(text(body, "companyHandle"), text(body, "imageFormatHandle"), user)
            return {}

        def active_op(user: User, body: dict[str, Any]) -> dict[str, Any]:
            company = text(body, "companyHandle", required=False)
            jobs = active(company, user) if company else active_everywhere(user)
            return {"jobArray": filter_jobs(jobs, body)}

        return {
            "submitJob": lambda u, b: {"jobHandle": submit_job(text(b, "companyHandle"), u, b)},
            "getActiveJobs": active_op,
            "getScheduledJobs": lambda u, b: {
                "jobArray": filter_jobs(scheduled(text(b, "companyHandle"), u), b)
            },
            **{f"{action}Job": control_op(action)
               for action in ("stop", "pause", "resume", "execute", "delete")},
            "getJobLogs": lambda u, b: {"jobLogArray": job_logs(
                text(b, "companyHandle"), u, b.get("userHandle"), b.get("sortBy") or "StartDate",
                b.get("sortDirection") or "Descending", b.get("startDate"), b.get("endDate"),
                number(b, "numRows", 100, 1, 1000),
            )},
            "getJobLogDetails": lambda u, b: {"jobLogArray": [log_details(
                text(b, "companyHandle"), text(b, "jobHandle"), u,
                [str(t) for t in b.get("logTypeArray") or ()],
                number(b, "recordsPerPage", 1000, 1, 1000), number(b, "resultsPage", 1, 1, 2**31),
            )]},
            "getAssetJobLogs": lambda u, b: {"assetJobLogArray": asset_job_logs(
                text(b, "companyHandle"), text(b, "assetHandle"), u)},
            "getImageFormats": lambda u, b: {
                "imageFormatArray": image_formats(text(b, "companyHandle"), u)
            },
            "saveImageFormat": lambda u, b: save_image_format(text(b, "companyHandle"), u, b),
            "deleteImageFormat": delete_format_op,
        }  # fmt: skip

    operations = rpc_operations()

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

    return router, operations
