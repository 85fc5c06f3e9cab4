"""How big a text layer is (spec §6.4 ``size=``, §6.6 ``clipPath=``, §6.7), from its commands.

A text layer's box, before any drawing:

- no ``size=``: the layer is the text's extent (``sizing="text"``); an auto-sized ``text=``
  layer may use only one alignment (render/vips/text.py checks the document);
- ``size=W,0``: the text wraps at W and the height is the text's (``"width"``);
- ``size=W,H``: the box is fixed (``"box"``); ``textPs=`` copy-fits into it (``\\copyfit``),
  ``text=`` with ``textAttr=...,autoRes|maxRes`` varies the resolution instead; what does not
  fit is cut off;
- ``size=0,H``: refused, a text box needs its width (§6.4: "width required, height 0 = auto");
- no ``size=`` but a ``clipPath=``: the layer sizes itself to the path's extent and its origin
  defaults to the path's 0,0 (§6.6), so ``origin`` says where that point lies in the layer.

``sizeN=`` is normalised to layer 0's size (``canvas``). ``textAttr=`` gives the resolution
(dpi), the resolution mode and the wrapping. ``textPath=``/``textFlowPath=`` (text on and into
paths) and a ``textAngle=`` other than 0 are refused: not rendered by this build.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, cast

from isrender.commands.values import PathDefinition, Size, TextAttr
from isrender.errors import ConstraintError, Location, UnsupportedFeatureError
from isrender.render.clip_path import from_definition
from isrender.request.model import Attributes, BoundCommand
from isrender.text.document import Dialect

__all__ = ["Sizing", "TextBox", "TextLayout", "layer_size", "text_layout"]

Sizing = Literal["text", "width", "box", "path"]
_REFUSED = ("textPath", "textFlowPath", "textFlowXPath")


@dataclass(frozen=True, slots=True)
class TextBox:
    """The layer box and the text commands that shape the drawing. ``width``/``height`` 0 is
    auto (``size=`` absent or width-only); ``dpi`` is ``textAttr=``'s resolution."""

    width: int = 0
    height: int = 0
    dpi: int = 72
    dialect: Dialect = "text"
    wrap: Literal["wrap", "noWrap", "nbWrap"] = "wrap"
    resolution_mode: Literal["fixedRes", "autoRes", "maxRes"] = "fixedRes"


@dataclass(frozen=True, slots=True)
class TextLayout:
    """The box render_text draws into, how the layer's size follows, and (path-sized
    layers) where the path's 0,0 lies in the layer: the layer's default origin."""

    box: TextBox
    sizing: Sizing
    origin: tuple[float, float] | None = None


def text_layout(attributes: Attributes, *, canvas: tuple[int, int] = (0, 0)) -> TextLayout:
    """The layout of the text layer whose commands are ``attributes``."""
    content = attributes.get("text")
    if content is None or content.name not in ("text", "textPs"):
        raise ValueError("text_layout needs a layer with text= or textPs=")
    _refuse_unrendered(attributes)
    attr: TextAttr = attributes.value("textAttr", TextAttr(72))
    box = TextBox(
        dpi=attr.resolution,
        dialect=cast(Dialect, content.name),
        wrap=cast(Literal["wrap", "noWrap", "nbWrap"], attr.wrap),
        resolution_mode=cast(Literal["fixedRes", "autoRes", "maxRes"], attr.resolution_mode),
    )
    size = attributes.get("size")
    if size is not None:
        width, height = _pixels(size, canvas)
        if width == 0 and height == 0:
            return TextLayout(box, "text")
        if width == 0:
            raise ConstraintError(
                "a text layer's size= needs a width (a height alone cannot wrap the text)",
                _location(size),
                "give size=W,0 to let the height follow the text",
            )
        return TextLayout(_sized(box, width, height), "width" if height == 0 else "box")
    clip = attributes.get("clipPath")
    if clip is not None and clip.name == "clipPath":
        return _path_sized(box, clip)
    return TextLayout(box, "text")


def layer_size(layout: TextLayout, extent: tuple[int, int]) -> tuple[int, int]:
    """The layer's size once the text is measured: ``extent`` is the drawn text's size."""
    if layout.sizing == "text":
        return extent
    if layout.sizing == "width":
        return layout.box.width, extent[1]
    return layout.box.width, layout.box.height


def _sized(box: TextBox, width: int, height: int) -> TextBox:
    return TextBox(width, height, box.dpi, box.dialect, box.wrap, box.resolution_mode)


def _pixels(size: BoundCommand, canvas: tuple[int, int]) -> tuple[int, int]:
    value: Size = size.value
    if size.name == "sizeN":
        return round(value.width * canvas[0]), round(value.height * canvas[1])
    return int(value.width), int(value.height)


def _path_sized(box: TextBox, clip: BoundCommand) -> TextLayout:
    definition: PathDefinition = clip.value
    left, top, right, bottom = from_definition(definition).bounds()
    x0, y0 = math.floor(left), math.floor(top)
    width, height = math.ceil(right) - x0, math.ceil(bottom) - y0
    if width <= 0 or height <= 0:
        raise ConstraintError(
            "clipPath= has no area, so it cannot size the text layer",
            _location(clip),
            "give the layer a size=, or a clip path that encloses an area",
        )
    return TextLayout(_sized(box, width, height), "path", (float(-x0), float(-y0)))


def _refuse_unrendered(attributes: Attributes) -> None:
    for name in _REFUSED:
        bound = attributes.get(name)
        if bound is not None and bound.name == name and bound.value is not None:
            raise UnsupportedFeatureError(
                f"{name}= (text on or into paths) is not rendered by this build"
            )
    angle = attributes.value("textAngle", 0.0)
    if angle % 360:
        raise UnsupportedFeatureError("textAngle= other than 0 is not rendered by this build")


def _location(bound: BoundCommand) -> Location:
    start, end = bound.span
    origin = bound.origin
    return Location(origin.text, start, end - start, origin.label) if origin else Location()
