"""The steps of a render plan: small frozen dataclasses that describe and apply themselves.

A plan (render/plan.py) is an ordered tuple of these, in the spirit of imgproxy's
``mainPipeline``. The renderer only loops: ``value = step.apply(value, ops)``, from ``Load``
(which ignores its input and reads the source) to ``Encode`` (which returns bytes).

Steps do their pixel work through ``ops``, an ``Ops``: the operations implemented on libvips
in render/vips/ops.py. So this module stays pure (no pyvips): ``isrender explain`` prints a
plan, and tests read one, without loading libvips.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from isrender.commands.colors import Color
from isrender.commands.formats import FORMATS, FormatSpec
from isrender.commands.values import Edges, Quantize, Rect, Unsharp
from isrender.render.layer_step_types import (
    ClipToPath,
    Composite,
    DrawEffects,
    DrawText,
    Fade,
    Grow,
    GrowMask,
    LayerPlan,
    MaskFrom,
    MaskWith,
    SolidColour,
)
from isrender.render.step_base import Image, Load, Step, show_value

if TYPE_CHECKING:
    from isrender.render.clip_path import ClipPath
    from isrender.render.effects import EffectParams, MaskUse

__all__ = [
    "ClipToPath",
    "Composite",
    "Crop",
    "DrawEffects",
    "DrawText",
    "Encode",
    "EncodeOptions",
    "Extend",
    "Fade",
    "Fill",
    "Filter",
    "Flatten",
    "Flip",
    "Grow",
    "GrowMask",
    "LayerPlan",
    "Load",
    "MaskFrom",
    "MaskWith",
    "Opacity",
    "Ops",
    "OutputSpace",
    "Place",
    "Resize",
    "Rotate",
    "Sharpen",
    "SolidColour",
    "Step",
    "UnsharpMask",
]


class Ops(Protocol):
    """The pixel operations steps are made of (render/vips/ops.py implements them)."""

    def load(self, step: Load) -> Image: ...
    def crop(self, image: Image, rect: Rect) -> Image: ...
    def resize(self, image: Image, width: int, height: int, kernel: str) -> Image: ...
    def filter(self, image: Image, name: str, value: Any, radius_scale: float) -> Image: ...
    def sharpen(self, image: Image) -> Image: ...
    def unsharp(self, image: Image, usm: Unsharp, radius_scale: float) -> Image: ...
    def fill(self, image: Image, color: Color) -> Image: ...
    def flip(self, image: Image, direction: str) -> Image: ...
    def rotate(self, image: Image, angle: float) -> Image: ...
    def extend(self, image: Image, edges: Edges) -> Image: ...
    def opacity(self, image: Image, percent: int) -> Image: ...
    def place(
        self, image: Image, x: float, y: float, view: tuple[int, int], tile: Rect
    ) -> Image: ...
    def flatten(self, image: Image, color: Color) -> Image: ...
    def output_space(self, image: Image, profile: str | None, pixel_type: str | None) -> Image: ...
    def encode(self, image: Image, options: EncodeOptions) -> bytes: ...
    def solid(self, width: int, height: int, color: Color) -> Image: ...
    def fade(self, image: Image, fraction: float) -> Image: ...
    def composite(self, canvas: Image, layers: tuple[LayerPlan, ...], scale: float) -> Image: ...
    def mask_use(self, image: Image, use: MaskUse) -> Image: ...
    def grow_mask(self, image: Image, pixels: int) -> Image: ...
    def grow(self, image: Image, pixels: int) -> Image: ...
    def clip(self, image: Image, path: ClipPath, exclude: ClipPath | None) -> Image: ...
    def text(self, step: DrawText) -> Image: ...
    def mask_from(self, image: Image, step: MaskFrom) -> Image: ...
    def effects(
        self, image: Image, effects: tuple[tuple[EffectParams, ...], tuple[EffectParams, ...]]
    ) -> Image: ...


@dataclass(frozen=True, slots=True)
class Crop(Step):
    name: ClassVar[str] = "crop"
    note: ClassVar[str] = "source pixels; outside the image is transparent"
    rect: Rect

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.crop(image, self.rect)


@dataclass(frozen=True, slots=True)
class Resize(Step):
    name: ClassVar[str] = "resize"
    width: int
    height: int
    kernel: str
    where: str = ""

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.resize(image, self.width, self.height, self.kernel)


@dataclass(frozen=True, slots=True)
class Filter(Step):
    """A colour or blur filter of §6.0 A5 (op_brightness ... op_noise)."""

    name: ClassVar[str] = "filter"
    command: str
    value: Any
    radius_scale: float
    where: str = ""

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.filter(image, self.command, self.value, self.radius_scale)


@dataclass(frozen=True, slots=True)
class Sharpen(Step):
    name: ClassVar[str] = "sharpen"
    where: str = ""

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.sharpen(image)


@dataclass(frozen=True, slots=True)
class UnsharpMask(Step):
    name: ClassVar[str] = "unsharp"
    usm: Unsharp
    radius_scale: float
    where: str = ""

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.unsharp(image, self.usm, self.radius_scale)


@dataclass(frozen=True, slots=True)
class Fill(Step):
    """A colour behind the transparent parts (color=, bgColor=)."""

    name: ClassVar[str] = "fill"
    color: Color
    where: str = ""

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.fill(image, self.color)


@dataclass(frozen=True, slots=True)
class Flip(Step):
    name: ClassVar[str] = "flip"
    direction: str
    where: str = ""

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.flip(image, self.direction)

    @property
    def reorders_rows(self) -> bool:
        return self.direction in ("ud", "lrud")


@dataclass(frozen=True, slots=True)
class Rotate(Step):
    name: ClassVar[str] = "rotate"
    note: ClassVar[str] = "clockwise; new corners transparent"
    angle: float

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.rotate(image, self.angle)

    @property
    def reorders_rows(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Extend(Step):
    name: ClassVar[str] = "extend"
    note: ClassVar[str] = "new area transparent"
    edges: Edges

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.extend(image, self.edges)


@dataclass(frozen=True, slots=True)
class Opacity(Step):
    name: ClassVar[str] = "opacity"
    percent: int
    where: str = ""

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.opacity(image, self.percent)


@dataclass(frozen=True, slots=True)
class Place(Step):
    """The composite on the view canvas, cut to the reply tile (rect=)."""

    name: ClassVar[str] = "place"
    note: ClassVar[str] = "view canvas; uncovered areas transparent"
    view_width: int
    view_height: int
    x: float
    y: float
    tile: Rect

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.place(image, self.x, self.y, (self.view_width, self.view_height), self.tile)


@dataclass(frozen=True, slots=True)
class Flatten(Step):
    name: ClassVar[str] = "flatten"
    note: ClassVar[str] = "formats without alpha; bgc ignores alpha"
    color: Color

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.flatten(image, self.color)


@dataclass(frozen=True, slots=True)
class OutputSpace(Step):
    name: ClassVar[str] = "colour"
    note: ClassVar[str] = "output space"
    profile: str | None
    pixel_type: str | None

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.output_space(image, self.profile, self.pixel_type)


@dataclass(frozen=True, slots=True)
class EncodeOptions:
    """Everything the encoder needs, typed (§6.3: fmt, qlt, quantize, jpegSize, icc/xmp...)."""

    format: str
    compression: str | None
    quality: int
    full_chroma: bool = False
    quantize: Quantize | None = None
    jpeg_size: int = 0
    embed_icc: bool = False
    embed_xmp: bool = False
    print_res: float | None = None

    @property
    def spec(self) -> FormatSpec:
        return FORMATS[self.format]


@dataclass(frozen=True, slots=True)
class Encode(Step):
    name: ClassVar[str] = "encode"
    options: EncodeOptions
    media_type: str = ""

    def apply(self, image: Image, ops: Ops) -> bytes:
        return ops.encode(image, self.options)

    def describe(self) -> str:
        o = self.options
        shown = ", ".join(f"{f.name}={show_value(getattr(o, f.name))}" for f in fields(o))
        return f"encode({shown})  # {self.media_type}"
