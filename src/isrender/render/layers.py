"""Where layers 1 and above go on the layer-0 canvas (spec §6.0 A12 and B, §6.6). Pure: no pyvips.

Everything is in *canvas pixels*: layer 0's own pixels after its crop, scale, rotate and extend
(the composite before the view transform). A renderer working at view scale ``s`` multiplies
by ``s`` (``LayerPlacement.box``).

The rules, from §6.6:

* A layer is an image (``src=``), a text box (``text=``/``textPs=``), a solid colour (``color=``
  with ``size=``/``sizeN=``, exact size) or empty (none of these: nothing to draw).
* Its rectangle: crop (source pixels; image layers only), size › scale › res (image layers are
  fitted into ``size=`` up or down, D-37; ``sizeN=`` is relative to layer 0), flip, rotate (the
  rectangle grows to the rotated bounding box), extend.
* The anchor, origin and position arithmetic lives in render/layer_anchor.py:
  the anchor (``anchor=`` source pixels from the top-left › ``anchorN=`` from the source centre
  › ``catalog::Anchor`` › the centre of the crop box) is defined on the untransformed source
  and moves with the layer's transforms: rotation keeps it at the same place of the content,
  ``extend=`` adds margins around the content without moving it. The layer origin is
  ``origin=`` (from the top-left of the final rectangle) › ``originN=`` (from its centre) ›
  the transformed anchor.
* The origin is put at layer 0's origin (found by the same rules on layer 0) plus ``pos=``
  (pixels) or ``posN=`` (normalised to layer 0's size): with nothing given the layer is centred.
* Layer 0 clips: only the part of a layer inside the canvas is drawn. Layers are drawn in
  ascending number; ``hide=1`` keeps the layer out of the composite.
* ``opac=o,f``: the content is drawn at o x f / 100 %, effects at o x (effect opac) / 100 %.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from isrender.commands.colors import Color
from isrender.commands.values import Opacity, Point, Rect, Size
from isrender.errors import ViewGeometryError
from isrender.render.geometry import LayerGeometry, geometry_of, round_px
from isrender.render.layer_anchor import (
    layer_origin,
    position_offset,
    transformed_anchor,
    visible_part,
)
from isrender.request.model import Attributes, Layer

__all__ = [
    "BLEND_MODES",
    "Canvas",
    "ContentKind",
    "LayerPlacement",
    "PixelBox",
    "canvas_of",
    "content_kind",
    "content_opacity",
    "describe_layers",
    "effect_opacity",
    "place_layer",
    "place_layers",
]

BLEND_MODES = ("norm", "dissolve", "lighten", "darken", "mult", "screen")


class ContentKind(StrEnum):
    IMAGE = "image"
    TEXT = "text"
    SOLID = "solid"
    EMPTY = "empty"


@dataclass(frozen=True, slots=True)
class Canvas:
    """Layer 0: its size and its origin (the point ``pos=`` offsets are measured from)."""

    width: float
    height: float
    origin: Point
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class PixelBox:
    """A layer rectangle in whole pixels at some working scale (top-left, size)."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class LayerPlacement:
    """One layer on the canvas: its geometry, where its rectangle lands, what is visible of it
    and how it is drawn. ``x``/``y`` is the rectangle's top-left in canvas pixels; ``visible``
    the part inside the canvas (canvas coordinates), None when nothing is."""

    number: int
    names: tuple[str, ...]
    kind: ContentKind
    content: Size  # the source (image), box (text) or colour rectangle (solid) it started from
    geometry: LayerGeometry
    flip: str | None
    anchor: Point  # the transformed anchor, in the final layer rectangle
    origin: Point  # the layer origin, in the final layer rectangle
    x: float
    y: float
    visible: Rect | None
    hidden: bool
    opacity: float  # content opacity 0..1 (opacity x fill)
    layer_opacity: float  # opac's first value 0..1: what the layer's effects are scaled by
    blend: str
    color: Color | None
    bg_color: Color | None

    @property
    def width(self) -> float:
        return self.geometry.width

    @property
    def height(self) -> float:
        return self.geometry.height

    @property
    def drawn(self) -> bool:
        """Whether anything of this layer reaches the composite."""
        return (
            not self.hidden
            and self.visible is not None
            and self.kind is not ContentKind.EMPTY
            and self.opacity > 0
        )

    @property
    def clipped(self) -> bool:
        v = self.visible
        if v is None:
            return False
        same = math.isclose(v.width, self.width, abs_tol=1e-6)
        return not (same and math.isclose(v.height, self.height, abs_tol=1e-6))

    def box(self, scale: float = 1.0) -> PixelBox:
        """The rectangle at working scale ``scale``: offsets round half up (D-01), sizes too,
        at least 1 pixel."""
        return PixelBox(
            math.floor(self.x * scale + 0.5),
            math.floor(self.y * scale + 0.5),
            round_px(self.width * scale),
            round_px(self.height * scale),
        )

    def describe(self) -> str:
        label = f"layer {self.number}" + (f" ({', '.join(self.names)})" if self.names else "")
        if self.kind is ContentKind.EMPTY:
            return f"{label}: empty (no src=, text= or color=): nothing drawn"
        parts = [
            f"{label}: {self.kind.value} {_num(self.content.width)}x{_num(self.content.height)}"
            f" -> {_num(self.width)}x{_num(self.height)} at ({_num(self.x)},{_num(self.y)})"
        ]
        if self.hidden:
            parts.append("hidden")
        elif self.visible is None:
            parts.append("outside layer 0: nothing drawn")
        elif self.clipped:
            v = self.visible
            shown = f"{_num(v.width)}x{_num(v.height)} at ({_num(v.x)},{_num(v.y)})"
            parts.append(f"clipped by layer 0 to {shown}")
        if self.opacity < 1:
            parts.append(f"opacity {self.opacity * 100:g}%")
        if self.blend != "norm":
            parts.append(f"blend {self.blend}")
        return ", ".join(parts)


def _num(value: float) -> str:
    return f"{value:.6g}"


# ---- opacity arithmetic (§6.6 opac) -----------------------------------------------------------


def content_opacity(opac: Opacity | None) -> float:
    """The layer content's opacity: opacity x fill / 100 (``opac=90,70`` -> 63 %)."""
    if opac is None:
        return 1.0
    return opac.opacity * opac.fill / 10000


def effect_opacity(parent: Opacity | None, effect: Opacity | None) -> float:
    """An effect layer's opacity: the parent's opacity (not its fill) x the effect's own
    opacity / 100 (``opac=90,70`` with an effect ``opac=50`` -> 45 %)."""
    parent_share = 1.0 if parent is None else parent.opacity / 100
    own = 1.0 if effect is None else effect.opacity / 100
    return parent_share * own


# ---- the canvas -------------------------------------------------------------------------------


def canvas_of(
    layer0: Attributes,
    geometry: LayerGeometry,
    content: Size,
    *,
    catalog_anchor: Point | None = None,
) -> Canvas:
    """Layer 0 as the canvas: ``geometry`` is its planned geometry, ``content`` the size its
    geometry started from (the source, or the ``size=`` of a solid-colour layer 0)."""
    anchor = transformed_anchor(layer0, geometry, content, catalog_anchor)
    origin = layer_origin(layer0, geometry, anchor)
    return Canvas(geometry.width, geometry.height, origin, bool(layer0.value("hide", False)))


def describe_layers(canvas: Canvas, layers: Iterable[LayerPlacement]) -> str:
    """The layer tree as ``explain`` prints it: the canvas, then each layer in z-order."""
    o = canvas.origin
    size = f"{_num(canvas.width)}x{_num(canvas.height)}"
    head = f"layer 0: canvas {size}, origin ({_num(o.x)},{_num(o.y)})"
    lines = [head + (", hidden" if canvas.hidden else "")]
    lines += [f"  {layer.describe()}" for layer in layers]
    return "\n".join(lines)


# ---- layers 1 and above -----------------------------------------------------------------------


def content_kind(attributes: Attributes) -> ContentKind:
    """What a layer draws: the last of src/text/textPs decides (§1.8.4); a colour alone makes
    a solid-colour layer."""
    source = attributes.get("src")
    if source is not None:
        return ContentKind.IMAGE if source.name == "src" else ContentKind.TEXT
    if "color" in attributes:
        return ContentKind.SOLID
    return ContentKind.EMPTY


def place_layers(
    layers: Iterable[Layer],
    canvas: Canvas,
    contents: Mapping[int, Size],
    *,
    resolutions: Mapping[int, float] | None = None,
    anchors: Mapping[int, Point] | None = None,
) -> tuple[LayerPlacement, ...]:
    """Every layer above 0, in z-order (ascending number). ``contents`` gives each image
    layer's source size and each text layer's box by layer number; ``resolutions`` and
    ``anchors`` the ``catalog::Resolution``/``catalog::Anchor`` of the layer's record."""
    resolutions = resolutions or {}
    anchors = anchors or {}
    ordered = sorted((layer for layer in layers if layer.number > 0), key=lambda ly: ly.number)
    return tuple(
        place_layer(
            layer,
            canvas,
            contents.get(layer.number),
            resolution=resolutions.get(layer.number, 100.0),
            catalog_anchor=anchors.get(layer.number),
        )
        for layer in ordered
    )


def place_layer(
    layer: Layer,
    canvas: Canvas,
    content: Size | None,
    *,
    resolution: float = 100.0,
    catalog_anchor: Point | None = None,
) -> LayerPlacement:
    """One layer's rectangle, origin and position on ``canvas`` (see the module docstring)."""
    attrs = layer.attributes
    kind = content_kind(attrs)
    start, geometry = _layer_rect(layer, kind, canvas, content, resolution)
    anchor = transformed_anchor(attrs, geometry, start, catalog_anchor)
    origin = layer_origin(attrs, geometry, anchor)
    offset = position_offset(attrs, canvas.width, canvas.height)
    x = canvas.origin.x + offset.x - origin.x
    y = canvas.origin.y + offset.y - origin.y
    opac: Opacity | None = attrs.value("opac")
    return LayerPlacement(
        number=layer.number,
        names=layer.names,
        kind=kind,
        content=start,
        geometry=geometry,
        flip=attrs.value("flip"),
        anchor=anchor,
        origin=origin,
        x=x,
        y=y,
        visible=visible_part(x, y, geometry.width, geometry.height, canvas.width, canvas.height),
        hidden=bool(attrs.value("hide", False)),
        opacity=content_opacity(opac),
        layer_opacity=1.0 if opac is None else opac.opacity / 100,
        blend=attrs.value("blendMode") or "norm",
        color=attrs.value("color"),
        bg_color=attrs.value("bgColor"),
    )


def _layer_rect(
    layer: Layer, kind: ContentKind, canvas: Canvas, content: Size | None, resolution: float
) -> tuple[Size, LayerGeometry]:
    """The size the layer starts from and its geometry (crop, scale, rotate, extend)."""
    attrs = layer.attributes
    box = _size_box(attrs, canvas)
    if kind is ContentKind.IMAGE:
        start = _required_content(layer.number, content, "source image")
        width, height = round_px(start.width), round_px(start.height)
        return start, geometry_of(attrs, width, height, size=box, resolution=resolution)
    if kind is ContentKind.TEXT:
        # The text box was laid out already (size= is the box): only the transforms remain.
        start = _required_content(layer.number, content, "text box")
    elif kind is ContentKind.SOLID:
        start = _solid_size(layer.number, box)
    else:
        start = Size(1, 1)
    geometry = geometry_of(attrs, round_px(start.width), round_px(start.height), from_source=False)
    return start, geometry


def _size_box(attrs: Attributes, canvas: Canvas) -> Size | None:
    """``size=`` in canvas pixels (``sizeN=`` is relative to layer 0's size); None if absent."""
    bound = attrs.get("size")
    if bound is None:
        return None
    value: Size = bound.value
    if bound.name == "sizeN":
        return Size(value.width * canvas.width, value.height * canvas.height)
    return value


def _required_content(number: int, content: Size | None, what: str) -> Size:
    if content is None or content.width <= 0 or content.height <= 0:
        raise ViewGeometryError(f"layer {number}: the size of its {what} is not known")
    return content


def _solid_size(number: int, box: Size | None) -> Size:
    """A solid-colour layer is exactly its size=; both sides are required (§6.4 size)."""
    if box is None or box.width <= 0 or box.height <= 0:
        raise ViewGeometryError(
            f"layer {number} is a solid-colour layer (color= without src= or text=): "
            "it needs size= (or sizeN=) with a width and a height above 0"
        )
    return Size(round_px(box.width), round_px(box.height))
