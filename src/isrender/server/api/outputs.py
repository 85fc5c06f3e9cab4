"""A finished job's outputs: the list (with signed download links), one file, the ZIP package,
and the signed-link download that needs no other authentication (production-system.md §5.3)."""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations, and the
# ``Caller`` dependency is local to ``add_output_routes``, so they must be evaluated eagerly.

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from isrender.catalog import Operation
from isrender.catalog.models import User
from isrender.errors import IpsFault
from isrender.server.api.context import PREFIX, ApiContext
from isrender.server.api.views import manifest, missing_output, output_file
from isrender.server.tokens import InvalidToken

__all__ = ["LINK_LIFETIME", "add_output_routes"]

LINK_LIFETIME = 3600.0  # signed download links in the outputs list, seconds


def add_output_routes(router: APIRouter, ctx: ApiContext) -> None:
    Caller = Annotated[User, Depends(ctx.caller)]
    service, signer = ctx.service, ctx.signer

    @router.get("/companies/{company}/jobs/{job}/outputs", summary="The job's output files")
    def outputs(company: str, job: str, user: Caller) -> list[dict[str, Any]]:
        found = ctx.company_job(user, company, job, Operation.JOB_LOGS)
        files = manifest(service, found)
        for item in files:
            token, expires = signer.issue(f"output:{found.id}:{item['path']}", LINK_LIFETIME)
            item["downloadUrl"] = f"{PREFIX}/downloads/{token}"
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
        found = ctx.company_job(user, company, job, Operation.JOB_LOGS)
        path = service.output_dir(found).with_suffix(".zip")
        if not path.is_file():
            raise IpsFault(30001, missing_output(found))
        return FileResponse(path, media_type="application/zip", filename=f"{found.name}.zip")

    @router.get("/companies/{company}/jobs/{job}/outputs/{path:path}", summary="One output file")
    def one_output(company: str, job: str, path: str, user: Caller) -> FileResponse:
        found = ctx.company_job(user, company, job, Operation.JOB_LOGS)
        return output_file(service, found, path)
