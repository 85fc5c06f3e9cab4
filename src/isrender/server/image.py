"""``GET|HEAD /is/image/{company}/{asset}?{modifiers}``: the Image Serving endpoint (§1.1, §7).

``/is/image/{company}?{modifiers}`` (or ``/is/image/{company}/?...``) names no object: layer 0
is then a solid colour or its own ``src=``, whose objects are the company's assets (E-181).

Lenient binding (unknown commands are ignored and listed in ``X-IsRender-Ignored``), the
company's presets and the server's macro files, the asset's Modifier and PostModifier. The
ETag is made from the canonical effective request and the original's content hash, so a
conditional GET is answered before any pixel is decoded. Admission, slots and cancellation:
gate.py; each request makes one thread hop (prepare and render in the same pool thread).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from isrender.catalog.images import CatalogImages
from isrender.config import Settings
from isrender.errors import QueryTooLongError
from isrender.render.attributes import ServingAttributes
from isrender.server.gate import Admission, RenderGate
from isrender.server.replies import error_reply
from isrender.server.result_cache import ResultCache
from isrender.server.urls import deobfuscate, strip_lock, strip_signature
from isrender.service import ImageService, PreparedRequest

__all__ = ["ImageEndpoint", "ImageFastPath"]

IGNORED_HEADER = "X-IsRender-Ignored"
CACHE_HEADER = "X-IsRender-Cache"  # hit | miss: whether the result cache answered
QUICK_READ_BYTES = 1 << 20  # larger cached replies are read in a pool thread, not the loop
# the router's two patterns, {company} and {company}/{asset:path}, as one (a trailing / alone
# names no object either)
IMAGE_PATH = re.compile(r"/is/image/(?P<company>[^/]+)(?:/(?P<asset>.*))?")


@dataclass
class ImageEndpoint:
    settings: Settings
    images: CatalogImages
    gate: RenderGate
    cache: ResultCache | None = None  # result_cache.py; None: result_cache_mb = 0

    def router(self) -> APIRouter:
        router = APIRouter()
        for method in ("GET", "HEAD"):  # one route each: one OpenAPI operation id each
            router.add_api_route(
                "/is/image/{company}/{asset:path}",
                self.image,
                methods=[method],
                summary="Render a catalog asset with an Image Serving modifier string",
                response_class=Response,
                operation_id=f"image_{method.lower()}",
            )
            # §1.1: the object is [rootId/]objId; the company alone names no object, and
            # layer 0 is then a solid colour (color= with size=) or its own src= (E-181)
            router.add_api_route(
                "/is/image/{company}",
                self.image_without_object,
                methods=[method],
                summary="Render a request that names no object (layer 0: color= and size=, "
                "or its own src=)",
                response_class=Response,
                operation_id=f"image_without_object_{method.lower()}",
            )
        return router

    async def image_without_object(self, company: str, request: Request) -> Response:
        return await self.image(company, "", request)

    async def image(self, company: str, asset: str, request: Request) -> Response:
        # ``asset`` arrives %-decoded once by the router (§1.1); decoding again would let
        # ``%2525`` reach the catalog as ``%``.
        query = self._checked_query(request)
        if_none_match = request.headers.get("if-none-match")
        quick = self._answer_from_memory(company, asset, query, if_none_match)
        if quick is not None:  # a 304 or a result-cache hit: no ticket, no thread hop
            return quick
        # Admission before any parsing or catalog read (gate.py): a render request takes a
        # ticket or is refused now; a conditional or req= request is probably cheap.
        ticket = self.gate.admit(cheap=bool(if_none_match) or "req=" in query.lower())
        return await self.gate.run(
            lambda admission: self._answer(company, asset, query, if_none_match, admission), ticket
        )

    def _answer(
        self, company: str, asset: str, query: str, if_none_match: str | None,
        admission: Admission,
    ) -> Response:  # fmt: skip
        """The whole answer, in the request's one pool thread; only renders take a slot."""
        served = self.images.company(company)  # cached; the company's attributes
        query = _unlocked(query, served.attributes)
        prepared = self.images.prepare(company, asset, query)
        headers = self._headers(prepared, served.attributes)
        kind, service = prepared.req.type, served.service
        if kind == "img" and _matches(if_none_match, prepared.etag):
            return Response(status_code=304, headers=headers)
        if kind == "img":
            return self._image(prepared, service, admission, headers)
        if kind == "props":  # props renders the image to measure it
            answer = admission.render(0, lambda _stop: service.reply(prepared))
        else:
            answer = service.reply(prepared)
        return Response(answer.body, media_type=answer.media_type, headers=headers)

    def _answer_from_memory(
        self, company: str, asset: str, query: str, if_none_match: str | None
    ) -> Response | None:
        """On the event loop: when the request is prepared in memory already (catalog/images.py
        peek: no database, no parsing), a 304 or a small result-cache hit is answered at once,
        so repeated URLs never queue behind renders. Anything else returns None."""
        served = self.images.peek_company(company)
        if served is None:
            return None
        prepared = self.images.peek(company, asset, _unlocked(query, served.attributes))
        if prepared is None or prepared.req.type != "img":
            return None
        headers = self._headers(prepared, served.attributes)
        if _matches(if_none_match, prepared.etag):
            return Response(status_code=304, headers=headers)
        if self.cache is None or self.cache.policy(prepared) != "on":
            return None
        hit = self.cache.get(ResultCache.key(prepared.etag), max_size=QUICK_READ_BYTES)
        if hit is None:
            return None
        headers[CACHE_HEADER] = "hit"
        return Response(hit.data, media_type=hit.media_type, headers=headers)

    def _image(
        self, prepared: PreparedRequest, service: ImageService, admission: Admission,
        headers: dict[str, str],
    ) -> Response:  # fmt: skip
        """The image: from the result cache, or rendered in a slot (and then kept)."""
        cache = self.cache
        policy = "off" if cache is None else cache.policy(prepared)
        key = ResultCache.key(prepared.etag)
        if cache is not None and policy == "on":
            hit = cache.get(key)
            if hit is not None:
                headers[CACHE_HEADER] = "hit"
                return Response(hit.data, media_type=hit.media_type, headers=headers)
        job = self.images.plan_render(prepared, service)  # header, limits; kept per ETag
        if job.plan.ignored:  # what lenient rendering leaves out says so, as binding does
            ignored = "; ".join((*prepared.ignored, *job.plan.ignored))
            headers[IGNORED_HEADER] = _header_safe(ignored)
        result = admission.render(job.memory_bytes, job.run)
        if cache is not None and policy != "off":
            cache.put(key, result.data, result.media_type)
            headers[CACHE_HEADER] = "miss"
        return Response(result.data, media_type=result.media_type, headers=headers)

    def _headers(self, prepared: PreparedRequest, attributes: ServingAttributes) -> dict[str, str]:
        headers = {
            "ETag": prepared.etag,
            "Cache-Control": self._cache_control(prepared, attributes),
        }
        if prepared.substitute_for:
            headers["X-IsRender-Default-Image"] = _header_safe(prepared.source.name)
        if prepared.ignored:
            headers[IGNORED_HEADER] = _header_safe("; ".join(prepared.ignored))
        return headers

    def _checked_query(self, request: Request) -> str:
        """The raw modifier string, with a signature checked and removed. Its length is
        checked first, on the raw bytes, before anything parses it."""
        raw: bytes = request.scope.get("query_string", b"")
        if len(raw) > self.settings.max_query_length:
            raise QueryTooLongError(
                f"the query string is {len(raw):,} bytes; at most "
                f"{self.settings.max_query_length:,} (max_query_length)"
            )
        query = raw.decode("latin-1")  # ASCII (the HTTP parser refuses other bytes): no URL built
        if self.settings.url_signing_key:
            query = strip_signature(self.settings.url_signing_key, request.url.path, query)
        return query

    def _cache_control(self, prepared: PreparedRequest, attributes: ServingAttributes) -> str:
        if prepared.req.type != "img":
            return "no-cache"  # properties describe the current record
        cache = prepared.request.globals.value("cache")
        if cache is not None and getattr(cache, "client", "on") == "off":
            return "no-store"
        if prepared.substitute_for:
            return f"public, max-age={self.settings.default_expiration}"
        return f"public, max-age={attributes.max_age}"  # the company's Expiration


def _unlocked(query: str, attributes: ServingAttributes) -> str:
    """The modifier string under the company's RequestObfuscation and RequestLock (§1.11)."""
    if attributes.request_obfuscation:
        query = deobfuscate(query)  # the lock, if any, was computed before obfuscating
    if attributes.request_lock:
        query = strip_lock(query)
    return query


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _header_safe(text: str) -> str:
    """Header values are latin-1 and one line; commands in a modifier string may be neither."""
    return text.encode("ascii", "backslashreplace").decode("ascii").replace("\n", " ")[:2000]


class ImageFastPath:
    """ASGI middleware: ``GET|HEAD /is/image/...`` goes straight to ``ImageEndpoint.image``.

    The same handler as the routes (which stay, for OpenAPI and for anything mounted around
    the app), without FastAPI's middleware, the walk over every API and UI route and its
    per-request dependency solving: measured at ~0.4 ms of the event loop's time a request,
    on a 9 ms render (benchmarks/test_server_peers.py). Errors are answered by
    ``error_reply``, as the app's exception handlers answer them. It sits in front of the
    app, behind the request middleware (server/__init__.py ``IsRenderApp``), which sees
    ``scope["route"]`` as it would with the router (metrics by route).
    """

    def __init__(self, app: ASGIApp, endpoint: ImageEndpoint) -> None:
        self.app, self.endpoint = app, endpoint
        routes = [route for route in endpoint.router().routes if isinstance(route, APIRoute)]
        self.routes = {
            (route.path, method): route for route in routes for method in route.methods or ()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            match = IMAGE_PATH.fullmatch(_route_path(scope))
        if match is None:
            await self.app(scope, receive, send)
            return
        company, asset = match["company"], match["asset"]
        route = "/is/image/{company}" if asset is None else "/is/image/{company}/{asset:path}"
        scope["route"] = self.routes[route, scope["method"]]
        try:
            response = await self.endpoint.image(company, asset or "", Request(scope, receive))
        except Exception as exc:  # every error gets its reply, as from the app
            response = error_reply(exc)
        await response(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path the router matches: without the ``root_path`` a proxy mounts the app under
    (uvicorn ``--root-path``), as Starlette's routing strips it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] == "/":
        return path[len(root) :]
    return path
