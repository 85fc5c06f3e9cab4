"""ImageService: one source + a modifier string (+ catalog Modifier/PostModifier) -> an answer.

The HTTP endpoint, and anything else that serves catalog assets, goes through here so a
modifier string means the same thing everywhere (DESIGN.md). Preparing a request (parse,
expand, bind, ETag) needs no pixels; rendering is a separate step, so a conditional GET can
answer 304 without decoding anything.

This module does not know the catalog: the caller looks the asset up and passes what the
record says (its file, Modifier, PostModifier, version, macro scope).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from isrender.commands.values import RequestType
from isrender.errors import UnservedRequestType
from isrender.language import Command, ModifierString, parse, serialize
from isrender.macros import MacroRegistry, expand
from isrender.render.attributes import CatalogAttributes
from isrender.render.formats import output_format
from isrender.request import ImageRequest, bind

if TYPE_CHECKING:
    from isrender.render.vips.renderer import RenderJob, RenderResult

__all__ = [
    "ANSWERED",
    "ImageService",
    "PreparedRequest",
    "Reply",
    "SourceRecord",
    "UnservedRequestType",
]

# req= types this service answers; the rest raise UnsupportedFeatureError naming them.
ANSWERED = ("img", "props", "exists", "imageprops", "resolve", "validate")


@dataclass(frozen=True)
class SourceRecord:
    """What the catalog knows about the object a request names."""

    name: str
    path: Path | None  # None: the record has no stored original (or it went missing)
    version: str  # changes whenever the original does (the content hash)
    scope: str | None = None  # macro scope (``c|<company id>``)
    modifier: str = ""
    post_modifier: str = ""


@dataclass(frozen=True)
class PreparedRequest:
    source: SourceRecord
    flat: ModifierString  # Modifier + request + PostModifier, macros expanded
    request: ImageRequest
    canonical: str  # serialize(flat): what req=resolve answers
    substitute_for: str = ""  # the missing object a default image stands in for (§7.3)

    @property
    def req(self) -> RequestType:
        value = self.request.globals.value("req")
        return value if isinstance(value, RequestType) else RequestType("img")

    @property
    def etag(self) -> str:
        """From the bound effective request (comments, empty segments, spelling and overridden
        commands do not change it) and the original's version."""
        request = self.request
        has_effects = request.comp_effects or any(layer.effects for layer in request.layers)
        basis = self.canonical if has_effects else request.effective()
        digest = hashlib.sha256(f"{self.source.version}\n{basis}".encode()).hexdigest()
        return f'"{digest[:32]}"'

    @property
    def ignored(self) -> tuple[str, ...]:
        """What lenient binding ignored, one short line each (for a response header)."""
        return tuple(f"{w.command}@{w.position}: {w.kind}" for w in self.request.warnings)


@dataclass(frozen=True)
class Reply:
    """A non-image answer (req=props, exists, ...): the body and its media type."""

    body: str
    media_type: str


class ImageService:
    def __init__(
        self, attributes: CatalogAttributes | None = None, macros: MacroRegistry | None = None
    ) -> None:
        self.attributes = attributes or CatalogAttributes()
        self.macros = macros

    def prepare(
        self,
        source: SourceRecord,
        modifiers: str,
        *,
        strict: bool = False,
        macros: MacroRegistry | None = None,
    ) -> PreparedRequest:
        """Parse, expand and bind; raises ModifierError subclasses. No pixels are read."""
        flat = expand(
            parse(modifiers),
            macros or self.macros,
            catalog=source.scope,
            modifier=source.modifier or None,
            post_modifier=source.post_modifier or None,
        )
        request = bind(flat, strict=strict, object=source.name)
        prepared = PreparedRequest(source, flat, request, serialize(flat))
        if prepared.req.type not in ANSWERED:
            raise UnservedRequestType(
                f"req={prepared.req.type} is not served; this server answers "
                f"req={'|'.join(ANSWERED)}"
            )
        return prepared

    def render(self, prepared: PreparedRequest) -> RenderResult:
        """The image; raises SourceNotFoundError when the record has no original."""
        return self.render_bound(self._path(prepared), prepared.request)

    def plan_render(self, prepared: PreparedRequest) -> RenderJob:
        """The render planned (header read, limits checked), not run: the server admits it
        by its memory estimate, then runs it with a deadline."""
        from isrender.render.vips.renderer import plan_render

        return plan_render(self._path(prepared), prepared.request, self.attributes)

    def render_bound(self, path: Path, request: ImageRequest) -> RenderResult:
        """Render a request the caller composed and bound itself (ExportJob: §2.8.5's
        macro-fmt rule and strict binding) with this service's catalog attributes."""
        from isrender.render.vips.renderer import render_request

        return render_request(path, request, self.attributes)

    def reply(self, prepared: PreparedRequest) -> Reply:
        """Answer a non-image ``req=`` (everything in ANSWERED but img)."""
        kind = prepared.req.type
        if kind == "resolve":
            return Reply(prepared.canonical, "text/plain")
        if kind == "validate":
            return format_properties({"request.isValid": "1"}, prepared)
        if kind == "exists":
            exists = prepared.source.path is not None and prepared.source.path.is_file()
            return format_properties({"catalogRecord.exists": str(int(exists))}, prepared)
        if kind == "imageprops":
            return format_properties(self._image_props(prepared), prepared)
        return format_properties(self._props(prepared), prepared)

    def _path(self, prepared: PreparedRequest) -> Path:
        from isrender.errors import SourceNotFoundError

        path = prepared.source.path
        if path is None or not path.is_file():
            raise SourceNotFoundError(f"{prepared.source.name!r} has no stored image")
        return path

    def _props(self, prepared: PreparedRequest) -> dict[str, str]:
        """req=props: the reply's properties, evaluated as for req=img (the image is made)."""
        as_image = ModifierString(
            tuple(n for n in prepared.flat.nodes if not (isinstance(n, Command) and n.key == "req"))
        )
        request = bind(as_image, strict=False, object=prepared.source.name)
        result = self.render(replace(prepared, request=request))
        output = output_format(prepared.request)
        return {
            "image.width": str(result.width),
            "image.height": str(result.height),
            "image.type": result.media_type,
            "image.pixTyp": output.pixel_type or "RGB",
            "image.mask": str(int("alpha" in output.format)),
            "image.length": str(len(result.data)),
            "image.version": prepared.source.version,
        }

    def _image_props(self, prepared: PreparedRequest) -> dict[str, str]:
        """req=imageprops: the source's properties, from its header alone."""
        from isrender.render.vips.renderer import read_source_info

        info = read_source_info(self._path(prepared))
        return {
            "image.width": str(info.width),
            "image.height": str(info.height),
            "image.modifier": prepared.source.modifier,
            "image.postModifier": prepared.source.post_modifier,
            "image.pixTyp": _pixel_type(info.interpretation, info.bands),
            "image.mask": str(int(info.has_alpha)),
            "image.embeddedIccProfile": str(int(info.has_icc)),
            "image.version": prepared.source.version,
        }


def _pixel_type(interpretation: str, bands: int) -> str:
    if interpretation == "cmyk":
        return "CMYK"
    return "BW" if bands - (bands in (2, 4)) == 1 else "RGB"


def format_properties(properties: Mapping[str, str], prepared: PreparedRequest) -> Reply:
    """Properties in the format ``req=type,format`` asks for (§6.8): text (default), xml,
    javascript or json (JSONP: ``s7jsonResponse({...},"id")`` or ``handler({...},"id")``)."""
    fmt = prepared.req.format or "text"
    if fmt == "json":
        import json

        callback = _text(prepared, "handler") or "s7jsonResponse"
        body = f"{callback}({json.dumps(dict(properties))},{json.dumps(_text(prepared, 'id'))});"
        return Reply(body, "text/javascript")
    if fmt == "xml":
        from xml.sax.saxutils import quoteattr

        items = "".join(
            f"<property name={quoteattr(k)} value={quoteattr(v)}/>" for k, v in properties.items()
        )
        return Reply(f'<?xml version="1.0" encoding="UTF-8"?><properties>{items}</properties>',
                     "text/xml")  # fmt: skip
    stamp = time.strftime("%a %b %d %H:%M:%S %Z %Y", time.gmtime())
    lines = ["#S7Z OK", f"#{stamp}", *(f"{k}={v}" for k, v in properties.items())]
    media = "text/javascript" if fmt == "javascript" else "text/plain"
    return Reply("\n".join(lines) + "\n", media)


def _text(prepared: PreparedRequest, name: str) -> str:
    value = prepared.request.globals.value(name)
    return value if isinstance(value, str) else ""
