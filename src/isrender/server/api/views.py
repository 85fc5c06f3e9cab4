"""What the JSON API answers: fault bodies, job views, output lists, files (§5.3)."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import UploadFile
from fastapi.responses import FileResponse, JSONResponse

from isrender.catalog.names import check_file_name
from isrender.errors import IpsFault, LoginThrottled
from isrender.jobs import Job, JobService, job_handle, outcome

# "exportJob/fmt is required", "jobName: at most" -> the path; "Invalid is_modifier: x" -> none
_PARAMETER = re.compile(r"([A-Za-z_]+(?:/[A-Za-z_]+)+)(?=[: ])|([A-Za-z_]+)(?=:| is required)")
FAULT_NAMES = {
    10000: "AUTHENTICATION_FAULT_CODE_NO_CREDENTIALS",
    10001: "AUTHENTICATION_FAULT_CODE_INVALID_CREDENTIALS",
    10002: "AUTHENTICATION_FAULT_CODE_INVALID_USER",
    **{
        20000 + n: f"AUTHORIZATION_FAULT_CODE_{name}"
        for n, name in enumerate(
            (
                "INVALID_COMPANY",
                "INVALID_REQUEST_USERNAME",
                "INVALID_REQUEST_USER",
                "NO_OPERATION_PERMISSION",
                "NO_IMPERSONATION_PERMISSION",
                "ILLEGAL_PARAMETER_VALUE",
                "ILLEGAL_COMPANY",
                "ILLEGAL_REQUEST_USER",
                "ILLEGAL_ACCESS_GROUP",
                "MISSING_PERMISSION",
            )
        )
    },
    30000: "IPS_API_FAULT_CODE_EXCEPTION",
    30001: "IPS_API_FAULT_CODE_INVALID_PARAMETER",
    30002: "IPS_API_FAULT_CODE_MISSING_PARAMETER",
    30003: "IPS_API_FAULT_CODE_INVALID_REQUEST_XML",
}


def fault_response(fault: IpsFault) -> JSONResponse:
    body: dict[str, object] = {
        "type": fault.fault,
        "code": fault.code,
        "name": FAULT_NAMES.get(fault.code, ""),
        "reason": fault.reason,
    }
    parameter = _PARAMETER.match(fault.reason) if fault.code in (30001, 30002) else None
    if parameter:  # reasons name the parameter path first, as §4.1 asks ("exportJob/fmt ...")
        body["parameter"] = parameter.group(1) or parameter.group(2)
    headers = {"WWW-Authenticate": 'Basic realm="IPS"'} if fault.http_status == 401 else {}
    if isinstance(fault, LoginThrottled):
        headers["Retry-After"] = str(fault.retry_after)
    return JSONResponse({"fault": body}, fault.http_status, headers)


def present(**fields: object) -> dict[str, object]:
    return {key: value for key, value in fields.items() if value is not None}


def quote_handle(handle: str) -> str:
    from urllib.parse import quote

    return quote(handle, safe="")


def parse_datetime(value: object, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise IpsFault(30001, f"{name}: not an ISO-8601 date-time") from None
    return parsed.astimezone().replace(tzinfo=None) if parsed.tzinfo else parsed


def job_view(service: JobService, job: Job) -> dict[str, Any]:
    """ActiveJob / ScheduledJob / JobLog summary merged, plus ``outcome`` once Done."""
    view: dict[str, Any] = {
        "jobHandle": job_handle(job), "jobName": job.name, "originalName": job.original_name,
        "type": job.type, "state": job.state, "submitUserHandle": f"u|{job.submit_user_id}|",
        "submitted": job.submitted.isoformat(), "totalFileCount": job.total,
        "processedFileCount": job.processed, "fileSuccessCount": job.success,
        "fileErrorCount": job.errors, "fileWarningCount": job.warnings,
        "fileDuplicateCount": job.duplicates, "fileCancelledCount": job.cancelled,
    }  # fmt: skip
    optional = {"startDate": job.start_date, "endDate": job.end_date, "execTime": job.exec_time,
                "nextFireTime": job.next_fire}  # fmt: skip
    view.update({k: v.isoformat() for k, v in optional.items() if v is not None})
    if job.locale:
        view["locale"] = job.locale
    if job.exec_schedule:
        view["execSchedule"] = job.exec_schedule
        view["triggerState"] = job.trigger_state
    if job.state == "Done":
        view["outcome"] = outcome(job)
    return view


def manifest(service: JobService, job: Job) -> list[dict[str, Any]]:

    manifest = service.output_dir(job) / "manifest.json"
    if not manifest.is_file():
        raise IpsFault(30001, missing_output(job))
    entries: list[dict[str, Any]] = json.loads(manifest.read_text("utf-8"))["entries"]
    base = (
        f"/api/ips/v1/companies/c%7C{job.company_id}/jobs/{quote_handle(job_handle(job))}/outputs"
    )
    return [
        {
            "path": e["outputPath"],
            "bytes": e["bytes"],
            "sha256": e["sha256"],
            "format": e["format"],
            "assetHandle": e["assetHandle"],
            "url": f"{base}/{e['outputPath']}",
        }
        for e in entries
    ]


def output_file(service: JobService, job: Job, path: str) -> FileResponse:
    folder = service.output_dir(job).resolve()
    target = (folder / path).resolve()
    if not target.is_relative_to(folder) or not target.is_file():
        raise IpsFault(30001, f"no output {path!r} in this job ({missing_output(job)})")
    return FileResponse(target, filename=Path(path).name)  # Range requests answer 206


def missing_output(job: Job) -> str:
    return "the job's outputs expired" if job.state == "Done" else "the job has not finished"


def json_object(text: str, name: str) -> dict[str, Any]:

    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IpsFault(30003, f"{name}: not JSON ({exc.msg} at {exc.pos})") from None
    if not isinstance(value, dict):
        raise IpsFault(30003, f"{name}: a JSON object is required")
    return value


def save_part(part: UploadFile, folder: Path) -> Path:
    """The part under its own file name (only the last path element: no traversal), in a new
    folder of its own under ``folder``: two parts of one name are two files. A name the naming
    rule refuses is not written (it may be too long for the file system); the catalog then
    refuses that part by name, with an UploadError line in the job log, and keeps the others."""
    name = Path((part.filename or "").replace("\\", "/")).name
    if not name or name in (".", ".."):
        raise IpsFault(30002, "every file part needs a file name")
    target = Path(tempfile.mkdtemp(dir=folder)) / name
    if check_file_name(name) is None:
        with target.open("wb") as out:
            shutil.copyfileobj(part.file, out)
    return target


_SORT_KEYS = {
    "jobname": lambda j: j.name.lower(),
    "startdate": lambda j: j.start_date or j.submitted,
    "userid": lambda j: j.submit_user_id,
    "fileerrorcount": lambda j: j.errors,
    "filewarningcount": lambda j: j.warnings,
    "filesuccesscount": lambda j: j.success,
}


def sort_key(sort_by: str) -> Callable[[Job], Any]:
    """getJobLogs ``sortBy`` (§2.7.1), case-insensitive; ties keep the submit order."""
    key = _SORT_KEYS.get(sort_by.lower())
    if key is None:
        choices = "JobName, StartDate, UserId, FileErrorCount, FileWarningCount, FileSuccessCount"
        raise IpsFault(30001, f"sortBy: one of {choices}, not {sort_by!r}")
    return lambda job: (key(job), job.id)


def descending(direction: str) -> bool:
    if direction.lower() not in ("ascending", "descending"):
        raise IpsFault(30001, f"sortDirection: Ascending or Descending, not {direction!r}")
    return direction.lower() == "descending"


def normalize_input(value: Any) -> Any:
    """JSON input rules of §5.3: ``{"items": [...]}`` array wrappers become plain arrays and
    ``null`` means absent (the key is dropped)."""
    if isinstance(value, dict):
        if value.keys() == {"items"} and isinstance(value["items"], list):
            return [normalize_input(v) for v in value["items"]]
        return {k: normalize_input(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [normalize_input(v) for v in value]
    return value


def filter_jobs(views: list[dict[str, Any]], body: dict[str, Any]) -> list[dict[str, Any]]:
    """getActiveJobs / getScheduledJobs: ``jobHandle`` and ``originalName`` combine with AND."""
    wanted = {k: body[k] for k in ("jobHandle", "originalName") if body.get(k)}
    return [v for v in views if all(v.get(k) == value for k, value in wanted.items())]


_LANGUAGE = re.compile(r"^([a-z]{2})(?:[-_]([A-Za-z]{2}))?$")


def with_locale(body: dict[str, Any], accept_language: str | None) -> dict[str, Any]:
    """``Accept-Language`` selects the operation locale (§5.3) when the body names none:
    its first tag, as ``ll`` or ``ll-CC``; anything else (``*``, scripts) is left out."""
    if body.get("locale") or not accept_language:
        return body
    first = accept_language.split(",")[0].split(";")[0].strip()
    match = _LANGUAGE.match(first)
    if match is None:
        return body
    language, country = match.groups()
    return {**body, "locale": f"{language}-{country.upper()}" if country else language}
