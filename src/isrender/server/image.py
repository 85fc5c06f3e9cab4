"""``GET|HEAD /is/image/{company}/{asset}?{modifiers}``: the Image Serving endpoint (§1.1, §7).

Lenient binding (unknown commands are ignored and listed in ``X-IsRender-Ignored``), the
company's presets and the server's macro files, the asset's Modifier and PostModifier. The
ETag is made from the canonical effective request and the original's content hash, so a
conditional GET is answered before any pixel is decoded.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from isrender.catalog.images import CatalogImages
from isrender.config import Settings
from isrender.errors import QueryTooLongError
from isrender.server.gate import RenderGate
from isrender.server.urls import deobfuscate, strip_lock, strip_signature
from isrender.service import PreparedRequest

__all__ = ["ImageEndpoint"]

IGNORED_HEADER = "X-IsRender-Ignored"


@dataclass
class ImageEndpoint:
    settings: Settings
    images: CatalogImages
    gate: RenderGate

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
        return router

    async def image(self, company: str, asset: str, request: Request) -> Response:
        # ``asset`` arrives %-decoded once by the router (§1.1); decoding again would let
        # ``%2525`` reach the catalog as ``%``.
        query = self._checked_query(request)
        prepared = await run_in_threadpool(self.images.prepare, company, asset, query)
        etag = prepared.etag
        headers = {"ETag": etag, "Cache-Control": self._cache_control(prepared)}
        if prepared.substitute_for:
            headers["X-IsRender-Default-Image"] = _header_safe(prepared.source.name)
        if prepared.ignored:
            headers[IGNORED_HEADER] = _header_safe("; ".join(prepared.ignored))
        kind = prepared.req.type
        if kind != "img":
            # only props and imageprops read pixels or headers: the rest need no render slot
            reply = self.images.service.reply
            answer = (
                await self.gate.run(lambda: reply(prepared))
                if kind in ("props", "imageprops")
                else await run_in_threadpool(reply, prepared)
            )
            return Response(answer.body, media_type=answer.media_type, headers=headers)
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        result = await self.gate.run(lambda: self.images.service.render(prepared))
        return Response(result.data, media_type=result.media_type, headers=headers)

    def _checked_query(self, request: Request) -> str:
        """The raw modifier string, with a signature and a lock checked and removed. Its
        length is checked first, on the raw bytes, before anything parses it."""
        raw: bytes = request.scope.get("query_string", b"")
        if len(raw) > self.settings.max_query_length:
            raise QueryTooLongError(
                f"the query string is {len(raw):,} bytes; at most "
                f"{self.settings.max_query_length:,} (max_query_length)"
            )
        query = request.url.query
        if self.settings.url_signing_key:
            query = strip_signature(self.settings.url_signing_key, request.url.path, query)
        if self.settings.request_obfuscation:
            query = deobfuscate(query)  # the lock, if any, was computed before obfuscating
        if self.settings.request_lock:
            query = strip_lock(query)
        return query

    def _cache_control(self, prepared: PreparedRequest) -> str:
        if prepared.req.type != "img":
            return "no-cache"  # properties describe the current record
        cache = prepared.request.globals.value("cache")
        if cache is not None and getattr(cache, "client", "on") == "off":
            return "no-store"
        if prepared.substitute_for:
            return f"public, max-age={self.settings.default_expiration}"
        return f"public, max-age={self.settings.expiration}"


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _header_safe(text: str) -> str:
    """Header values are latin-1 and one line; commands in a modifier string may be neither."""
    return text.encode("ascii", "backslashreplace").decode("ascii").replace("\n", " ")[:2000]
