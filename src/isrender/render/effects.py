"""Effect layers, masks and growing as parameters (spec §6.5 op_grow*, §6.6 effect=/maskUse=):
what each command of an effect segment means, with its default and units, before any pixel.

An effect layer (``effect=n``) takes its parent's size, origin and mask. Its shape is the
parent's mask (``maskUse=`` first: ``invert`` inverts it, ``off`` makes it the parent's
rectangle); an **outer** effect (n < 0) draws that shape behind the parent, an **inner** one
(n > 0) draws the shape's outside on top of the parent, only where the parent is opaque (an
inner shadow creeps in from the edges the offset uncovers; an inner glow lines the inside of
the edge). Then, in this order: ``op_grow`` dilates (> 0) or erodes (< 0) the shape by that many
pixels, ``op_blur`` feathers it (gaussian, sigma = radius / 2, as the filter), ``pos``/``posN``
moves it away from the parent (``posN`` normalised to layer 0's size), ``op_noise`` adds noise
to its coverage, and it is filled with ``color=`` (required: no default) at ``opac=``.

Opacity (§6.6): effect opacity = parent opacity × effect opacity ÷ 100 (render/layers.py holds
that arithmetic); neither fill opacity touches an effect. ``blendMode=`` is the compositor's.

Radii: ``op_blur``, ``op_grow`` and ``pos`` are composite pixels (§6.0.1, D-30); a layer drawn
at a reduced scale passes ``radius_scale`` so the effect keeps its look. ``op_growMask`` scales
by min(1, scale) from full resolution, ``op_growMaskR`` is used as given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from isrender.commands.colors import Color
from isrender.commands.values import Noise, Opacity, Point
from isrender.errors import ConstraintError, Location
from isrender.render.layers import effect_opacity
from isrender.request.model import BoundCommand, Effect

__all__ = [
    "EffectParams",
    "Extent",
    "MaskUse",
    "disc_decomposition",
    "effect_extent",
    "effect_order",
    "grow_mask_radius",
    "resolve_effect",
]

MaskUse = Literal["norm", "invert", "off"]
EffectKind = Literal["outer", "inner"]
BLUR_REACH = 1.5  # gaussian reach in radii: sigma = r/2, 3 sigma holds > 99 % of the kernel
EXACT_DISC_RADIUS = 6  # grow by an exact disc up to this radius; beyond, by an octagon


@dataclass(frozen=True, slots=True)
class EffectParams:
    """One effect layer, resolved. ``rgb``/``alpha`` is the foreground colour (alpha 0..1
    already times both opacities); ``blur`` the radius and ``grow``/``dx``/``dy`` whole
    pixels, all at the scale the layer is drawn at."""

    number: int
    rgb: tuple[int, int, int]
    alpha: float
    blur: float = 0.0
    grow: int = 0
    dx: int = 0
    dy: int = 0
    mask_use: MaskUse = "norm"
    blend: str = "norm"
    noise: Noise | None = None

    @property
    def kind(self) -> EffectKind:
        return "outer" if self.number < 0 else "inner"

    @property
    def sigma(self) -> float:
        return self.blur / 2


@dataclass(frozen=True, slots=True)
class Extent:
    """Where an effect image lies relative to its parent's top-left, and its size."""

    x: int
    y: int
    width: int
    height: int


def resolve_effect(
    effect: Effect,
    *,
    parent_opacity: Opacity | None = None,
    canvas: tuple[int, int] = (0, 0),
    radius_scale: float = 1.0,
) -> EffectParams:
    """The parameters of ``effect``; ``canvas`` is layer 0's size (for ``posN``) and
    ``parent_opacity`` the parent's ``opac=`` (default 100,100)."""
    a = effect.attributes
    color = _required_color(effect)
    alpha = color.alpha * effect_opacity(parent_opacity, a.value("opac"))
    dx, dy = _offset(a.get("pos"), canvas)
    noise = a.value("op_noise")
    return EffectParams(
        number=effect.number,
        rgb=color.to_rgb8(),
        alpha=alpha,
        blur=float(a.value("op_blur", 0.0)) * radius_scale,
        grow=round(int(a.value("op_grow", 0)) * radius_scale),
        dx=round(dx * radius_scale),
        dy=round(dy * radius_scale),
        mask_use=a.value("maskUse", "norm"),
        blend=a.value("blendMode", "norm"),
        noise=noise if noise is not None and noise.amount > 0 else None,
    )


def effect_order(effects: tuple[Effect, ...]) -> tuple[tuple[Effect, ...], tuple[Effect, ...]]:
    """(outer, inner), each lowest number first: the drawing order, outer ones before the
    parent and inner ones after it (§6.6: the number is the z-order among one parent's)."""
    ordered = sorted(effects, key=lambda e: e.number)
    return tuple(e for e in ordered if e.number < 0), tuple(e for e in ordered if e.number > 0)


def effect_extent(params: EffectParams, width: int, height: int) -> Extent:
    """The area an effect can cover, relative to its ``width`` x ``height`` parent. Inner
    effects stay inside the parent; outer ones reach out by the grow and the blur and move
    with the offset."""
    if params.kind == "inner":
        return Extent(0, 0, width, height)
    reach = max(0, params.grow) + math.ceil(BLUR_REACH * params.blur) + 1
    return Extent(params.dx - reach, params.dy - reach, width + 2 * reach, height + 2 * reach)


def grow_mask_radius(pixels: int, *, as_given: bool, scale: float) -> int:
    """D-30: ``op_growMask`` is a full-resolution radius, shrunk with the image
    (× min(1, scale)); ``op_growMaskR`` (``as_given``) is used as written."""
    if as_given:
        return pixels
    factor = min(1.0, scale)
    return int(math.copysign(math.floor(abs(pixels) * factor + 0.5), pixels))


def disc_decomposition(radius: int) -> tuple[int, int]:
    """(axis, diagonal) half-lengths of four line segments (horizontal, vertical and the two
    diagonals) whose Minkowski sum is the regular octagon closest to a disc of ``radius``:
    it reaches ``axis + 2 * diagonal`` along the axes and ``sqrt(2) * (axis + diagonal)``
    along the diagonals, both ``radius``. Growing by lines costs ~2.8 r a pixel, a disc r²."""
    diagonal = round(radius * (1 - 1 / math.sqrt(2)))
    axis = max(0, radius - 2 * diagonal)
    return axis, diagonal


def _required_color(effect: Effect) -> Color:
    color = effect.attributes.value("color")
    if isinstance(color, Color):
        return color
    first = next(iter(effect.attributes), None)
    raise ConstraintError(
        f"effect={effect.number} needs color= (an effect layer's colour has no default)",
        _location(first),
        "add color=, or use the $shadow$ or $glow$ macro",
    )


def _offset(pos: BoundCommand | None, canvas: tuple[int, int]) -> tuple[float, float]:
    if pos is None:
        return 0.0, 0.0
    point: Point = pos.value
    if pos.name == "posN":
        return point.x * canvas[0], point.y * canvas[1]
    return float(point.x), float(point.y)


def _location(bound: BoundCommand | None) -> Location:
    if bound is None or bound.origin is None:
        return Location()
    start, end = bound.span
    return Location(bound.origin.text, start, end - start, bound.origin.label)
