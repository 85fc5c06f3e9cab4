"""Anchor, origin and position of a layer (spec §6.6), split from render/layers.py. Pure.

The anchor (``anchor=`` source pixels from the top-left › ``anchorN=`` from the source centre
› ``catalog::Anchor`` › the centre of the crop box) is defined on the untransformed source and
moves with the layer's transforms; the origin is ``origin=`` › ``originN=`` › the transformed
anchor; ``pos=``/``posN=`` offset it from layer 0's origin; layer 0 clips what lies outside.
"""

from __future__ import annotations

import math

from isrender.commands.values import Edges, Point, Rect, Size
from isrender.render.geometry import LayerGeometry
from isrender.request.model import Attributes

__all__ = ["layer_origin", "position_offset", "rotated", "transformed_anchor", "visible_part"]


def transformed_anchor(
    attrs: Attributes, geometry: LayerGeometry, start: Size, catalog_anchor: Point | None
) -> Point:
    """The anchor (in the untransformed source) carried through crop, scale, flip, rotate
    and extend to the final layer rectangle."""
    crop, factor = geometry.crop, geometry.scale
    point = source_anchor(attrs, start, crop, catalog_anchor)
    x, y = (point.x - crop.x) * factor, (point.y - crop.y) * factor
    w, h = crop.width * factor, crop.height * factor
    flip = attrs.value("flip") or ""
    if "lr" in flip:
        x = w - x
    if "ud" in flip:
        y = h - y
    x, y = rotated(x, y, w, h, geometry.rotate)
    margins: Edges = geometry.extend
    return Point(x + margins.left, y + margins.top)


def source_anchor(
    attrs: Attributes, start: Size, crop: Rect, catalog_anchor: Point | None
) -> Point:
    """anchor= › anchorN= › catalog::Anchor › the centre of what the layer shows (the crop
    box): a cropped layer without an anchor is centred like an uncropped one."""
    bound = attrs.get("anchor")
    if bound is None:
        return catalog_anchor or Point(crop.x + crop.width / 2, crop.y + crop.height / 2)
    value: Point = bound.value
    if bound.name == "anchorN":  # from the centre, normalised to the source
        return Point((0.5 + value.x) * start.width, (0.5 + value.y) * start.height)
    return value


def rotated(x: float, y: float, w: float, h: float, degrees: float) -> tuple[float, float]:
    """Point (x, y) of a w x h rectangle after a clockwise rotation, in the rotated bounding
    box (whose centre is the rectangle's centre)."""
    if not degrees:
        return x, y
    radians = math.radians(degrees)
    cos, sin = math.cos(radians), math.sin(radians)
    box_w = w * abs(cos) + h * abs(sin)
    box_h = w * abs(sin) + h * abs(cos)
    dx, dy = x - w / 2, y - h / 2
    # y grows downwards, so this matrix turns clockwise on screen.
    return box_w / 2 + dx * cos - dy * sin, box_h / 2 + dx * sin + dy * cos


def layer_origin(attrs: Attributes, geometry: LayerGeometry, anchor: Point) -> Point:
    """origin= (from the top-left of the final rectangle) › originN= (from its centre) ›
    the transformed anchor."""
    bound = attrs.get("origin")
    if bound is None:
        return anchor
    value: Point = bound.value
    if bound.name == "originN":
        w, h = geometry.width, geometry.height
        return Point(w / 2 + value.x * w, h / 2 + value.y * h)
    return value


def position_offset(attrs: Attributes, canvas_width: float, canvas_height: float) -> Point:
    """pos= in canvas pixels; posN= is normalised to layer 0's size; default 0,0."""
    bound = attrs.get("pos")
    if bound is None:
        return Point(0, 0)
    value: Point = bound.value
    if bound.name == "posN":
        return Point(value.x * canvas_width, value.y * canvas_height)
    return value


def visible_part(
    x: float, y: float, w: float, h: float, canvas_width: float, canvas_height: float
) -> Rect | None:
    """Layer 0 clips: the part of the layer rectangle inside the canvas, or None."""
    left, top = max(x, 0.0), max(y, 0.0)
    right, bottom = min(x + w, canvas_width), min(y + h, canvas_height)
    if right <= left or bottom <= top:
        return None
    return Rect(left, top, right - left, bottom - top)
