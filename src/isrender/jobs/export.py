"""ExportJob rules that need no database: parameter validation (production-system.md §2.8.1,
§4.3), command composition per asset (§2.8.5-§2.8.6) and output naming (§2.8.7-§2.8.8)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from isrender.commands.formats import PRODUCIBLE
from isrender.errors import IpsFault, ModifierError
from isrender.language import Command, ModifierString, serialize
from isrender.macros import MacroRegistry, export_modifiers
from isrender.render.formats import extension_for, output_format
from isrender.request import ImageRequest, iter_commands
from isrender.service import ImageService, PreparedRequest, SourceRecord

__all__ = ["EMAIL_SETTINGS", "ExportParams", "compose", "output_name", "unique_name",
           "validate_export"]  # fmt: skip

EMAIL_SETTINGS = ("All", "Error", "ErrorAndWarning", "JobCompletion", "None")
MAX_ENTRIES = 1000
MAX_SIDE = 8192
# Commands that pull in other catalog objects, compose layers or change the request type
# (§2.8.6): allowing them could expose assets the caller may not read.
FORBIDDEN = frozenset(
    "src mask layer effect effectMask template imageSet defaultImage clipPath clipPathE "
    "clipXPath clipXPathE text textPs textAttr textAngle textPath textFlowPath textFlowXPath "
    "pathAttr".lower().split()
)
_EXPORT_CHAIN = ImageService()  # exports prepare requests as the server does, more strictly
_MACRO = re.compile(r"\$?([A-Za-z0-9._-]+)\$?\Z")


@dataclass(frozen=True)
class ExportParams:
    asset_handles: tuple[str, ...]
    fmt: str
    is_modifier: str = ""
    macro: str = ""  # normalised to the bare name
    email_setting: str = "None"
    client_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "assetHandleArray": list(self.asset_handles),
            "fmt": self.fmt,
            "is_modifier": self.is_modifier,
            "macro": f"${self.macro}$" if self.macro else "",
            "emailSetting": self.email_setting,
            "clientId": self.client_id,
        }


def validate_export(
    payload: Mapping[str, Any], registry: MacroRegistry, scope: str
) -> ExportParams:
    """The checked parameters, or the first fault in the order of §4.3."""
    handles = payload.get("assetHandleArray")
    if not handles:
        raise IpsFault(30002, "exportJob/assetHandleArray is required and needs items")
    if len(handles) > MAX_ENTRIES:
        raise IpsFault(30001, f"exportJob/assetHandleArray: at most {MAX_ENTRIES} items")
    fmt = payload.get("fmt")
    if not fmt:
        raise IpsFault(30002, "exportJob/fmt is required")
    if fmt not in ("orig", "convert"):
        raise IpsFault(30001, f"exportJob/fmt must be orig or convert, not {fmt!r}")
    email = payload.get("emailSetting") or "None"
    if email not in EMAIL_SETTINGS:
        raise IpsFault(30001, f"exportJob/emailSetting must be one of {', '.join(EMAIL_SETTINGS)}")
    client_id = str(payload.get("clientId") or "")
    if len(client_id) > 255:
        raise IpsFault(30001, "exportJob/clientId: at most 255 characters")
    is_modifier = str(payload.get("is_modifier") or "")
    macro_text = str(payload.get("macro") or "").strip()
    params = ExportParams(tuple(map(str, handles)), fmt, is_modifier, "", email, client_id)
    if fmt == "orig":
        return params  # modifiers and macro are ignored without validation (§2.8.4)
    if not is_modifier and not macro_text:
        raise IpsFault(30002, "is_modifier or macro required when fmt=convert")
    macro = _macro_name(macro_text, registry, scope) if macro_text else ""
    params = ExportParams(params.asset_handles, fmt, is_modifier, macro, email, client_id)
    check_request(compose(params, registry, scope).request)
    return params


def _macro_name(text: str, registry: MacroRegistry, scope: str) -> str:
    match = _MACRO.match(text)
    if match is None or text.count("$") not in (0, 2):
        raise IpsFault(30001, f"exportJob/macro: one macro invocation expected, not {text!r}")
    name = match.group(1)
    macro = registry.get(name, scope)
    if macro is None:
        raise IpsFault(30001, f"exportJob/macro: unknown macro ${name}$")
    if macro.problem is not None:
        raise IpsFault(30001, f"exportJob/macro: {macro.problem.message}")
    return name


def compose(
    params: ExportParams,
    registry: MacroRegistry,
    scope: str,
    asset_modifier: str = "",
    asset_post_modifier: str = "",
) -> PreparedRequest:
    """Asset Modifier, is_modifier, macro, asset PostModifier; later wins, except that the
    macro's ``fmt`` is final (§2.8.5), and binding is strict. Exports have no DefaultPix
    (D-50): the renderer's defaults are unconstrained."""
    text = export_modifiers(params.is_modifier, params.macro or None)
    record = SourceRecord("", None, "", scope, asset_modifier, asset_post_modifier)
    final = _macro_fmt(params.macro, registry, scope)
    try:
        return _EXPORT_CHAIN.prepare(
            record, text, strict=True, macros=registry, final=final, answers=None
        )
    except ModifierError as exc:
        raise IpsFault(30001, f"Invalid is_modifier: {exc.message}") from None


def _macro_fmt(name: str, registry: MacroRegistry, scope: str) -> str:
    macro = registry.get(name, scope) if name else None
    if macro is None:
        return ""
    fmts = [n for n in macro.nodes if isinstance(n, Command) and n.key == "fmt"]
    return serialize(ModifierString((fmts[-1],))) if fmts else ""


def check_request(request: ImageRequest) -> None:
    """§2.8.6: forbidden commands, producible formats, literal size limits (30001)."""
    for _, bound in iter_commands(request):
        if bound.name.lower() in FORBIDDEN:
            raise IpsFault(30001, f"Command not allowed in ExportJob: {bound.name}")
    req = request.globals.value("req")
    if req is not None and req.type != "img":
        raise IpsFault(30001, "Command not allowed in ExportJob: req")
    if request.layers and any(layer.number != 0 for layer in request.layers):
        raise IpsFault(30001, "Command not allowed in ExportJob: layer")
    fmt = output_format(request).format
    if fmt not in PRODUCIBLE:
        raise IpsFault(30001, f"output format not supported: fmt={fmt}")
    for name in ("wid", "hei"):
        value = request.globals.value(name)
        if value is not None and value > MAX_SIDE:
            raise IpsFault(30001, f"{name}={value} is above the export limit of {MAX_SIDE}")


_UNSAFE = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]')


def output_name(
    folder: str, file_name: str | None, name: str, asset_id: int, extension: str | None
) -> str:
    """The relative output path: folder + sanitized file name; ``extension`` replaces the
    source's for conversions (``fileToExport.jpg`` -> ``fileToExport.tiff``)."""
    base = file_name or name
    if extension is not None:
        stem = base.rpartition(".")[0] if "." in base else base
        base = stem + extension
    clean = _UNSAFE.sub("_", base).rstrip(". ")
    if clean in ("", ".", ".."):
        clean = f"asset-{asset_id}{extension or ''}"
    return f"{folder}{clean}"


def unique_name(path: str, taken: set[str]) -> str:
    """``path``, or ``stem-n.ext`` when it collides (ignoring case) with one already taken."""
    candidate, n = path, 0
    pure = PurePosixPath(path)
    while candidate.lower() in taken:
        n += 1
        candidate = str(pure.with_name(f"{pure.stem}-{n}{pure.suffix}"))
    taken.add(candidate.lower())
    return candidate


def conversion_extension(request: ImageRequest) -> str:
    return extension_for(output_format(request).format)
