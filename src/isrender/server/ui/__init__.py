"""The web UI under ``/ui/``: server-rendered pages (FastAPI + Jinja2) with a little script.

``install_ui(app, ...)`` adds the routes, the static files (served from the package: no
outside host, no Node toolchain) and the handler that sends a request without a session to
``/ui/login`` (or answers 401 JSON under ``/ui/api/``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse

from isrender.catalog import Catalog, Operation
from isrender.catalog.images import CatalogImages
from isrender.errors import IsRenderError, UiLoginRequired
from isrender.jobs import JobService
from isrender.server.ui.access import member
from isrender.server.ui.assets import assets_router
from isrender.server.ui.checking import check, error_data
from isrender.server.ui.jobs import jobs_router
from isrender.server.ui.pages import pages_router
from isrender.server.ui.session import Sessions
from isrender.server.ui.views import SECURITY_HEADERS, Ui, see_other

__all__ = ["install_ui"]

STATIC = Path(__file__).parent / "static"
MEDIA_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}


def install_ui(
    app: FastAPI, catalog: Catalog, images: CatalogImages, jobs: JobService,
    operations: dict[str, Any], signing_key: str,
) -> None:  # fmt: skip
    ui = Ui(catalog, images, jobs, operations, Sessions(catalog, signing_key))
    app.include_router(pages_router(ui))
    app.include_router(assets_router(ui))
    app.include_router(jobs_router(ui))
    app.include_router(api_router(ui))

    @app.exception_handler(UiLoginRequired)
    async def login_required(request: Request, exc: UiLoginRequired) -> Response:
        if request.url.path.startswith("/ui/api/"):
            return JSONResponse({"error": {"message": exc.public_message}}, 401)
        return see_other("/ui/login?" + urlencode({"next": exc.target}))


def api_router(ui: Ui) -> APIRouter:
    router = APIRouter(prefix="/ui", include_in_schema=False)

    @router.get("/api/check")
    def check_modifiers(request: Request, asset: str, mods: str = "") -> JSONResponse:
        """``isrender check`` + ``explain`` of ``mods`` on ``company/asset``, as the
        playground and the preset editor show them."""
        user, _ = ui.sessions.user(request)
        company, _, asset_ref = asset.partition("/")
        try:
            member(ui.catalog, user, company, Operation.GET_ASSETS)
        except IsRenderError as exc:
            return JSONResponse({"error": error_data(exc)}, exc.http_status)
        return JSONResponse(check(ui.images, company, asset_ref, mods))

    @router.get("/static/{name}")
    def static(name: str) -> Response:
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            return Response("not found\n", 404, media_type="text/plain")
        media_type = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
        headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=300"}
        return FileResponse(path, media_type=media_type, headers=headers)

    return router
