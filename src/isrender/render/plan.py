"""RenderPlan: a bound request plus the source's header -> a fixed-order list of small steps.

Pure (no pyvips): ``isrender explain SRC MODS`` prints it, tests read it, and render.py runs it.
The order is §6.0's: layer 0 (crop, scale, filters, color, flip, rotate, extend, bgColor),
composite (flip, filters, opacity), view (scale, place, tile), view sharpening, output.

Scaling is planned once: the source is loaded already reduced to the size the output needs
(shrink-on-load, ``Load.scale``), cropped, then resized to the exact layer size in view pixels.
Limits are checked here, before anything is decoded: source pixels from the header, MaxPix
and the render area from the planned reply size.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from isrender.commands.registry import LAYERS, NO_PIXELS, NOT_RENDERED, lookup
from isrender.commands.values import Size
from isrender.errors import (
    OutputLimitError,
    SourceNotFoundError,
    SourceTooLargeError,
    UnsupportedFeatureError,
)
from isrender.render.attributes import CatalogAttributes
from isrender.render.formats import OutputFormat, output_format
from isrender.render.geometry import (
    LayerGeometry,
    ViewGeometry,
    geometry_of,
    view_geometry,
)
from isrender.render.layer_steps import RENDERED_ABOVE_LAYER0
from isrender.render.layers import canvas_of
from isrender.render.nested import (
    NestedLoad,
    TextMeasurer,
    nested_notes,
    refuse_foreign,
    source_loads,
)
from isrender.render.phases import PlanContext, build_steps
from isrender.render.steps import Composite, Encode, LayerPlan, Load, Step
from isrender.request.bind import iter_commands
from isrender.request.model import Attributes, ImageRequest, NestedSource

if TYPE_CHECKING:
    from isrender.render.layer_plan import MeasuredText  # it imports this module's SourceInfo

__all__ = ["SOLID_LOADER", "RenderPlan", "SourceInfo", "plan", "solid_canvas"]

SOLID_LOADER = "solid"  # SourceInfo.loader of a layer 0 made of color= and size= (no source)
NestedPlanner = Callable[[NestedSource, str], NestedLoad]  # a layer's is{...}, where -> its plan


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What the header says, after EXIF orientation (width/height are as displayed)."""

    width: int
    height: int
    bands: int
    interpretation: str
    has_alpha: bool
    has_icc: bool
    orientation: int = 1
    pages: int = 1
    loader: str = ""
    bits: int = 8

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass(frozen=True)
class RenderPlan:
    source: SourceInfo
    layer: LayerGeometry
    view: ViewGeometry
    output: OutputFormat
    steps: tuple[Step, ...]
    ignored: tuple[str, ...] = ()  # commands with no effect here, one short line each

    @property
    def reply_size(self) -> tuple[int, int]:
        return self.view.reply_size

    @property
    def load(self) -> Load:
        first = self.steps[0]
        assert isinstance(first, Load)  # the load phase always plans one
        return first

    @property
    def encode(self) -> Encode:
        last = self.steps[-1]
        assert isinstance(last, Encode)  # the output phase always ends with one
        return last

    @property
    def layers(self) -> tuple[LayerPlan, ...]:
        """The layers above 0 (their own steps), from the Composite step if there is one."""
        composite = next((s for s in self.steps if isinstance(s, Composite)), None)
        return composite.layers if composite else ()

    def describe(self) -> str:
        return "\n".join(f"{i + 1:2}. {step.describe()}" for i, step in enumerate(self.steps))


def plan(
    request: ImageRequest,
    source: SourceInfo,
    attributes: CatalogAttributes | None = None,
    *,
    lenient: bool = False,
    layer_sources: Mapping[str, SourceInfo] | None = None,
    layer_texts: Mapping[int, MeasuredText] | None = None,
    depth: int = 0,
    layer0_nested: NestedLoad | None = None,
    measure_texts: TextMeasurer | None = None,
) -> RenderPlan:
    """The plan for ``request`` on ``source``; raises before any decoding when a limit or an
    unrendered feature is in the way (``lenient``: an unrendered command is ignored instead,
    and said so in ``RenderPlan.ignored``). ``layer_sources``: the header of every ``src=``
    object of the layers above 0, by name; ``layer_texts``: each text layer's layout and
    measured size, by layer number (render/vips/text.py measure_text_layer). ``depth``: how
    deep in nested requests this one is; ``layer0_nested``: layer 0's ``src=is{...}``, planned
    (render/nested.py plan_nested; ``source`` is then its nested_info); ``measure_texts``
    lays out the text layers of nested requests."""
    attrs = attributes or CatalogAttributes()
    if source.pixels > attrs.max_source_pixels:
        raise SourceTooLargeError(
            f"the source is {source.width}x{source.height} "
            f"({source.pixels / 1e6:.1f} Mpx), above the limit of "
            f"{attrs.max_source_pixels / 1e6:g} Mpx"
        )
    ignored = _check_renderable(request, lenient, nested_planned=layer0_nested is not None)
    layer0 = _layer0(request)
    g = request.globals
    solid = layer0.value("color") if source.loader == SOLID_LOADER else None
    geometry = _layer_geometry(layer0, source, attrs, solid=solid is not None)
    view = view_geometry(
        geometry.width,
        geometry.height,
        wid=g.value("wid"),
        hei=g.value("hei"),
        scl=g.value("scl"),
        fit=g.value("fit"),
        align=g.value("align"),
        rgn=g.value("rgn"),
        rect=g.value("rect"),
        dpr=g.value("dpr"),
        default_pix=attrs.default_pix,
        max_pix=attrs.max_pix,
    )
    _check_reply(view, attrs)
    output = output_format(request)
    context = PlanContext(
        request, layer0, source.width, source.height, geometry, view, output, attrs, solid=solid,
        layer_sources=layer_sources or {},
    )  # fmt: skip
    if any(layer.number > 0 for layer in request.layers):
        planner = _nested_planner(layer_sources or {}, attrs, lenient, depth, measure_texts)
        context = _with_layers(context, source, layer_sources or {}, layer_texts or {}, planner)
    steps = build_steps(context)
    if layer0_nested is not None:  # the nested result stands where the source's Load was
        steps = (layer0_nested, *steps[1:])
    _check_decoded_total(steps, attrs)
    if depth == 0:  # what nested plans ignored, anywhere in the tree
        ignored += tuple(nested_notes(steps))
    return RenderPlan(source, geometry, view, output, steps, ignored)


def _nested_planner(
    sources: Mapping[str, SourceInfo],
    attrs: CatalogAttributes,
    lenient: bool,
    depth: int,
    measure: TextMeasurer | None,
) -> NestedPlanner:
    """Plans a layer's ``src=is{...}`` one level deeper (render/nested.py)."""
    from isrender.render.nested import plan_nested  # it imports this module's plan()

    def planned(nested: NestedSource, where: str) -> NestedLoad:
        return plan_nested(nested, sources, attrs, lenient=lenient, depth=depth + 1, where=where,
                           measure=measure)  # fmt: skip

    return planned


def _with_layers(
    context: PlanContext,
    source: SourceInfo,
    layer_sources: Mapping[str, SourceInfo],
    layer_texts: Mapping[int, MeasuredText],
    plan_nested: NestedPlanner,
) -> PlanContext:
    """The context with the layers above 0 planned on layer 0's canvas, at the composite's
    working scale (which depends on the layers being there: PlanContext.uniform)."""
    from isrender.render.layer_plan import layer_plans  # it imports this module's SourceInfo

    canvas = canvas_of(context.layer0, context.geometry, Size(source.width, source.height))
    layers = layer_plans(
        context.request,
        canvas,
        layer_sources,
        scale=context.composite_scale,
        kernel=context.kernel,
        max_source_pixels=context.attrs.max_source_pixels,
        resolution=context.attrs.resolution,
        texts=layer_texts,
        plan_nested=plan_nested,
    )
    return replace(context, layers=layers)


def _check_decoded_total(steps: tuple[Step, ...], attrs: CatalogAttributes) -> None:
    """All the sources together, down layers and nested requests, as they will be decoded
    (after shrink-on-load), and the nested results, stay under the source limit: a composite
    of many big layers, or a tree of nested requests, is refused before decoding."""
    loads = list(source_loads(steps, results=True))
    total = sum(load.width * load.height for load in loads)
    if len(loads) > 1 and total > attrs.max_source_pixels:
        raise SourceTooLargeError(
            f"the layers' sources decode to {total / 1e6:.1f} Mpx together, above the limit "
            f"of {attrs.max_source_pixels / 1e6:g} Mpx"
        )


def _layer0(request: ImageRequest) -> Attributes:
    layer = request.layer(0)
    return layer.attributes if layer else Attributes()


def solid_canvas(request: ImageRequest) -> SourceInfo:
    """Layer 0 of a request that names no source image: a solid colour layer (``color=``
    with ``size=``, §6.4), as the "header" the plan starts from."""
    layer0 = _layer0(request)
    size = layer0.value("size")
    if "src" in layer0 or "color" not in layer0 or not (size and size.width and size.height):
        raise SourceNotFoundError(
            "the request names no source image, and layer 0 is not a solid colour "
            "(color= with size=, both sides above 0)"
        )
    return SourceInfo(size.width, size.height, 4, "srgb", True, False, loader=SOLID_LOADER)


def _check_renderable(
    request: ImageRequest, lenient: bool, *, nested_planned: bool = False
) -> tuple[str, ...]:
    """Refuse what cannot be rendered at all; for each command, its fate in the command table
    says whether it is rendered, ignored here (with a note) or not rendered yet."""
    req = request.globals.value("req")
    if req is not None and req.type != "img":
        raise UnsupportedFeatureError(f"req={req.type} is not answered by the renderer")
    content = _layer0(request).get("src")
    if content is not None and isinstance(content.value, NestedSource) and not nested_planned:
        refuse_foreign(content.value, "layer 0")  # names ir{}, fxg{} and {url}
        raise UnsupportedFeatureError("layer 0: its nested source was not planned")
    ignored: list[str] = []
    layered = any(layer.number > 0 for layer in request.layers)
    for scope, bound in iter_commands(request):
        spec = lookup(bound.name)
        fate = spec.renders if spec else NO_PIXELS
        above_layer0 = scope[:1] == "L" and scope != "L0" and "." not in scope
        if above_layer0 and bound.name in RENDERED_ABOVE_LAYER0:
            continue  # render/layer_plan.py draws these on layers >= 1
        if fate == NOT_RENDERED and "." not in scope:
            message = f"{bound.name}= is not rendered yet (a [layer] feature)"
            _unrendered(message, f"{bound.name}: not rendered yet", lenient, ignored)
        elif fate == LAYERS and not layered and "." not in scope:  # effects place their own
            ignored.append(f"{bound.name}: no effect on layer 0 alone (§6.6)")
    return tuple(ignored)


def _unrendered(message: str, note: str, lenient: bool, ignored: list[str]) -> None:
    if not lenient:
        raise UnsupportedFeatureError(message)
    ignored.append(note)


def _layer_geometry(
    layer0: Attributes, source: SourceInfo, attrs: CatalogAttributes, *, solid: bool = False
) -> LayerGeometry:
    # A solid layer 0 is exactly its size=; crop=, scale= and res= need a source (§7.4).
    return geometry_of(layer0, source.width, source.height, size=layer0.value("size"),
                       resolution=attrs.resolution, from_source=not solid)  # fmt: skip


def _check_reply(view: ViewGeometry, attrs: CatalogAttributes) -> None:
    w, h = view.reply_size
    mw, mh = attrs.max_pix
    if (mw and w > mw) or (mh and h > mh):
        raise OutputLimitError(f"the reply would be {w}x{h}, larger than MaxPix {mw}x{mh}")
    if w * h > attrs.max_render_pixels:
        raise OutputLimitError(
            f"the reply would be {w}x{h} ({w * h / 1e6:.1f} Mpx), above the render limit of "
            f"{attrs.max_render_pixels / 1e6:g} Mpx"
        )
