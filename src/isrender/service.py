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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from isrender.commands.values import RequestType
from isrender.errors import UnservedRequestType, UnsupportedFeatureError
from isrender.language import Command, ModifierString, parse, serialize
from isrender.macros import MacroRegistry
from isrender.macros.templates import TemplateLookup, expand_request
from isrender.render.attributes import CatalogAttributes
from isrender.render.formats import output_format
from isrender.request import ImageRequest, bind

if TYPE_CHECKING:
    from isrender.render.stop import StopSignal
    from isrender.render.vips.renderer import RenderJob, RenderResult

__all__ = [
    "ANSWERED",
    "ImageService",
    "PreparedRequest",
    "Reply",
    "SourceRecord",
    "UnservedRequestType",
    "render",
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
    content: bytes | None = None  # the original's bytes, when the caller holds them


@dataclass(frozen=True)
class PreparedRequest:
    source: SourceRecord
    ast: ModifierString  # the request as parsed
    flat: ModifierString  # Modifier + request + PostModifier, macros expanded
    request: ImageRequest
    canonical: str  # serialize(flat): what req=resolve answers
    substitute_for: str = ""  # the missing object a default image stands in for (§7.3)
    strict: bool = False  # strict binding; lenient rendering ignores what it cannot render
    templated: bool = False  # template= was expanded: the path object is not layer 0 (§3.5)

    def on(self, path: Path) -> PreparedRequest:
        """The same request on another original (an ExportJob prepares once per asset kind)."""
        return replace(self, source=replace(self.source, path=path))

    @property
    def req(self) -> RequestType:
        value = self.request.globals.value("req")
        return value if isinstance(value, RequestType) else RequestType("img")

    @cached_property  # a served request asks for it 3 or 4 times; the instance is frozen
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
        self,
        attributes: CatalogAttributes | None = None,
        macros: MacroRegistry | None = None,
        *,
        resolve: Callable[[str], Path | None] | None = None,
    ) -> None:
        """``resolve`` finds the file of a layer's ``src=`` object (the catalog looks the
        asset up in the company); without it, next to the source file or in the cwd."""
        self.attributes = attributes or CatalogAttributes()
        self.macros = macros
        self.resolve = resolve

    def prepare(
        self,
        source: SourceRecord,
        modifiers: str | ModifierString,
        *,
        strict: bool = False,
        macros: MacroRegistry | None = None,
        templates: TemplateLookup | None = None,
        final: str = "",
        answers: tuple[str, ...] | None = ANSWERED,
    ) -> PreparedRequest:
        """Parse, expand and bind: the one place this chain is written (the server, the CLI's
        check, explain and convert, exports and the UI all come here). No pixels are read.

        The record's Modifier goes before the request, its PostModifier and then ``final``
        after (``final`` wins over everything: an ExportJob's macro ``fmt``, §2.8.5).
        ``templates`` finds the catalog's ``template=`` records (macros/templates.py).
        ``answers``: the ``req=`` types the caller answers (None: any; exports and ``check``
        judge ``req=`` themselves). Raises ModifierError subclasses.
        """
        lenient = not strict
        ast = (
            modifiers
            if isinstance(modifiers, ModifierString)
            else parse(modifiers, lenient=lenient)
        )
        post = "&".join(text for text in (source.post_modifier, final) if text)
        flat = expand_request(
            ast,
            macros or self.macros,
            templates=templates,
            catalog=source.scope,
            modifier=source.modifier or None,
            post_modifier=post or None,
        )
        request = bind(flat, strict=strict, object=source.name or None)
        templated = templates is not None and "template" in request.globals
        prepared = PreparedRequest(source, ast, flat, request, serialize(flat), strict=strict,
                                   templated=templated)  # fmt: skip
        if answers is not None and prepared.req.type not in answers:
            raise UnservedRequestType(
                f"req={prepared.req.type} is not served; this server answers "
                f"req={'|'.join(answers)}"
            )
        return prepared

    def render(self, prepared: PreparedRequest, stop: StopSignal | None = None) -> RenderResult:
        """The image; raises SourceNotFoundError when the record has no original."""
        return self.plan_render(prepared).run(stop)

    def plan_render(self, prepared: PreparedRequest) -> RenderJob:
        """The render planned (header read, limits checked), not run: the server admits it
        by its memory estimate, then runs it with a deadline. A lenient request ignores what
        cannot be rendered yet (``RenderPlan.ignored`` says what)."""
        from isrender.render.vips.renderer import plan_render

        record = prepared.source
        no_object = record.path is None and record.content is None and not record.name
        unexpanded = "template" in prepared.request.globals and not prepared.templated
        if unexpanded and prepared.strict:
            raise UnsupportedFeatureError(
                "template= is rendered only where templates are stored: through a catalog "
                "(/is/image/..., isrender assets render) or with --template NAME=BODY"
            )
        # no object at all, or a template's (its body draws layer 0 and places the object
        # with src=$object$): layer 0 must be a solid colour (color= with size=, E-181/E-176)
        job = plan_render(
            None if no_object or prepared.templated else self._source(prepared),
            prepared.request,
            self.attributes,
            lenient=not prepared.strict,
            resolve=self.resolve or _beside_object(record),
        )
        if not unexpanded:
            return job
        note = "template: not expanded here (no stored templates); the object is layer 0"
        return replace(job, plan=replace(job.plan, ignored=(*job.plan.ignored, note)))

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

    def _source(self, prepared: PreparedRequest) -> Path | bytes:
        content = prepared.source.content
        return content if content is not None else self._path(prepared)

    def _path(self, prepared: PreparedRequest) -> Path:
        from isrender.errors import SourceNotFoundError

        path = prepared.source.path
        if path is None or not path.is_file():
            if not prepared.source.name:  # a file named directly (CLI, isrender.render)
                where = path.name if path else "(none)"
                raise SourceNotFoundError(f"source image {where!r} not found")
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
            "image.mask": str(int(output.keeps_alpha)),
            "image.length": str(len(result.data)),
            "image.version": prepared.source.version,
        }

    def _image_props(self, prepared: PreparedRequest) -> dict[str, str]:
        """req=imageprops: the source's properties, from its header alone."""
        from isrender.render.vips.renderer import read_source_info

        info = read_source_info(self._source(prepared))
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


def render(
    source: str | Path | bytes | None,
    modifiers: str | ModifierString = "",
    macros: MacroRegistry | None = None,
    *,
    attributes: CatalogAttributes | None = None,
    strict: bool = True,
    catalog: str | None = None,
    modifier: str | None = None,
    post_modifier: str | None = None,
    object: str | None = None,
) -> RenderResult:
    """``isrender.render``: ``source`` (a path or the file's bytes; None when layer 0 is a
    solid colour, ``color=`` with ``size=``) with ``modifiers``.

    Raises ModifierError subclasses for the string, RenderError subclasses for the image.
    """
    content = source if isinstance(source, bytes) else None
    path = Path(source) if isinstance(source, str | Path) else None
    record = SourceRecord(object or "", path, "", catalog, modifier or "", post_modifier or "",
                          content)  # fmt: skip
    service = ImageService(attributes, macros)
    return service.render(service.prepare(record, modifiers, strict=strict, answers=None))


def _beside_object(record: SourceRecord) -> Callable[[str], Path | None]:
    """Outside a catalog a layer's src= object is a file beside the request's object (or in
    the working directory, render/layer_sources.py); a template's ``$object$`` names that
    object itself, which a template request does not load as layer 0."""
    from isrender.render.layer_sources import beside

    near = beside(record.path)
    path = record.path

    def resolve(name: str) -> Path | None:
        if path is not None and name in (record.name, str(path)) and path.is_file():
            return path
        return near(name)

    return resolve


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
