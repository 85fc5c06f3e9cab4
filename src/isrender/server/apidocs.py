"""API docs that work offline: Swagger UI at ``/api/ips/v1/docs`` and ReDoc at
``/api/ips/v1/redoc``, from the pinned third-party files in ``vendor/apidocs`` of the checkout
(see its VERSION note; the wheel carries them as ``isrender/server/static/apidocs``). They live
outside ``src/`` so that lint, types and code checks read only this project's code.

The pages load only same-origin assets, and their Content-Security-Policy forbids every other
host, so a vendored bundle cannot reach out either (ReDoc's footer logo, for one, would).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, PlainTextResponse, Response

__all__ = ["ASSETS_DIR", "CONTENT_SECURITY_POLICY", "apidocs_router"]


def _assets_dir() -> Path:
    """The vendored files: beside the sources in a checkout, or inside the installed package."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "vendor" / "apidocs", here.parent / "static" / "apidocs"):
        if (candidate / "VERSION").is_file():
            return candidate
    raise FileNotFoundError("the vendored API docs (vendor/apidocs) are missing")


ASSETS_DIR = _assets_dir()
BASE = "/api/ips/v1"
# Same origin only. The bundles need inline styles (React), eval (JSON-schema compilers) and
# blob: workers (ReDoc's search); none of these reaches another host.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; frame-ancestors 'self'; base-uri 'self'; form-action 'self'"
)
_PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}
_ASSET_CACHE = "public, max-age=86400"


def _assets() -> dict[str, Path]:
    """Every servable file by its relative name: only these, so no path can escape."""
    return {p.relative_to(ASSETS_DIR).as_posix(): p for p in ASSETS_DIR.rglob("*") if p.is_file()}


def apidocs_router() -> APIRouter:
    """The two pages and their assets."""
    router = APIRouter(prefix=BASE, include_in_schema=False)
    assets = _assets()

    def page(name: str) -> Response:
        return FileResponse(assets[name], media_type="text/html", headers=_PAGE_HEADERS)

    @router.get("/docs")
    def swagger_ui() -> Response:
        return page("swagger.html")

    @router.get("/redoc")
    def redoc() -> Response:
        return page("redoc.html")

    @router.get("/docs-assets/{name:path}")
    def asset(name: str) -> Response:
        path = assets.get(name)
        if path is None or path.suffix == ".html":
            return PlainTextResponse(f"no docs asset {name!r}\n", 404)
        media = mimetypes.guess_type(path.name)[0] or "text/plain"
        if media.startswith("text/") or media.endswith("javascript"):
            media += "; charset=utf-8"
        return FileResponse(path, media_type=media, headers={"Cache-Control": _ASSET_CACHE})

    return router
