"""Operations endpoints: ``/healthz``, ``/readyz``, ``/metrics``, and the request middleware
that gives every request an id, one access line and its Prometheus counts.

Metrics live in a registry owned by the app (not the process-global one), so several apps in
one process (the tests) never collide, and every name starts with ``isrender_``. Counters and
histograms are per process; jobs by state and finished export entries are read from the
database at scrape time, so they are right whichever process (server, worker, Celery) ran the
job. Jobs are never deleted (``deleteJob`` marks them), so those sums only grow: a counter.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isrender import logs
from isrender.catalog import Catalog
from isrender.config import Settings
from isrender.jobs import Job
from isrender.render.vips.renderer import RenderResult
from isrender.server.gate import RenderGate

__all__ = ["MeasuredGate", "Metrics", "RequestMiddleware", "install_ops"]

READY_TIMEOUT = 2.0  # seconds per readiness check: a load balancer probes often
RENDER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SHOWN_STATES = ("New", "Running", "Stopping", "Done", "Scheduled")  # listed even at 0
UNMATCHED = "unmatched"  # 404s: raw paths would make one series per scanner probe
# methods by name in the metrics; any other is "other" (a series per invented method otherwise)
COUNTED_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series (noise)


class Metrics:
    """The app's Prometheus registry and the instruments the server updates."""

    def __init__(self, catalog: Catalog) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "isrender_http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "isrender_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["route"],
            buckets=RENDER_BUCKETS,
            registry=r,
        )
        self.render_seconds = Histogram(
            "isrender_render_duration_seconds",
            "Render time (in a render slot) by output format",
            ["format"],
            buckets=RENDER_BUCKETS,
            registry=r,
        )
        self.refused = Counter(
            "isrender_render_refused",
            "Renders refused: busy (answered 503) or over render_timeout (504)",
            ["reason"],
            registry=r,
        )
        # incremented by the image endpoint once a result cache exists; none exists yet
        self.result_cache = Counter(
            "isrender_result_cache_requests",
            "Result-cache lookups by result (hit or miss)",
            ["result"],
            registry=r,
        )
        self.slots_in_use = Gauge(
            "isrender_render_slots_in_use", "Render slots busy now", registry=r
        )
        self.slots = Gauge("isrender_render_slots", "Render slots (render_slots)", registry=r)
        self.waiting = Gauge(
            "isrender_render_waiting", "Render requests admitted, not yet rendering", registry=r
        )
        r.register(JobsCollector(catalog))
        ProcessCollector(namespace="isrender", registry=r)

    def watch(self, gate: RenderGate) -> None:
        self.slots.set(gate.slots)
        self.slots_in_use.set_function(lambda: gate.busy)
        self.waiting.set_function(lambda: gate.waiting)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class MeasuredGate(RenderGate):
    """The render gate, timing each image render by format and counting refusals."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        super().__init__(
            settings.render_slots,
            settings.render_timeout,
            settings.render_queue,
            settings.render_queue_timeout,
            settings.render_memory_mb,
        )
        self.metrics = metrics
        metrics.watch(self)

    def on_refused(self, reason: str) -> None:
        self.metrics.refused.labels(reason).inc()

    def on_rendered(self, result: object, seconds: float) -> None:
        if isinstance(result, RenderResult):  # props replies use slots too: not renders
            self.metrics.render_seconds.labels(result.format).observe(seconds)


@dataclass(eq=False)  # a registry keys its collectors by identity
class JobsCollector(Collector):
    """Jobs by state and finished export entries by outcome, from the database at scrape time
    (two indexed aggregate queries)."""

    catalog: Catalog

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("isrender_jobs_query_up", "1 when the jobs table could be read")
        try:
            states, entries = self._query()
        except SQLAlchemyError as exc:
            logs.access_log.warning("metrics: jobs query failed: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        jobs = GaugeMetricFamily("isrender_jobs", "Jobs by state", labels=["state"])
        for state, count in sorted({**dict.fromkeys(SHOWN_STATES, 0), **states}.items()):
            jobs.add_metric([state], count)
        yield jobs
        finished = CounterMetricFamily(
            "isrender_export_entries",
            "Finished export entries by outcome, every process (rate() gives entries/s)",
            labels=["outcome"],
        )
        for outcome, count in entries.items():
            finished.add_metric([outcome], count)
        yield finished

    def _query(self) -> tuple[dict[str, int], dict[str, int]]:
        total = func.coalesce
        with self.catalog.session() as s:
            states = {
                state: int(n)
                for state, n in s.execute(select(Job.state, func.count()).group_by(Job.state)).all()
            }
            row = s.execute(
                select(
                    total(func.sum(Job.success), 0),
                    total(func.sum(Job.warnings), 0),
                    total(func.sum(Job.errors), 0),
                    total(func.sum(Job.duplicates), 0),
                    total(func.sum(Job.cancelled), 0),
                ).where(Job.type == "Export")
            ).one()
        success, warnings, errors, duplicates, cancelled = (int(v) for v in row)
        # an entry exported with warnings counts in success and warnings: count it once
        return states, {
            "success": success - warnings,
            "warning": warnings,
            "error": errors,
            "duplicate": duplicates,
            "cancelled": cancelled,
        }


# ---- readiness ---------------------------------------------------------------------------


def _check_database(catalog: Catalog) -> None:
    with catalog.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _check_data_dir(settings: Settings) -> None:
    folder = settings.data_dir
    if not folder.is_dir():
        raise OSError(f"{folder} is not a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OSError(f"{folder} is not writable")


def _check_broker(url: str) -> None:
    import redis  # only when a broker is configured

    client = redis.Redis.from_url(
        url, socket_connect_timeout=READY_TIMEOUT, socket_timeout=READY_TIMEOUT
    )
    try:
        client.ping()
    finally:
        client.close()


async def _probe(check: Callable[[], None]) -> str:
    """``ok``, or why the check failed (its exception type and message; no traceback)."""
    try:
        await asyncio.wait_for(asyncio.to_thread(check), READY_TIMEOUT)
    except TimeoutError:
        return f"no answer within {READY_TIMEOUT:g} s"
    except Exception as exc:  # any failure means "not ready": report it, never raise
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
    return "ok"


def ops_router(settings: Settings, catalog: Catalog, metrics: Metrics) -> APIRouter:
    router = APIRouter(tags=["Operations"])

    @router.get("/healthz", summary="The process is alive", response_class=PlainTextResponse)
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok\n", headers={"Cache-Control": "no-store"})

    @router.get("/readyz", summary="Database, data directory and broker reachable")
    async def readyz() -> JSONResponse:
        checks: dict[str, Callable[[], None]] = {
            "database": lambda: _check_database(catalog),
            "data_dir": lambda: _check_data_dir(settings),
        }
        if settings.broker_url:
            checks["broker"] = lambda: _check_broker(settings.broker_url)
        results = await asyncio.gather(*(_probe(check) for check in checks.values()))
        parts = dict(zip(checks, results, strict=True))
        failing = [name for name, result in parts.items() if result != "ok"]
        body: dict[str, Any] = {"status": "fail" if failing else "ok", "checks": parts}
        if failing:
            body["failing"] = failing
        return JSONResponse(body, 503 if failing else 200, {"Cache-Control": "no-store"})

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    def metrics_endpoint() -> Response:  # sync: the jobs query runs in the thread pool
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return router


# ---- request middleware ------------------------------------------------------------------


class RequestMiddleware:
    """Request id (``X-Request-ID`` in and out), one access line, request metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        # each (route, method, status)'s two series, looked up once: prometheus' labels()
        # costs more than the counting (routes, methods and statuses are bounded sets)
        self.series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        sane_id = logs.sane_request_id(incoming)
        token = logs.request_id.set(sane_id)
        started, state = time.perf_counter(), {"status": 500, "bytes": 0}

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", sane_id.encode())]
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:  # an error no layer answered reaches uvicorn, which answers 500: count it so
            self._record(scope, state["status"], state["bytes"], time.perf_counter() - started)
            logs.request_id.reset(token)

    def _record(self, scope: Scope, status: int, size: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", None) or UNMATCHED
        method = scope["method"]
        counted = method if method in COUNTED_METHODS else "other"
        series = self.series.get((route, counted, status))
        if series is None:
            series = self.series[route, counted, status] = (
                self.metrics.requests.labels(route, counted, str(status)),
                self.metrics.request_seconds.labels(route),
            )
        series[0].inc()
        series[1].observe(seconds)
        logs.access(method, route, scope["path"], status, size, seconds)


def install_ops(app: FastAPI, settings: Settings, catalog: Catalog, metrics: Metrics) -> None:
    """Add the operations routes to ``app`` (the request middleware is in front of the app:
    server/__init__.py)."""
    app.include_router(ops_router(settings, catalog, metrics))
    app.state.metrics = metrics
