"""Nested Image Serving requests as layer sources (spec §1.10, §2.5, D-43). Pure: no pyvips.

``src=is{object?modifiers}`` (or ``is(...)``) makes the nested request's reply the layer's
source image. The nested request is planned by the same planner as any request: its object
(or its own layer 0 ``src=``) resolved by the same resolver as the outer request's layer
sources, its own size commands and layers. What §1.10 ignores inside a nested request (fmt,
qlt, iccEmbed, printRes, quantize, req, bgc, and the nested catalog's DefaultPix and MaxPix) is
dropped before planning, and the nested plan stops before flattening and encoding: the nested
result keeps its transparency (D-43), which then masks the layer like any source's alpha.

A ``NestedLoad`` step stands where a ``Load`` would: its ``steps`` are the nested plan's, and
``explain`` prints them indented under it. Limits hold across the whole tree before anything
is decoded: the depth (``CatalogAttributes.max_nesting_depth``) here, and the pixels all the
sources decode to and the nested results, together (``max_source_pixels``: render/plan.py,
over ``source_loads``).

``ir{...}`` (Image Rendering), ``fxg{...}`` and foreign ``{url}`` sources are refused, naming
what they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

from isrender.errors import NestingLimitError, SourceNotFoundError, UnsupportedFeatureError
from isrender.language import NestedKind
from isrender.render.attributes import CatalogAttributes
from isrender.render.steps import (
    Composite,
    Encode,
    Flatten,
    Load,
    Ops,
    OutputSpace,
    Step,
)
from isrender.request.model import Attributes, ImageRequest, NestedSource

if TYPE_CHECKING:
    from isrender.render.layer_plan import MeasuredText
    from isrender.render.plan import SourceInfo

__all__ = [
    "IGNORED_IN_NESTED",
    "NESTED_LOADER",
    "NestedLoad",
    "NestedOps",
    "TextMeasurer",
    "layer0_content",
    "nested_info",
    "nested_notes",
    "nested_object",
    "plan_nested",
    "refuse_foreign",
    "source_loads",
]

Image = Any  # a pyvips.Image at run time; opaque here, as in render/steps.py

# §1.10: commands a nested IS request ignores (the outer request encodes the reply); icc= is
# not applied either: a nested result stays sRGB, in the outer request's output space.
IGNORED_IN_NESTED = ("fmt", "qlt", "iccEmbed", "printRes", "quantize", "req", "bgc", "icc")
NESTED_LOADER = "nested"  # SourceInfo.loader of a nested request's result

# What each refused group is, for the error message.
_FOREIGN = {
    NestedKind.IR: "ir{...} (an embedded Image Rendering request)",
    NestedKind.FXG: "fxg{...} (an embedded FXG render request)",
    NestedKind.URL: "{url} (a foreign image fetched by URL)",
}


# Lays out a request's text layers on its canvas (width, height) before planning: the renderer
# passes one down, so text layers of nested requests are measured like the outer request's.
TextMeasurer = Callable[[ImageRequest, tuple[int, int]], Mapping[int, "MeasuredText"]]

_EMPTY = ImageRequest(Attributes(), Attributes(), (), ())


class NestedOps(Ops, Protocol):
    """The operation ``NestedLoad`` needs besides ``Ops`` (render/vips/executor.py)."""

    def nested(self, step: NestedLoad) -> Image: ...


@dataclass(frozen=True, slots=True)
class NestedLoad(Load):
    """A nested request's result as a source image of its reply size (``width`` x
    ``height``, ``scale`` 1): ``steps`` is its plan up to the view (no flatten, no encode),
    ``source`` the object its layer 0 reads (None: a solid colour or another nested request)."""

    name: ClassVar[str] = "nested"
    note: ClassVar[str] = "is{...}: its own plan, transparency kept (D-43)"
    source: str | None = None
    steps: tuple[Step, ...] = ()
    ignored: tuple[str, ...] = field(default=(), compare=False)

    def apply(self, image: Image, ops: Ops) -> Image:
        return cast(NestedOps, ops).nested(self)

    def describe(self) -> str:
        shown = f"object={self.source!r}" if self.source else "no object"
        why = ", ".join(w for w in (self.note, self.where) if w)
        lines = [f"{self.name}({self.width}x{self.height}, {shown})  # {why}"]
        for number, step in enumerate(self.steps, 1):
            first, *more = step.describe().splitlines()
            lines.append(f"      {number}. {first}")
            lines += [f"      {line}" for line in more]
        return "\n".join(lines)


def layer0_content(request: ImageRequest) -> str | NestedSource | None:
    """Layer 0's ``src=``: an object name, a nested group, or None (the URL object, or a
    solid colour, is layer 0's source then: §1.9)."""
    layer = request.layer(0)
    bound = layer.attributes.get("src") if layer else None
    if bound is None or bound.name != "src":
        return None
    value = bound.value
    return value if isinstance(value, str | NestedSource) else None


def nested_object(nested: NestedSource) -> str | None:
    """The object a nested IS request's layer 0 reads: its own layer 0 ``src=`` › the
    group's object › None (a solid colour, or a nested request inside it)."""
    inner = nested.request
    content = layer0_content(inner) if inner is not None else None
    if isinstance(content, NestedSource):
        return None
    if inner is not None and "template" in inner.globals:
        return content or None  # the template's own layer 0; the object is its $object$
    return content or nested.object or None


def refuse_foreign(nested: NestedSource, where: str) -> None:
    """ir{}, fxg{} and {url} sources are not rendered: say which one was met."""
    if nested.kind is not NestedKind.IS:
        raise UnsupportedFeatureError(
            f"{where}: {_FOREIGN[nested.kind]} sources are not supported; "
            "only nested Image Serving requests (is{...}) are rendered"
        )


def nested_info(step: NestedLoad) -> SourceInfo:
    """The "header" of a nested result: its reply size, RGBA."""
    from isrender.render.plan import SourceInfo

    return SourceInfo(step.width, step.height, 4, "srgb", True, False, loader=NESTED_LOADER)


def plan_nested(
    nested: NestedSource,
    sources: Mapping[str, SourceInfo],
    attributes: CatalogAttributes,
    *,
    lenient: bool,
    depth: int,
    where: str,
    measure: TextMeasurer | None = None,
) -> NestedLoad:
    """The nested request's plan as a ``NestedLoad`` (``depth``: 1 for a group in the
    top-level request). ``sources`` has the header of every object in the whole tree;
    ``measure`` lays out text layers (without it, a nested text layer is refused)."""
    from isrender.render.plan import plan, solid_canvas

    refuse_foreign(nested, where)
    if depth > attributes.max_nesting_depth:
        raise NestingLimitError(
            f"{where}: nested requests go deeper than {attributes.max_nesting_depth} levels"
        )
    # binding gives every is{} group a request (an empty one for ``is{photo}``)
    request, dropped = _without_ignored(nested.request or _EMPTY)
    # §1.10: the nested catalog's DefaultPix and MaxPix do not apply
    attrs = replace(attributes, default_pix=(0, 0), max_pix=(0, 0))
    content = layer0_content(request)
    inner: NestedLoad | None = None
    name = nested_object(nested)
    if isinstance(content, NestedSource):
        inner = plan_nested(content, sources, attributes, lenient=lenient, depth=depth + 1,
                            where=f"{where} > layer 0", measure=measure)  # fmt: skip
        info = nested_info(inner)
    elif name is None:
        info = solid_canvas(request)
    else:
        found = sources.get(name)
        if found is None:  # the renderer reads every object's header before planning
            raise SourceNotFoundError(f"{where}: source {name!r} not found")
        info = found
    texts = measure(request, (info.width, info.height)) if measure else None
    result = plan(request, info, attrs, lenient=lenient, layer_sources=sources, depth=depth,
                  layer0_nested=inner, layer_texts=texts, measure_texts=measure)  # fmt: skip
    steps = tuple(s for s in result.steps if not isinstance(s, Flatten | OutputSpace | Encode))
    width, height = result.reply_size
    notes = tuple(f"{where} is{{}}: {line}" for line in (*dropped, *result.ignored))
    return NestedLoad(width, height, 1.0, where, source=name, steps=steps, ignored=notes)


def _without_ignored(request: ImageRequest) -> tuple[ImageRequest, tuple[str, ...]]:
    """The request without the commands a nested request ignores, and a note for each."""
    kept = tuple(c for c in request.globals if c.name not in IGNORED_IN_NESTED)
    dropped = tuple(
        f"{c.name}: ignored in a nested request (§1.10)"
        for c in request.globals
        if c.name in IGNORED_IN_NESTED
    )
    if not dropped:
        return request, ()
    return replace(request, globals=Attributes(kept)), dropped


def source_loads(steps: Iterable[Step], *, results: bool = False) -> Iterator[Load]:
    """Every source decode of a plan, down the whole tree (layers, nested requests): the
    ``Load`` steps that read a file, and with ``results`` the nested results too (images
    made in memory, as big as a decode)."""
    for step in steps:
        if isinstance(step, NestedLoad):
            if results:
                yield step
            yield from source_loads(step.steps, results=results)
        elif isinstance(step, Load):
            yield step
        elif isinstance(step, Composite):
            for layer in step.layers:
                yield from source_loads(layer.steps, results=results)


def nested_notes(steps: Iterable[Step]) -> Iterator[str]:
    """What the nested plans of a plan ignored, down the whole tree (the top-level
    ``RenderPlan.ignored`` carries them)."""
    for step in steps:
        if isinstance(step, NestedLoad):
            yield from step.ignored
            yield from nested_notes(step.steps)
        elif isinstance(step, Composite):
            for layer in step.layers:
                yield from nested_notes(layer.steps)
