"""The steps of masks, clip paths, growing and text content (§6.0 A1, A2, A5, A11) from a
layer's commands (the Step classes are in render/steps.py; the pixels are ``LayerPixels`` in
render/vips/effects.py, mixed into the executor's ops). Pure.

Where each belongs in the phase table (render/phases.py keeps the order):
- ``text_step``: A1, the content of a text layer (instead of ``Load``);
- ``mask_source_step``: A2, ``mask=``: right after the content's load (crop and resize then
  apply to the mask too), ``maskUse=`` with it;
- ``mask_steps``: A2, after the content: ``maskUse=`` (without ``mask=``), ``op_growMask(R)``;
- ``grow_step``: A5, with the filters, after ``op_blur`` (D-26);
- ``clip_step``: A11, after ``bgColor``: ``clipPath=``/``clipXPath=`` in the layer's pixels;
- ``layer_effects``: the effects the composite draws below and above the finished layer;
- ``effect_step``: the effects of layer 0 or comp, drawn inside the image (layer 0 clips).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from isrender.errors import SourceNotFoundError, SourceTooLargeError, UnsupportedFeatureError
from isrender.render.clip_path import ClipPath, CubicTo, LineTo, Point, Subpath, from_definition
from isrender.render.effects import (
    EffectParams,
    effect_order,
    grow_mask_radius,
    resolve_effect,
)
from isrender.render.steps import (
    ClipToPath,
    DrawEffects,
    DrawText,
    Filter,
    Grow,
    GrowMask,
    Load,
    MaskFrom,
    MaskWith,
    Step,
)
from isrender.render.text_layout import TextBox
from isrender.request.model import Attributes, Effect, Layer, NestedSource

if TYPE_CHECKING:
    from isrender.render.plan import SourceInfo

# Rendered on layers 1 and above (render/layer_plan.py); on layer 0 not yet, so their
# command-table fate stays "not rendered yet" and plan.py lets them through above layer 0 only.
RENDERED_ABOVE_LAYER0 = frozenset({"text", "textPs", "textAttr"})

__all__ = [
    "RENDERED_ABOVE_LAYER0",
    "clip_step",
    "effect_step",
    "filters_with_grow",
    "grow_step",
    "layer_effects",
    "mask_source_step",
    "mask_steps",
    "text_step",
    "with_mask",
]


def text_step(attributes: Attributes, box: TextBox, *, strict: bool = True) -> DrawText | None:
    """The content step of a text layer (``box`` from render/text_layout.py), else None."""
    content = attributes.get("text")
    if content is None or content.name not in ("text", "textPs"):
        return None
    return DrawText(content.value, box, strict)


def mask_steps(attributes: Attributes, *, scale: float) -> tuple[Step, ...]:
    """A2: ``maskUse=`` (norm is the layer's alpha as it is: no step) and the mask's growth;
    ``scale`` is the layer's working scale from full resolution (D-30 for op_growMask)."""
    steps: list[Step] = []
    use = attributes.value("maskUse", "norm")
    if use != "norm" and "mask" not in attributes:  # with mask=, MaskFrom applies it
        steps.append(MaskWith(use))
    grow = attributes.get("op_growMask")
    if grow is not None:
        pixels = grow_mask_radius(grow.value, as_given=grow.name == "op_growMaskR", scale=scale)
        if pixels:
            steps.append(GrowMask(pixels))
    return tuple(steps)


def mask_source_step(
    attributes: Attributes,
    size: tuple[int, int],
    scale: float,
    sources: Mapping[str, SourceInfo],
    *,
    max_source_pixels: int,
    where: str,
) -> MaskFrom | None:
    """A2 ``mask=``: the object read at ``size`` (the content's pixels at this point, ``scale``
    of full resolution), with ``maskUse=``; None without ``mask=``. ``sources`` holds the
    header of every object the request names (read before planning: limits hold first)."""
    bound = attributes.get("mask")
    if bound is None:
        return None
    if isinstance(bound.value, NestedSource):
        raise UnsupportedFeatureError(f"{where}: a nested mask= group is not rendered yet")
    info = sources.get(bound.value)
    if info is None:  # the renderer reads every mask= object's header before planning
        raise SourceNotFoundError(f"{where}: mask {bound.value!r} not found")
    if info.pixels > max_source_pixels:
        raise SourceTooLargeError(
            f"{where}: the mask is {info.width}x{info.height} ({info.pixels / 1e6:.1f} Mpx), "
            f"above the limit of {max_source_pixels / 1e6:g} Mpx"
        )
    use = attributes.value("maskUse", "norm")
    return MaskFrom(size[0], size[1], scale, f"{where}: mask={bound.value}", bound.value, use)


def with_mask(
    steps: tuple[Step, ...],
    attributes: Attributes,
    sources: Mapping[str, SourceInfo],
    *,
    max_source_pixels: int,
    where: str,
    size: tuple[int, int] | None = None,
) -> tuple[Step, ...]:
    """A layer's steps with its ``mask=`` right after its content step (a load, a solid
    colour: their size; a text drawing: ``size``, what it was measured at)."""
    if "mask" not in attributes or not steps:
        return steps
    first = steps[0]
    width, height = getattr(first, "width", None), getattr(first, "height", None)
    if isinstance(width, int) and isinstance(height, int):
        size = width, height
    if size is None:
        raise UnsupportedFeatureError(f"{where}: mask= needs image, text or colour content")
    scale = first.scale if isinstance(first, Load) else 1.0
    mask = mask_source_step(attributes, size, scale, sources,
                            max_source_pixels=max_source_pixels, where=where)  # fmt: skip
    return steps if mask is None else (first, mask, *steps[1:])


def filters_with_grow(
    filters: list[Step], attributes: Attributes, *, radius_scale: float
) -> list[Step]:
    """The A5 filters with ``op_grow`` in its place (D-26: after ``op_blur``, before
    ``op_noise``)."""
    grow = grow_step(attributes, radius_scale=radius_scale)
    if grow is None:
        return filters
    noise = next((i for i, s in enumerate(filters)
                  if isinstance(s, Filter) and s.command == "op_noise"), len(filters))  # fmt: skip
    return [*filters[:noise], grow, *filters[noise:]]


def grow_step(attributes: Attributes, *, radius_scale: float) -> Grow | None:
    """A5 ``op_grow``, in composite pixels (× ``radius_scale`` when drawn smaller)."""
    pixels = round(int(attributes.value("op_grow", 0)) * radius_scale)
    return Grow(pixels) if pixels else None


def clip_step(
    attributes: Attributes,
    *,
    scale: float = 1.0,
    dx: float = 0.0,
    dy: float = 0.0,
    scale_y: float | None = None,
) -> ClipToPath | None:
    """A11 ``clipPath=``/``clipXPath=`` (§6.6; the exclusion only with a clip path), the paths
    scaled by the layer's working ``scale`` (``scale_y`` vertically when the view stretches
    the image) and moved by ``dx``,``dy`` (the layer's pixels start elsewhere: ``extend=``, a
    path-sized layer's origin)."""
    clip = attributes.get("clipPath")
    if clip is None or clip.name != "clipPath":
        return None  # clipPathE names embedded paths: not a definition
    sy = scale if scale_y is None else scale_y
    path = _scaled(from_definition(clip.value), scale, sy, dx, dy)
    cut = attributes.get("clipXPath")
    exclude = None
    if cut is not None and cut.name == "clipXPath":
        exclude = _scaled(from_definition(cut.value), scale, sy, dx, dy)
    return ClipToPath(path, exclude)


def _scaled(path: ClipPath, sx: float, sy: float, dx: float, dy: float) -> ClipPath:
    """``path`` scaled about 0,0 by ``sx``,``sy`` then moved by ``dx``,``dy``."""
    if sx == sy:
        return path.transformed(sx, dx, dy)

    def move(p: Point) -> Point:
        return Point(p.x * sx + dx, p.y * sy + dy)

    def segment(s: LineTo | CubicTo) -> LineTo | CubicTo:
        if isinstance(s, LineTo):
            return LineTo(move(s.to))
        return CubicTo(move(s.c1), move(s.c2), move(s.to))

    return ClipPath(tuple(Subpath(move(sub.start), tuple(map(segment, sub.segments)), sub.closed)
                          for sub in path.subpaths))  # fmt: skip


def layer_effects(
    layer: Layer, *, canvas: tuple[int, int], radius_scale: float = 1.0
) -> tuple[tuple[EffectParams, ...], tuple[EffectParams, ...]]:
    """(outer, inner) effects of ``layer``, resolved, in drawing order."""
    parent = layer.attributes.value("opac")
    outer, inner = effect_order(layer.effects)

    def resolved(effects: tuple[Effect, ...]) -> tuple[EffectParams, ...]:
        return tuple(
            resolve_effect(e, parent_opacity=parent, canvas=canvas, radius_scale=radius_scale)
            for e in effects
        )

    return resolved(outer), resolved(inner)


def effect_step(
    effects: tuple[Effect, ...],
    *,
    canvas: tuple[int, int],
    radius_scale: float,
    where: str,
) -> DrawEffects | None:
    """The effects of layer 0 (or of the composite), drawn inside the image. The parent's
    opacity is not in their alpha: layer 0's ``opac=`` (and comp's) fades the image with its
    effects afterwards."""
    if not effects:
        return None
    outer, inner = effect_order(effects)

    def resolved(group: tuple[Effect, ...]) -> tuple[EffectParams, ...]:
        return tuple(resolve_effect(e, canvas=canvas, radius_scale=radius_scale) for e in group)

    return DrawEffects((resolved(outer), resolved(inner)), where)
