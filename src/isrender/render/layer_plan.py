"""The sub-plans of layers 1 and above: each layer's own steps (spec §6.0 A for a layer > 0).

Pure (no pyvips). A layer is planned at the composite's working scale ``scale`` (working pixels
per canvas pixel: the view scale when the view is scaled uniformly). An image layer reads its
own source at the scale it needs (shrink-on-load, like layer 0; a nested ``is{...}`` source is
its request's result, render/nested.py), crops it in source pixels and resizes it to its size
in working pixels; a solid-colour layer is made at that size. Then, in
§6.0's order: layer filters, the content opacity (before the fills: opac= never fades what
color=/bgColor= fill), color=, flip, rotate, extend, bgColor=.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from isrender.commands.values import Edges, Size
from isrender.errors import SourceNotFoundError, SourceTooLargeError, UnsupportedFeatureError
from isrender.render.geometry import round_px
from isrender.render.layer_steps import (
    clip_step,
    grow_step,
    layer_effects,
    mask_steps,
    text_step,
    with_mask,
)
from isrender.render.layers import (
    Canvas,
    ContentKind,
    LayerPlacement,
    content_kind,
    place_layer,
)
from isrender.render.nested import NestedLoad, nested_info, refuse_foreign
from isrender.render.phases import filter_steps, sharpening_steps
from isrender.render.steps import (
    Crop,
    Extend,
    Fade,
    Fill,
    Flip,
    LayerPlan,
    Load,
    Resize,
    Rotate,
    SolidColour,
    Step,
)
from isrender.render.text_layout import TextLayout
from isrender.request.model import Attributes, ImageRequest, Layer, NestedSource

if TYPE_CHECKING:
    from isrender.render.plan import SourceInfo

__all__ = ["MeasuredText", "layer_plans"]

MeasuredText = tuple[TextLayout, tuple[int, int], bool]  # layout, size (§6.7), strict fonts


def layer_plans(
    request: ImageRequest,
    canvas: Canvas,
    sources: Mapping[str, SourceInfo],
    *,
    scale: float,
    kernel: str,
    max_source_pixels: int,
    resolution: float = 100.0,
    texts: Mapping[int, MeasuredText] | None = None,
    plan_nested: Callable[[NestedSource, str], NestedLoad] | None = None,
) -> tuple[LayerPlan, ...]:
    """Every layer above 0 in z-order with its steps. ``sources`` has the header of each
    image layer's ``src=`` object; ``resolution`` is attribute::Resolution (for ``res=``);
    ``texts`` each text layer's layout and measured size, by layer number; ``plan_nested``
    plans a layer's ``src=is{...}`` (render/nested.py: its result is the layer's source)."""
    plans = []
    for layer in sorted(request.layers, key=lambda ly: ly.number):
        if layer.number == 0:
            continue
        text = _measured_text(layer, texts or {})
        nested = None if text else _nested_source(layer, plan_nested)
        source = nested_info(nested) if nested else None
        if not (text or nested):
            source = _image_source(layer, sources, max_source_pixels)
        content = Size(source.width, source.height) if source else None
        content = Size(*text[1]) if text else content
        placement = place_layer(layer, canvas, content, resolution=resolution)
        plan = _layer_plan(layer, placement, source, scale, kernel, text, nested)
        where, drawn = f"layer {layer.number}", text[1] if text else None
        masked = with_mask(plan.steps, layer.attributes, sources, size=drawn,
                           max_source_pixels=max_source_pixels, where=where)  # fmt: skip
        plan = replace(plan, steps=masked)
        effects = layer_effects(layer, canvas=(round(canvas.width), round(canvas.height)),
                                radius_scale=scale)  # fmt: skip
        plans.append(replace(plan, effects=effects))
    return tuple(plans)


def _measured_text(layer: Layer, texts: Mapping[int, MeasuredText]) -> MeasuredText | None:
    if content_kind(layer.attributes) is not ContentKind.TEXT:
        return None
    text = texts.get(layer.number)
    if text is None:  # the renderer measures every text layer before planning
        raise UnsupportedFeatureError(f"layer {layer.number}: the text layer was not measured")
    return text


def _nested_source(
    layer: Layer, plan_nested: Callable[[NestedSource, str], NestedLoad] | None
) -> NestedLoad | None:
    """The plan of the layer's ``src=is{...}``, or None when its source is not nested."""
    bound = layer.attributes.get("src")
    if bound is None or bound.name != "src" or not isinstance(bound.value, NestedSource):
        return None
    refuse_foreign(bound.value, f"layer {layer.number}")
    if plan_nested is None:  # plan() always passes one: a programming error
        raise UnsupportedFeatureError(f"layer {layer.number}: nested sources cannot be planned")
    return plan_nested(bound.value, f"layer {layer.number}")


def _image_source(
    layer: Layer, sources: Mapping[str, SourceInfo], max_source_pixels: int
) -> SourceInfo | None:
    bound = layer.attributes.get("src")
    if bound is None or bound.name != "src":
        return None
    if not isinstance(bound.value, str):
        raise UnsupportedFeatureError(
            f"layer {layer.number}: nested and embedded sources are not rendered yet"
        )
    info = sources.get(bound.value)
    if info is None:  # the renderer reads every layer source's header before planning
        raise SourceNotFoundError(f"layer {layer.number}: source {bound.value!r} not found")
    if info.pixels > max_source_pixels:
        raise SourceTooLargeError(
            f"layer {layer.number}'s source is {info.width}x{info.height} "
            f"({info.pixels / 1e6:.1f} Mpx), above the limit of {max_source_pixels / 1e6:g} Mpx"
        )
    return info


def _layer_plan(
    layer: Layer,
    placement: LayerPlacement,
    source: SourceInfo | None,
    scale: float,
    kernel: str,
    text: MeasuredText | None = None,
    nested: NestedLoad | None = None,
) -> LayerPlan:
    where = f"layer {layer.number}"
    g, attrs = placement.geometry, layer.attributes
    factor = g.scale * scale  # working pixels per source pixel
    steps: list[Step] = []
    if source is not None or text is not None:
        if text is not None:
            steps += _text_content(attrs, text, placement, scale, kernel, where)
        else:
            assert source is not None
            steps += _content(source, placement, factor, kernel, where, nested)
        steps += mask_steps(attrs, scale=factor)
        steps += filter_steps(attrs, factor, where)
        grow = grow_step(attrs, radius_scale=scale)
        steps += ([grow] if grow else []) + sharpening_steps(attrs, factor, where)
    elif placement.kind is ContentKind.SOLID and placement.color is not None:
        size = placement.content
        color = placement.color
        steps.append(SolidColour(round_px(size.width * scale), round_px(size.height * scale),
                                 color, where))  # fmt: skip
    if placement.opacity < 1:
        steps.append(Fade(placement.opacity, f"{where}: opac= opacity x fill"))
    if placement.kind is not ContentKind.SOLID and placement.color is not None:
        steps.append(Fill(placement.color, f"{where}: color= behind transparent parts"))
    if placement.flip:
        steps.append(Flip(placement.flip, where))
    if g.rotate:
        steps.append(Rotate(g.rotate))
    e = g.extend
    if any((e.left, e.top, e.right, e.bottom)):
        steps.append(Extend(Edges(*(round(v * scale) for v in (e.left, e.top, e.right, e.bottom)))))
    if placement.bg_color is not None:
        steps.append(Fill(placement.bg_color, f"{where}: bgColor="))
    origin = text[0].origin if text is not None and text[0].origin else (0.0, 0.0)
    clip = clip_step(attrs, scale=scale, dx=origin[0] * scale, dy=origin[1] * scale)
    if clip is not None:
        steps.append(clip)
    name = attrs.value("src") if source is not None and nested is None else None
    return LayerPlan(placement, name, tuple(steps))


def _text_content(
    attrs: Attributes,
    text: MeasuredText,
    placement: LayerPlacement,
    scale: float,
    kernel: str,
    where: str,
) -> list[Step]:
    """A text layer's content: drawn at its own size (what planning measured), then brought
    to working pixels like an image layer."""
    layout, (width, height), strict = text
    step = text_step(attrs, layout.box, strict=strict)
    assert step is not None  # _measured_text found text= or textPs=
    steps: list[Step] = [step]
    if scale != 1:
        size = round_px(width * scale), round_px(height * scale)
        steps.append(Resize(*size, kernel, f"{where}: text to working pixels"))
    return steps


def _content(
    source: SourceInfo,
    placement: LayerPlacement,
    factor: float,
    kernel: str,
    where: str,
    nested: NestedLoad | None = None,
) -> list[Step]:
    """Read the source at the scale the layer needs (twice that when a kernel other than
    lanczos3 must do the last reduction; never above full resolution), crop, resize. A
    nested request's result comes at its reply size (``source`` is its nested_info)."""
    g = placement.geometry
    need = min(1.0, factor * (1 if kernel == "lanczos3" else 2))
    note = f"{where}: shrink-on-load" if need < 1 else where
    load = Load(round_px(source.width * need), round_px(source.height * need), need, note)
    steps: list[Step] = [nested or load]
    if g.crops(source.width, source.height):
        steps.append(Crop(g.crop))
    size = round_px(g.crop.width * factor), round_px(g.crop.height * factor)
    steps.append(Resize(*size, kernel, f"{where}: to its size in working pixels"))
    return steps
