"""server/image.py ImageFastPath: ``/is/image`` answered without the router, exactly as the
routes answer it (status, headers, body), errors included."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from sqlalchemy.exc import OperationalError
from starlette.types import Receive, Scope, Send

from isrender.catalog import Catalog
from isrender.config import Settings
from isrender.server import IsRenderApp, create_app
from isrender.server.image import ImageEndpoint, ImageFastPath
from tests.render_fixtures import gradient

ROWS = [
    ("GET", "/is/image/Acme/grad?wid=40"),
    ("GET", "/is/image/Acme/grad?wid=40&fmt=png&wdi=3"),  # X-IsRender-Ignored
    ("HEAD", "/is/image/Acme/grad?wid=40"),
    ("GET", "/is/image/Acme/folder/grad?wid=40"),  # not there: 404 via the default image rule
    ("GET", "/is/image/Acme?layer=0&size=20,10&color=ff0000"),  # no object (E-181)
    ("GET", "/is/image/Acme/?layer=0&size=20,10&color=ff0000"),
    ("GET", "/is/image/Acme/grad?req=props"),
    ("GET", "/is/image/Acme/grad?req=exists"),
    ("GET", "/is/image/Acme/grad?wid=abc"),  # 400, pointing at the value
    ("GET", "/is/image/Nobody/grad"),  # 404
    ("GET", "/is/image/Acme/../x"),
    ("GET", "/is/image/Acme/grad%2Fx"),
    ("GET", "/is/image/"),  # no company: the router's 404
    ("POST", "/is/image/Acme/grad"),  # not GET or HEAD: the router's 405
]
VARYING = ("x-request-id", "date")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("fast")
    settings = Settings(data_dir=root / "data", result_cache_mb=0)
    catalog = Catalog(settings)
    gradient(300, 200).write_to_file(str(root / "grad.jpg"))
    catalog.upload(catalog.add_company("Acme").id, [root / "grad.jpg"])
    catalog.close()
    return settings


def fast_path_of(app: IsRenderApp) -> ImageFastPath:
    assert app.front is not None and isinstance(app.front.app, ImageFastPath)
    return app.front.app


def without_fast_path(app: IsRenderApp) -> IsRenderApp:
    """The request middleware straight in front of FastAPI's stack: the routes answer."""
    assert app.front is not None
    app.front.app = fast_path_of(app).app
    return app


def endpoint_of(app: IsRenderApp) -> ImageEndpoint:
    return fast_path_of(app).endpoint


def ask(app: FastAPI, method: str, url: str, root_path: str = "") -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, root_path=root_path)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, url)

    return asyncio.run(go())


# req=props replies carry the time they were made, to the second: two apps asked one after
# the other can straddle a second
PROPS_TIME = re.compile(rb"^#\w{3} \w{3} \d\d \d\d:\d\d:\d\d GMT \d{4}$", re.MULTILINE)


def comparable(reply: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in reply.headers.items() if k not in VARYING}
    return reply.status_code, headers, PROPS_TIME.sub(b"#(time)", reply.content)


@pytest.mark.parametrize(("method", "url"), ROWS, ids=[f"{m} {u}" for m, u in ROWS])
def test_the_fast_path_answers_as_the_routes_do(settings: Settings, method: str, url: str):
    fast = ask(create_app(settings, job_worker=False), method, url)
    routed = ask(without_fast_path(create_app(settings, job_worker=False)), method, url)
    assert comparable(fast) == comparable(routed)
    assert fast.status_code != 500, fast.text


@pytest.mark.parametrize("url", ["/images/is/image/Acme/grad?wid=30", "/images/is/image/Nobody/x"])
def test_under_a_root_path_too(settings: Settings, url: str):
    """Mounted under a proxy's prefix (uvicorn --root-path), as the router matches."""
    fast = ask(create_app(settings, job_worker=False), "GET", url, root_path="/images")
    app = without_fast_path(create_app(settings, job_worker=False))
    assert comparable(fast) == comparable(ask(app, "GET", url, root_path="/images"))
    assert fast.status_code in (200, 404)


def test_it_is_the_fast_path_that_answers(settings: Settings):
    """With a router that answers everything 418, images are still served."""

    async def teapot(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("router", 418)(scope, receive, send)

    app = create_app(settings, job_worker=False)
    app.router = teapot  # type: ignore[assignment]  # read when the stack is first built
    reply = ask(app, "GET", "/is/image/Acme/grad")
    assert reply.status_code == 200 and reply.headers["content-type"] == "image/jpeg"
    mounted = ask(app, "GET", "/images/is/image/Acme/grad", root_path="/images")
    assert mounted.status_code == 200
    assert ask(app, "GET", "/healthz").status_code == 418
    assert ask(app, "POST", "/is/image/Acme/grad").status_code == 418


def test_request_ids_and_route_metrics_still_apply(settings: Settings):
    app = create_app(settings, job_worker=False)

    async def go() -> tuple[httpx.Response, str]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            image = await client.get("/is/image/Acme/grad?wid=30", headers={"X-Request-ID": "r-1"})
            metrics = await client.get("/metrics")
            return image, metrics.text

    image, metrics = asyncio.run(go())
    assert image.headers["x-request-id"] == "r-1"
    assert ('isrender_http_requests_total{method="GET",route="/is/image/{company}/{asset:path}"'
            ',status="200"} 1.0') in metrics  # fmt: skip


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (RuntimeError("secret detail"), 500, "internal error\n"),
        (OperationalError("SELECT", {}, Exception("down")), 503, None),
    ],
)
def test_unexpected_errors_get_the_apps_replies(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int,
    body: str | None,
):  # fmt: skip
    app = create_app(settings, job_worker=False)

    def fail(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr(endpoint_of(app).images, "prepare", fail)
    reply = ask(app, "GET", "/is/image/Acme/grad?wid=41")
    assert reply.status_code == status and reply.headers["cache-control"] == "no-store"
    assert "secret" not in reply.text and "Traceback" not in reply.text
    if body is not None:
        assert reply.text == body
    else:
        assert "database" in reply.text and reply.headers["retry-after"] == "1"


def test_a_500_from_another_route_is_tagged_and_counted(settings: Settings):
    """The request middleware is in front of FastAPI's own error layer: the 500 it answers
    carries the request id and is counted under its route."""
    app = create_app(settings, job_worker=False)

    def broken() -> None:
        raise RuntimeError("secret detail")

    app.add_api_route("/broken", broken)

    async def go() -> tuple[httpx.Response, str]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            reply = await client.get("/broken", headers={"X-Request-ID": "r-500"})
            return reply, (await client.get("/metrics")).text

    reply, metrics = asyncio.run(go())
    assert reply.status_code == 500 and reply.headers["x-request-id"] == "r-500"
    assert "secret" not in reply.text
    assert 'isrender_http_requests_total{method="GET",route="/broken",status="500"} 1.0' in metrics


def test_an_invented_method_is_counted_as_other(settings: Settings):
    """Metric series stay a bounded set whatever methods clients send."""
    app = create_app(settings, job_worker=False)

    async def go() -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for method in ("BREW", "WHEN", "PROPFIND"):
                assert (await client.request(method, "/healthz")).status_code == 405
            return (await client.get("/metrics")).text

    metrics = asyncio.run(go())
    assert ('isrender_http_requests_total{method="other",route="/healthz",status="405"} 3.0'
            in metrics)  # fmt: skip
    assert 'method="BREW"' not in metrics
