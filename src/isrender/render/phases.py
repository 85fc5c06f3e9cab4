"""The phase table: the fixed processing order of §6.0, one builder per phase.

``PHASES`` is the order; each builder reads the planning context and returns its typed steps
(render/steps.py). The plan is their concatenation, so the order lives here and only here:
load, layer 0 (crop, scale, filters, color, flip, rotate, extend, bgColor), composite (flip,
filters, opacity), view (scale, place), view sharpening, output.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from isrender.commands.colors import Color
from isrender.commands.registry import rendered_by
from isrender.commands.values import Edges, Rect
from isrender.render.attributes import CatalogAttributes
from isrender.render.formats import OutputFormat
from isrender.render.geometry import LayerGeometry, ViewGeometry, round_px
from isrender.render.layer_steps import (
    clip_step,
    effect_step,
    filters_with_grow,
    mask_source_step,
    mask_steps,
)
from isrender.render.steps import (
    Composite,
    Crop,
    Encode,
    EncodeOptions,
    Extend,
    Fill,
    Filter,
    Flatten,
    Flip,
    LayerPlan,
    Load,
    Opacity,
    OutputSpace,
    Place,
    Resize,
    Rotate,
    Sharpen,
    SolidColour,
    Step,
    UnsharpMask,
)
from isrender.request.model import Attributes, Effect, ImageRequest

if TYPE_CHECKING:
    from isrender.render.plan import SourceInfo

__all__ = [
    "FILTER_ORDER",
    "KERNELS",
    "PHASES",
    "PlanContext",
    "build_steps",
    "filter_steps",
    "sharpening_steps",
]

KERNELS = {"bilin": "linear", "bicub": "cubic", "sharp2": "lanczos3", "bisharp": "lanczos3"}
# Layer filters in the order of §6.0 step A5 (D-26), as the command table declares them;
# sharpening is handled apart.
FILTER_ORDER = rendered_by("filter")


@dataclass(frozen=True)
class PlanContext:
    """What every phase reads: the request, the source header, the planned geometry."""

    request: ImageRequest
    layer0: Attributes
    source_width: int
    source_height: int
    geometry: LayerGeometry
    view: ViewGeometry
    output: OutputFormat
    attrs: CatalogAttributes
    layers: tuple[LayerPlan, ...] = ()  # layers 1 and above (render/layer_plan.py)
    solid: Color | None = None  # layer 0 is a solid colour (color= and size=, no source)
    # the header of every object the request names besides its source (layers' src=, mask=)
    layer_sources: Mapping[str, SourceInfo] = field(default_factory=dict)

    @property
    def kernel(self) -> str:
        return KERNELS[self.request.globals.value("resMode") or self.attrs.res_mode]

    @property
    def uniform(self) -> bool:
        """One resize reaches the view size (else a second, non-uniform one follows rotate,
        or, with layers above 0, the composite: layers are placed on an undistorted canvas)."""
        g, v = self.geometry, self.view
        layered = any(layer.number > 0 for layer in self.request.layers)
        return math.isclose(g.scale * v.sx, g.scale * v.sy) or not (g.rotate or layered)

    @property
    def composite_scale(self) -> float:
        """Working pixels per canvas pixel when layers are composited."""
        return self.view.sx if self.uniform else 1.0

    @property
    def first_scale(self) -> tuple[float, float]:
        """Layer pixels per source pixel after the first resize."""
        g, v = self.geometry, self.view
        if self.uniform:
            return g.scale * v.sx, g.scale * v.sy
        return g.scale, g.scale

    @property
    def layer0_scale(self) -> tuple[float, float]:
        """Layer 0's working pixels per canvas pixel (x, y): where its clip path and effects,
        given in canvas pixels, land."""
        fx, fy = self.first_scale
        return fx / self.geometry.scale, fy / self.geometry.scale


def _load(c: PlanContext) -> list[Step]:
    width, height, need = _load_size(c)
    if c.solid is not None:  # made at its size in working pixels: nothing to read or resize
        return [SolidColour(width, height, c.solid, "layer 0: color= and size=, no source")]
    where = "shrink-on-load, EXIF orientation and ICC to sRGB applied" if need < 1 else ""
    return [Load(width, height, need, where)]


def _load_size(c: PlanContext) -> tuple[int, int, float]:
    """What the load phase makes: width, height, and its scale of the source."""
    if c.solid is not None:
        fx, fy = c.first_scale
        return round_px(c.source_width * fx), round_px(c.source_height * fy), fx
    # Shrink-on-load: read the source at the scale the output needs (twice that when a kernel
    # other than lanczos3 must do the last reduction), never above full resolution.
    sx, sy = c.geometry.scale * c.view.sx, c.geometry.scale * c.view.sy
    need = min(1.0, max(sx, sy) * (1 if c.kernel == "lanczos3" else 2))
    return round_px(c.source_width * need), round_px(c.source_height * need), need


def _layer0(c: PlanContext) -> list[Step]:
    g, layer0 = c.geometry, c.layer0
    fx, fy = c.first_scale
    width, height, need = _load_size(c)
    limit = c.attrs.max_source_pixels
    mask = mask_source_step(
        layer0, (width, height), need, c.layer_sources, max_source_pixels=limit, where="layer 0"
    )
    steps: list[Step] = [mask] if mask else []
    if c.solid is None:
        if g.crops(c.source_width, c.source_height):
            steps.append(Crop(g.crop))
        size = round_px(g.crop.width * fx), round_px(g.crop.height * fy)
        steps.append(Resize(*size, c.kernel, "to the layer size in view pixels"))
    steps += mask_steps(layer0, scale=fx)
    filters = filter_steps(layer0, fx, "layer 0")
    steps += filters_with_grow(filters, layer0, radius_scale=c.layer0_scale[0])
    steps += sharpening_steps(layer0, fx, "layer 0")
    if "color" in layer0 and c.solid is None:
        steps.append(Fill(layer0.value("color"), "color=: behind transparent parts"))
    if "flip" in layer0:
        steps.append(Flip(layer0.value("flip"), "layer 0"))
    if g.rotate:
        steps.append(Rotate(g.rotate))
    e = g.extend
    if any((e.left, e.top, e.right, e.bottom)):
        edges = Edges(*(round(v * fx) for v in (e.left, e.top, e.right, e.bottom)))
        steps.append(Extend(edges))
    if "bgColor" in layer0:
        steps.append(Fill(layer0.value("bgColor"), "bgColor="))
    return steps + _clip_and_effects(c, layer0, c.layer0_scale, _layer0_effects(c), "layer 0")


def _layer0_effects(c: PlanContext) -> tuple[Effect, ...]:
    layer = c.request.layer(0)
    return layer.effects if layer else ()


def _clip_and_effects(
    c: PlanContext,
    scope: Attributes,
    scale: tuple[float, float],
    effects: tuple[Effect, ...],
    where: str,
) -> list[Step]:
    """A11 for layer 0 or C for comp: ``clipPath=`` and the effect layers, both given in
    canvas pixels, at ``scale`` working pixels per canvas pixel (x, y)."""
    steps: list[Step] = []
    clip = clip_step(scope, scale=scale[0], scale_y=scale[1])
    if clip is not None:
        steps.append(clip)
    canvas = round(c.geometry.width), round(c.geometry.height)
    drawn = effect_step(effects, canvas=canvas, radius_scale=scale[0], where=where)
    if drawn is not None:
        steps.append(drawn)
    return steps


def _composite(c: PlanContext) -> list[Step]:
    comp, g, v = c.request.comp, c.geometry, c.view
    steps: list[Step] = []
    if c.layers:
        # layer 0's own opacity and hide= fade the canvas only, before the layers go on it
        steps += _layer0_opacity(c)
        steps.append(Composite(c.layers, c.composite_scale))
    if not c.uniform:
        size = round_px(g.width * v.sx), round_px(g.height * v.sy)
        steps.append(Resize(*size, c.kernel, "view scale (non-uniform)"))
    if "flip" in comp:
        steps.append(Flip(comp.value("flip"), "composite"))
    steps += filters_with_grow(filter_steps(comp, v.sx, "composite"), comp, radius_scale=v.sx)
    steps += _clip_and_effects(c, comp, (v.sx, v.sy), c.request.comp_effects, "composite")
    if not c.layers:
        steps += _layer0_opacity(c)
    if "opac" in comp:
        steps.append(Opacity(comp.value("opac").opacity))
    return steps


def _layer0_opacity(c: PlanContext) -> list[Step]:
    steps: list[Step] = []
    if "opac" in c.layer0:
        steps.append(Opacity(c.layer0.value("opac").opacity))
    if c.layer0.value("hide"):
        steps.append(Opacity(0, "hide=1: layer 0 hidden, its canvas stays"))
    return steps


def _view(c: PlanContext) -> list[Step]:
    v = c.view
    x0, y0, w, h = v.tile
    x, y = v.ox - v.rx * v.sx, v.oy - v.ry * v.sy
    place = Place(v.extent[0], v.extent[1], x, y, Rect(x0, y0, w, h))
    return [place, *sharpening_steps(c.request.comp, v.sx, "final view")]


def _output(c: PlanContext) -> list[Step]:
    g, output, attrs = c.request.globals, c.output, c.attrs
    steps: list[Step] = []
    if not output.keeps_alpha:
        steps.append(Flatten(g.value("bgc") or attrs.bkg_color))
    icc = g.value("icc")
    if icc is not None or output.pixel_type not in (None, "rgb"):
        steps.append(OutputSpace(icc.profile if icc else None, output.pixel_type))
    quality = g.value("qlt") or attrs.jpeg_quality
    options = EncodeOptions(
        format=output.format,
        compression=output.compression,
        quality=quality.quality,
        full_chroma=quality.full_chroma,
        quantize=g.value("quantize"),
        jpeg_size=g.value("jpegSize", 0),
        embed_icc=bool(g.value("iccEmbed")),
        embed_xmp=bool(g.value("xmpEmbed")),
        print_res=g.value("printRes"),
    )
    return [*steps, Encode(options, output.media_type)]


# The fixed order of §6.0. A phase that has nothing to do returns no steps.
PHASES: tuple[tuple[str, Callable[[PlanContext], list[Step]]], ...] = (
    ("load", _load),
    ("layer 0", _layer0),
    ("composite", _composite),
    ("view", _view),
    ("output", _output),
)


def build_steps(context: PlanContext) -> tuple[Step, ...]:
    return tuple(step for _, build in PHASES for step in build(context))


def filter_steps(scope: Attributes, scale: float, where: str) -> list[Step]:
    return [Filter(name, scope.value(name), scale, where) for name in FILTER_ORDER if name in scope]


def sharpening_steps(scope: Attributes, scale: float, where: str) -> list[Step]:
    steps: list[Step] = []
    if scope.value("op_sharpen"):
        steps.append(Sharpen(where))
    usm = scope.get("op_usm")
    if usm is not None and usm.value.amount > 0:
        # D-30: op_usm's radius is at full resolution and shrinks with the image; op_usmR's not.
        factor = min(1.0, scale) if usm.name == "op_usm" else 1.0
        steps.append(UnsharpMask(usm.value, factor, f"{usm.name} {where}"))
    return steps
