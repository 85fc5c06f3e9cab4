"""The HTTP service (FastAPI): the Image Serving endpoint under ``/is/image`` and the IPS
JSON API under ``/api/ips/v1`` (OpenAPI at ``/api/ips/v1/openapi.json``, docs at ``/docs``).

``create_app(settings)`` builds the app; ``isrender serve`` runs it on uvicorn. Every error
is answered with its status and its public message as text/plain, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse

from isrender.attributes import CatalogAttributes
from isrender.catalog import Catalog
from isrender.catalog.images import CatalogImages
from isrender.config import Settings
from isrender.errors import IpsFault, IsRenderError
from isrender.jobs import JobService
from isrender.server.api import api_router
from isrender.server.api_views import fault_response
from isrender.server.gate import RenderGate
from isrender.server.image import ImageEndpoint
from isrender.server.soap import soap_router
from isrender.server.tokens import Signer
from isrender.service import ImageService

__all__ = ["create_app"]

log = logging.getLogger("isrender.server")
NO_STORE = {"Cache-Control": "no-store"}  # error responses are never cacheable (§7.1)


def create_app(settings: Settings | None = None, catalog: Catalog | None = None) -> FastAPI:
    settings = settings or Settings.load()
    catalog = catalog or Catalog(settings)
    gate = RenderGate(settings.render_slots, settings.render_timeout)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        gate.close()

    app = FastAPI(
        title="isrender",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url="/api/ips/v1/openapi.json",
        docs_url="/api/ips/v1/docs",
        redoc_url=None,
    )
    images = CatalogImages(catalog, ImageService(CatalogAttributes()), settings.default_image)
    endpoint = ImageEndpoint(settings, images, gate)
    app.include_router(endpoint.router())
    jobs = JobService(catalog)
    api, operations = api_router(jobs, Signer(settings.url_signing_key))
    app.include_router(api)
    app.include_router(soap_router(catalog, operations, settings.soap_strict_namespaces))
    app.state.gate = gate

    @app.exception_handler(IpsFault)
    async def ips_fault(_request: Request, exc: IpsFault) -> JSONResponse:
        return fault_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_parameter(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = "/".join(
            str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")
        )
        return fault_response(IpsFault(30001, f"{where}: {first.get('msg', 'invalid')}"))

    @app.exception_handler(IsRenderError)
    async def known_error(_request: Request, exc: IsRenderError) -> PlainTextResponse:
        headers = dict(NO_STORE)
        if exc.http_status == 503:
            headers["Retry-After"] = "1"
        return PlainTextResponse(exc.public_message + "\n", exc.http_status, headers)

    @app.exception_handler(Exception)
    async def internal_error(_request: Request, exc: Exception) -> PlainTextResponse:
        log.exception("internal error", exc_info=exc)
        return PlainTextResponse("internal error\n", 500, NO_STORE)

    return app
