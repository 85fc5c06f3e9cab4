"""Cross-command rules checked after binding (spec §7.2, §7.5 ConstraintError).

Each rule reads the bound request and raises ConstraintError at the later of the commands
involved; single-command rules (fmt pixel type vs format, ...) live with their command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from isrender.commands.formats import FORMATS
from isrender.commands.output import profile_pixel_type
from isrender.errors import ConstraintError, Location

if TYPE_CHECKING:
    from isrender.request.model import Attributes, BoundCommand, ImageRequest

__all__ = ["NEEDS", "check_constraints"]

# A global command that means nothing without one of these (lenient binding ignores it then).
NEEDS: dict[str, tuple[str, ...]] = {"fit": ("wid", "hei", "scl")}


def _fail(bound: BoundCommand, problem: str, hint: str | None = None) -> None:
    start, end = bound.span
    origin = bound.origin
    at = Location(origin.text, start, end - start, origin.label) if origin else Location()
    raise ConstraintError(problem, at, hint)


def check_constraints(request: ImageRequest) -> None:
    g = request.globals
    _fit_rules(g)
    _format_rules(g)
    for attributes in (request.comp, *(layer.attributes for layer in request.layers)):
        _text_path_rules(attributes)


def _fit_rules(g: Attributes) -> None:
    fit = g.get("fit")
    if fit is None:
        return
    req = g.value("req")
    if req is not None and req.type == "tmb":
        _fail(fit, "fit= cannot be combined with req=tmb", "thumbnails use ThumbType")
    if not any(needed in g for needed in NEEDS["fit"]):
        _fail(fit, "fit= needs wid= or hei=", "add wid= and/or hei=")


def _format_rules(g: Attributes) -> None:
    fmt = g.get("fmt")
    fmt_name = fmt.value.format if fmt is not None else "jpeg"
    quantize = g.get("quantize")
    if quantize is not None and quantize.value.palette == "mac" and fmt_name.endswith("-alpha"):
        _fail(
            quantize,
            f"the mac palette cannot be used with fmt={fmt_name}",
            "use web or adaptive",
        )
    icc = g.get("icc")
    if icc is None:
        return
    pixel_type = profile_pixel_type(icc.value.profile)
    allowed = FORMATS[fmt_name].pixel_types
    if pixel_type is not None and pixel_type not in allowed:
        _fail(
            icc,
            f"fmt={fmt_name} cannot carry the {pixel_type} profile {icc.value.profile}",
            f"{fmt_name} allows {', '.join(allowed)}; pick another format or profile",
        )


def _text_path_rules(attributes: Attributes) -> None:
    if "textPath" in attributes and "textFlowPath" in attributes:
        later = attributes.get("textFlowPath")
        assert later is not None
        _fail(later, "textPath= and textFlowPath= cannot be used together")
