"""The HTTP service (FastAPI): the Image Serving endpoint under ``/is/image`` and the IPS
JSON API under ``/api/ips/v1`` (OpenAPI at ``/api/ips/v1/openapi.json``, docs at ``/docs``).

``create_app(settings)`` builds the app; ``isrender serve`` runs it on uvicorn. Every error
is answered with its status and its public message as text/plain, never a traceback.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.exc import OperationalError
from starlette.types import Receive, Scope, Send

from isrender.catalog import Catalog
from isrender.catalog.images import CatalogImages
from isrender.config import Settings
from isrender.errors import IpsFault, IsRenderError
from isrender.jobs import JobService
from isrender.server.api import api_router
from isrender.server.api.openapi import install_openapi
from isrender.server.api.views import fault_response
from isrender.server.apidocs import apidocs_router
from isrender.server.image import ImageEndpoint, ImageFastPath
from isrender.server.ops import MeasuredGate, Metrics, RequestMiddleware, install_ops
from isrender.server.replies import error_reply
from isrender.server.result_cache import ResultCache
from isrender.server.soap import soap_router
from isrender.server.tokens import Signer, shared_secret_key
from isrender.server.ui import install_ui
from isrender.server.wsdl import wsdl_router

__all__ = ["IsRenderApp", "create_app"]


class IsRenderApp(FastAPI):
    """FastAPI, entered through ``front``: the request middleware (request ids, metrics,
    access lines: ops.py), then the image fast path (image.py), and only then, for every
    other request, FastAPI's own layers (its error, telemetry and body-limit middleware, the
    router). Those layers cost an image request ~25 µs, a quarter of a result-cache hit's
    Python; outermost, the request middleware also counts and tags the 500s they answer."""

    front: RequestMiddleware | None = None  # set by create_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is None or scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        await self.front(scope, receive, send)

    async def behind_front(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI's own stack: what the fast path does not answer."""
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None, catalog: Catalog | None = None, job_worker: bool = True
) -> IsRenderApp:
    """The app; ``job_worker``: with the local backend, run one job worker in this process
    (a thread) so submitted jobs run without a separate ``isrender jobs worker``."""
    settings = settings or Settings.load()
    catalog = catalog or Catalog(settings)
    metrics = Metrics(catalog)
    gate = MeasuredGate(settings, metrics)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        if job_worker and not settings.broker_url:
            from isrender.jobs.worker import Worker

            worker = threading.Thread(target=Worker(jobs).run, args=(stop,), name="job-worker",
                                      daemon=True)  # fmt: skip
            worker.start()
        yield
        stop.set()
        gate.close()

    app = IsRenderApp(
        title="isrender",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url="/api/ips/v1/openapi.json",
        docs_url=None,  # served from vendored assets (apidocs.py): no CDN
        redoc_url=None,
    )
    install_ops(app, settings, catalog, metrics)
    app.include_router(apidocs_router())
    app.include_router(wsdl_router())
    install_openapi(app)
    images = CatalogImages(catalog)  # per-company attributes; lookups cached per process
    lookups = {result: metrics.result_cache.labels(result) for result in ("hit", "miss")}
    results = ResultCache.from_settings(settings, on_lookup=lambda result: lookups[result].inc())
    endpoint = ImageEndpoint(settings, images, gate, results)
    app.include_router(endpoint.router())  # the routes stay: OpenAPI, and the same answers
    app.front = RequestMiddleware(ImageFastPath(app.behind_front, endpoint), metrics)
    jobs = JobService(catalog)
    # one key for every process sharing the data directory: tokens, links and UI sessions
    secret_key = settings.secret_key or shared_secret_key(settings.data_dir)
    api, operations = api_router(jobs, Signer(secret_key))
    app.include_router(api)
    app.include_router(soap_router(catalog, operations, settings.soap_strict_namespaces))
    install_ui(app, catalog, images, jobs, operations, secret_key)
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
    @app.exception_handler(OperationalError)
    @app.exception_handler(Exception)
    async def error(_request: Request, exc: Exception) -> PlainTextResponse:
        return error_reply(exc)

    return app
