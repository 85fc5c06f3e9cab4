"""``/ui/assets``: folder tree, thumbnails, details, Modifier/PostModifier, and uploads
(``/ui/assets/upload`` for a plain form, ``/ui/api/upload`` per file for the drop zone)."""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations.

import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Header, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from isrender.catalog import Operation, asset_handle, export_class
from isrender.catalog.models import Asset, Company, User
from isrender.errors import IpsFault, IsRenderError
from isrender.jobs import job_handle
from isrender.server.api.views import save_part
from isrender.server.ui.access import companies_of, may, member, pick_company, readable
from isrender.server.ui.checking import error_data, image_url
from isrender.server.ui.session import CSRF_HEADER
from isrender.server.ui.views import Ui, guarded, see_other

__all__ = ["assets_router", "card"]

Text = Annotated[str, Form()]
THUMB = "wid=160&hei=160&fmt=jpeg&qlt=80"  # one size for every grid: cached by /is/image


def card(company: Company, asset: Asset) -> dict[str, Any]:
    """What a grid cell shows (also the upload endpoint's answer, to add a cell)."""
    path = asset.folder.path if asset.folder else ""
    thumb = image_url(company.name, asset.name, THUMB) if asset.width else ""
    return {
        "handle": asset_handle(asset.id), "name": asset.name, "type": asset.type,
        "folder": path, "thumb": thumb, "details": "/ui/assets?" + urlencode(
            {"company": company.name, "folder": path, "asset": asset_handle(asset.id)}),
    }  # fmt: skip


def folder_tree(paths: set[str]) -> list[tuple[str, str, int]]:
    """(path, label, depth) for every folder and its parents, in tree order."""
    every = {""}
    for path in paths:
        parts = [p for p in path.split("/") if p]
        every.update("".join(f"{p}/" for p in parts[:n]) for n in range(1, len(parts) + 1))
    return [(p, p.rstrip("/").rpartition("/")[2] or "(root)", p.count("/")) for p in sorted(every)]


def assets_router(ui: Ui) -> APIRouter:
    router = APIRouter(prefix="/ui", include_in_schema=False)
    catalog = ui.catalog

    @router.get("/assets")
    @guarded(ui)
    def assets(request: Request, company: str = "", folder: str = "", asset: str = "") -> Response:
        user, session = ui.sessions.user(request)
        found = pick_company(catalog, user, company or None)
        rows = readable(catalog, user, found, Operation.GET_ASSETS)
        shown = [a for a in rows if not folder or a.folder.path == folder]
        selected = next((a for a in rows if asset_handle(a.id) == asset), None)
        return ui.page(
            "assets.html", session, title="Assets", active="assets", company=found,
            companies=companies_of(catalog, user), folder=folder,
            tree=folder_tree({a.folder.path for a in rows}),
            cards=[card(found, a) for a in shown], selected=selected,
            details=details(found, selected) if selected else None,
            can_upload=may(catalog, user, found, Operation.UPLOAD),
        )  # fmt: skip

    def details(company: Company, asset: Asset) -> dict[str, Any]:
        size = f"{asset.width} x {asset.height}" if asset.width else ""
        return {
            "Handle": asset_handle(asset.id), "Name": asset.name, "Type": asset.type,
            "Sub-type": asset.sub_type or "", "Export class": export_class(
                asset.type, asset.sub_type).name.lower(),
            "Folder": asset.folder.path or "(root)", "File name": asset.file_name or "",
            "File size": f"{asset.file_size:,} bytes" if asset.file_size else "",
            "Pixels": size, "Created": asset.created.isoformat(" ", "seconds"),
            "Last modified": asset.last_modified.isoformat(" ", "seconds"),
            "playground": "/ui/playground?" + urlencode(
                {"asset": f"{company.name}/{asset.name}", "mods": "wid=600"}),
        }  # fmt: skip

    @router.post("/assets/modifiers")
    @guarded(ui)
    def set_modifiers(
        request: Request, company: Text, asset: Text, modifier: Text = "",
        post_modifier: Text = "", csrf: Text = "",
    ) -> Response:  # fmt: skip
        """The asset's catalog Modifier/PostModifier. The JSON API has no operation for it,
        so it takes the upload role list (writing an asset) and Read on the asset."""
        user, session = ui.sessions.user(request)
        ui.sessions.check_csrf(session, csrf)
        found = pick_company(catalog, user, company)
        member(catalog, user, f"c|{found.id}", Operation.UPLOAD)
        if asset not in {asset_handle(a.id) for a in readable(catalog, user, found,
                                                               Operation.UPLOAD)}:  # fmt: skip
            raise IpsFault(30001, f"asset {asset!r} not found")
        row = catalog.set_asset_modifiers(found.id, asset, modifier, post_modifier)
        query = {"company": found.name, "folder": row.folder.path, "asset": asset}
        return see_other("/ui/assets?" + urlencode(query))

    def upload(user: User, company: Company, files: list[UploadFile], folder: str) -> Any:
        with tempfile.TemporaryDirectory(prefix="isrender-ui-upload-") as temporary:
            paths = [save_part(part, Path(temporary)) for part in files]
            return ui.jobs.upload(user, f"c|{company.id}", paths, folder, job_name="upload")

    @router.post("/assets/upload")
    @guarded(ui)
    def upload_form(
        request: Request, company: Text, files: list[UploadFile], folder: Text = "",
        csrf: Text = "",
    ) -> Response:  # fmt: skip
        """The plain form (no script): upload, then show the upload job and its log."""
        user, session = ui.sessions.user(request)
        ui.sessions.check_csrf(session, csrf)
        found = pick_company(catalog, user, company)
        job = upload(user, found, files, folder)
        return see_other(f"/ui/jobs/{_quoted(job_handle(job))}")

    @router.post("/api/upload")
    def upload_one(
        request: Request, company: Text, file: UploadFile, folder: Text = "",
        csrf: Annotated[str | None, Header(alias=CSRF_HEADER)] = None,
    ) -> JSONResponse:  # fmt: skip
        """One file from the drop zone: the upload job's log and the new cells."""
        user, session = ui.sessions.user(request)
        ui.sessions.check_csrf(session, csrf)
        try:
            found = pick_company(catalog, user, company)
            job = upload(user, found, [file], folder)
        except IsRenderError as exc:
            return JSONResponse({"error": error_data(exc)}, exc.http_status)
        log = ui.jobs.details(job.id)
        handles = {e.asset_handle for e in log if e.asset_handle and e.log_type != "UploadError"}
        cells = [card(found, a) for a in catalog.assets(found.id) if asset_handle(a.id) in handles]
        return JSONResponse({
            "job": job_handle(job), "jobUrl": f"/ui/jobs/{_quoted(job_handle(job))}",
            "log": [{"type": e.log_type, "message": e.message, "asset": e.asset_handle or ""}
                    for e in log],
            "assets": cells,
        })  # fmt: skip

    return router


def _quoted(handle: str) -> str:
    from urllib.parse import quote

    return quote(handle, safe="")
