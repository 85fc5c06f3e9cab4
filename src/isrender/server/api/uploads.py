"""Multipart uploads: file parts become assets through one UploadPost job (§1.9, §5.3)."""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations, and the
# ``Caller`` dependency is local to ``add_upload_routes``, so they must be evaluated eagerly.

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, UploadFile

from isrender.catalog.models import User
from isrender.catalog.names import check_folder_path
from isrender.server.api.context import ApiContext
from isrender.server.api.views import job_view, json_object, save_part

__all__ = ["add_upload_routes"]


def add_upload_routes(router: APIRouter, ctx: ApiContext) -> None:
    Caller = Annotated[User, Depends(ctx.caller)]
    service = ctx.service

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
