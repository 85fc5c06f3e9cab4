"""The HTTP service (FastAPI): the Image Serving endpoint under ``/is/image``.

``create_app(settings)`` builds the app; ``isrender serve`` runs it on uvicorn. Every error
is answered with its status and its public message as text/plain, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

from isrender.attributes import CatalogAttributes
from isrender.catalog import Catalog
from isrender.config import Settings
from isrender.errors import IsRenderError
from isrender.server.gate import RenderGate
from isrender.server.image import ImageEndpoint
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

    app = FastAPI(title="isrender", version="0.1.0", lifespan=lifespan)
    endpoint = ImageEndpoint(settings, catalog, ImageService(CatalogAttributes()), gate)
    app.include_router(endpoint.router())
    app.state.gate = gate

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
