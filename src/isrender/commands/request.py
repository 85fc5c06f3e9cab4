"""Request commands (§6.3, §6.8): caching, default image, locale, req= and its auxiliaries."""

from __future__ import annotations

import re

from isrender.commands.args import ArgProblem, Flag, Int, Keyword, Text
from isrender.commands.registry import NO_PIXELS, NOT_RENDERED, Scope, Tag, command, declare
from isrender.commands.values import Cache, RequestType

R = Scope.REQUEST
ON_OFF = ("on", "off")

_TEXT_FORMATS = ("text", "javascript", "xml", "json")
# req types and the reply formats each accepts (§6.8); an empty tuple takes none.
REQUEST_TYPES: dict[str, tuple[str, ...]] = {
    "img": (),
    "mask": (),
    "tmb": (),
    "props": _TEXT_FORMATS,
    "validate": _TEXT_FORMATS,
    "resolve": (),
    "imageprops": _TEXT_FORMATS,
    "catalogprops": _TEXT_FORMATS,
    "exists": _TEXT_FORMATS,
    "imageset": _TEXT_FORMATS,
    "set": ("xml", "json"),
    "map": ("text", "xml", "json"),
    "targets": ("text", "xml", "json"),
    "userdata": ("text", "xml", "json"),
    "xlate": _TEXT_FORMATS,
    "xmp": (),
    "loadcache": (),
    "saveToFile": (),
    "message": (),
    "mbrSet": ("text", "xml"),
}
ENCODINGS = ("UTF-8", "UTF-16", "UTF-16LE", "UTF-16BE", "ISO-8859-1")


@command(
    "req",
    R,
    Tag.REQ,
    Keyword("type", choices=tuple(REQUEST_TYPES)),
    Keyword("format", choices=_TEXT_FORMATS, optional=True),
    Keyword("encoding", choices=ENCODINGS, optional=True),
    renders=NO_PIXELS,
)
def req(type: str, format: str | None, encoding: str | None) -> RequestType:
    """Request type: img (default), mask, tmb, props, validate, resolve, imageprops, ...

    An encoding is accepted after any reply format: Adobe's own viewers send
    ``req=set,json,UTF-8`` although the reference shows encodings for xml only.
    """
    allowed = REQUEST_TYPES[type]
    if format is not None and format not in allowed:
        choices = "|".join(allowed) or "no format"
        raise ArgProblem(
            f"req={type} does not answer in {format}",
            argument="format",
            value=format,
            expected=choices,
            index=1,
        )
    return RequestType(type, format, encoding)


@command(
    "cache",
    R,
    Tag.SERVER,
    Keyword("client", choices=("on", "off", "validate", "update")),
    Keyword("server", choices=ON_OFF, optional=True),
    renders=NO_PIXELS,
)
def cache(client: str, server: str | None) -> Cache:
    """Caching: on, off, validate or update, or client,server as two on/off values."""
    if server is not None and client not in ON_OFF:
        raise ArgProblem(
            f"cache={client} takes no second value", argument="server", index=1, hint="on,off"
        )
    return Cache(client, server)


@command("defaultImage", R, Tag.SERVER, Text("object"), empty=True, renders="load")
def default_image(obj: str | None) -> str:
    """Image used when a source is missing; empty disables default-image handling."""
    return obj or ""


@command("id", R, Tag.SERVER, Text("id"), whole=True, empty=True, renders=NO_PIXELS)
def id_(value: str | None) -> str:
    """Version id for cache busting (never affects pixels); also the JSON request id."""
    return value or ""


_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*\Z")


@command("locale", R, Tag.SERVER, Text("locale"), whole=True, empty=True, renders=NO_PIXELS)
def locale(value: str | None) -> str:
    """Locale for catalog id translation and string localisation (printable ASCII)."""
    if value and not _PRINTABLE_ASCII.match(value):
        raise ArgProblem("a locale is printable ASCII", argument="locale", value=value)
    return value or ""


declare(
    "template",
    R,
    Tag.LAYER,
    Text("object"),
    renders="composite",  # expanded before binding; its body's layers are composited
    summary="Catalog record whose Modifier holds a compositing template; the object is $object$.",
)


declare(
    "imageSet",
    R,
    Tag.REQ,
    Text("set"),
    whole=True,
    renders=NO_PIXELS,
    summary="Inline image set for req=set, usually written as a brace group {a,b,c}.",
)


declare(
    "effectMask",
    R,
    Tag.LAYER,
    Flag("apply"),
    renders=NOT_RENDERED,
    summary="Whether effect layers are masked with the final layer mask (default 1).",
)


declare(
    "bfc",
    R,
    Tag.SERVER,
    Keyword("state", choices=ON_OFF),
    renders=NO_PIXELS,
    summary="Browser format conversion (a CDN feature; no effect here).",
)


declare(
    "network",
    R,
    Tag.SERVER,
    Keyword("state", choices=ON_OFF),
    renders=NO_PIXELS,
    summary="Bandwidth-based quality reduction (a CDN feature; no effect here).",
)


@command("type", R, Tag.SERVER, Text("type"), whole=True, empty=True, renders=NO_PIXELS)
def type_(value: str | None) -> str:
    """Static content type filter (/is/content only); empty means no filtering."""
    return value or ""


# ---- auxiliary parameters of req= types (§6.1) ------------------------------------------------


@command("message", R, Tag.REQ, Text("text"), whole=True, empty=True, renders=NO_PIXELS)
def message(value: str | None) -> str:
    """Text logged by req=message."""
    return value or ""


declare(
    "name",
    R,
    Tag.REQ,
    Text("path"),
    renders=NO_PIXELS,
    summary="Relative file name for req=saveToFile.",
)


declare(
    "timeout",
    R,
    Tag.REQ,
    Int("milliseconds", lo=0),
    renders=NO_PIXELS,
    summary="Time limit in milliseconds for req=saveToFile (default 60000).",
)


_HANDLER = re.compile(r"[A-Za-z0-9]+\Z")


@command("handler", R, Tag.REQ, Text("function"), renders=NO_PIXELS)
def handler(value: str) -> str:
    """JSONP callback name for json replies (letters and digits)."""
    if not _HANDLER.match(value):
        raise ArgProblem(
            f"handler {value!r} is not letters and digits", argument="function", value=value
        )
    return value


declare(
    "labelkey",
    R,
    Tag.REQ,
    Text("key"),
    renders=NO_PIXELS,
    summary="Which user-data key labels the items of req=set.",
)
