"""The steps of layers: layer content (solid colour, text), masks, clip paths, growing, and the
``Composite`` step with each layer's own plan (``LayerPlan``). Split from render/steps.py (the
base ``Step``, the ``Ops`` protocol and the core steps), which re-exports every name here, so
``from isrender.render.steps import X`` keeps working. Pure (no pyvips).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from isrender.commands.colors import Color
from isrender.render.clip_path import ClipPath
from isrender.render.effects import EffectParams, MaskUse
from isrender.render.layers import LayerPlacement
from isrender.render.step_base import Image, Load, Step, show_value
from isrender.render.text_layout import TextBox

if TYPE_CHECKING:
    from isrender.render.steps import Ops

__all__ = [
    "ClipToPath",
    "Composite",
    "DrawEffects",
    "DrawText",
    "Fade",
    "Grow",
    "GrowMask",
    "LayerPlan",
    "MaskFrom",
    "MaskWith",
    "SolidColour",
]


@dataclass(frozen=True, slots=True)
class SolidColour(Step):
    """A solid-colour layer's content: ``color`` (with its alpha) at the layer's size."""

    name: ClassVar[str] = "solid"
    width: int
    height: int
    color: Color
    where: str = ""

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.solid(self.width, self.height, self.color)


@dataclass(frozen=True, slots=True)
class Fade(Step):
    """A layer's content opacity (opac= opacity x fill), before color=/bgColor= fill it."""

    name: ClassVar[str] = "fade"
    opacity: float
    where: str = ""

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.fade(image, self.opacity)


@dataclass(frozen=True, slots=True)
class DrawText(Step):
    """A text layer's content: ``text`` (RTF or plain, as sent) drawn into ``box``."""

    name: ClassVar[str] = "text"
    note: ClassVar[str] = "Pango through libvips; auto-sized per §6.7"
    text: str
    box: TextBox
    strict: bool = True

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.text(self)

    def describe(self) -> str:
        shown = self.text if len(self.text) <= 40 else self.text[:37] + "..."
        b = self.box
        size = f"{b.width or 'auto'}x{b.height or 'auto'}"
        return f"text({b.dialect}={shown!r}, box={size}, dpi={b.dpi})  # {self.note}"


@dataclass(frozen=True, slots=True)
class MaskWith(Step):
    """``maskUse=``: the layer's alpha as its mask, inverted, or off (opaque, over black)."""

    name: ClassVar[str] = "mask"
    use: MaskUse

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.mask_use(image, self.use)


@dataclass(frozen=True, slots=True)
class GrowMask(Step):
    name: ClassVar[str] = "grow_mask"
    note: ClassVar[str] = "dilate (> 0) or erode the mask by a disc"
    pixels: int

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.grow_mask(image, self.pixels)


@dataclass(frozen=True, slots=True)
class Grow(Step):
    name: ClassVar[str] = "grow"
    note: ClassVar[str] = "op_grow: dilate (> 0) or erode every channel by a disc"
    pixels: int

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.grow(image, self.pixels)


@dataclass(frozen=True, slots=True)
class ClipToPath(Step):
    """Transparent outside ``path`` (and inside ``exclude``), in the layer's working pixels."""

    name: ClassVar[str] = "clip"
    note: ClassVar[str] = "outside the path transparent"
    path: ClipPath
    exclude: ClipPath | None = None

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.clip(image, self.path, self.exclude)

    def describe(self) -> str:
        left, top, right, bottom = self.path.bounds()
        cut = ", minus a path" if self.exclude is not None else ""
        return (f"clip({len(self.path.subpaths)} subpaths within {left:g},{top:g}-{right:g},"
                f"{bottom:g}{cut})  # {self.note}")  # fmt: skip


@dataclass(frozen=True, slots=True)
class MaskFrom(Load):
    """``mask=`` (§6.4, §6.0 A2): another object's alpha (or grey values) becomes the layer's
    mask, read at the size the layer's content has at this step (its own shrink-on-load, so
    crop and resize then apply to both), then ``maskUse=``. A ``Load``: it decodes a source,
    so it counts in the plan's decoded-pixel total."""

    name: ClassVar[str] = "layer_mask"
    note: ClassVar[str] = "mask= read at the content's size"
    source: str = ""
    use: MaskUse = "norm"

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.mask_from(image, self)


@dataclass(frozen=True, slots=True)
class DrawEffects(Step):
    """Effect layers of layer 0 or of the composite (§6.6), drawn inside the image's own
    rectangle: layer 0 is the canvas and clips, so an outer effect shows only within it."""

    name: ClassVar[str] = "effects"
    effects: tuple[tuple[EffectParams, ...], tuple[EffectParams, ...]]  # outer, inner
    where: str = ""

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.effects(image, self.effects)

    def describe(self) -> str:
        drawn = (*self.effects[0], *self.effects[1])
        lines = [f"effects({len(drawn)})  # {self.where}, inside its rectangle"]
        lines += [f"      effect={e.number}: {_effect_text(e)}" for e in drawn]
        return "\n".join(lines)


def _effect_text(e: EffectParams) -> str:
    where = "behind the layer" if e.kind == "outer" else "on the layer, inside its mask"
    return (f"{e.kind} rgb{e.rgb} alpha={e.alpha:.3g} blur={e.blur:g} grow={e.grow} "
            f"offset={e.dx},{e.dy} blend={e.blend}  # {where}")  # fmt: skip


@dataclass(frozen=True, slots=True)
class LayerPlan:
    """One layer above 0: where it goes (``placement``), the object its ``Load`` reads
    (``source``; None for a solid colour) and its own steps, from its content to the finished
    layer rectangle at the composite's working scale."""

    placement: LayerPlacement
    source: str | None
    steps: tuple[Step, ...]
    effects: tuple[tuple[EffectParams, ...], tuple[EffectParams, ...]] = ((), ())  # outer, inner

    def describe(self) -> str:
        lines = [self.placement.describe()]
        lines += [f"    {i + 1}. {step.describe()}" for i, step in enumerate(self.steps)]
        lines += [f"    effect={e.number}: {_effect_text(e)}" for e in (*self.effects[0],
                                                                    *self.effects[1])]  # fmt: skip
        return "\n".join(lines)

    @property
    def reorders_rows(self) -> bool:
        return any(step.reorders_rows for step in self.steps)


@dataclass(frozen=True, slots=True)
class Composite(Step):
    """Layers 1 and above drawn on layer 0 (the canvas, which clips them) in ascending number,
    at ``scale`` working pixels per canvas pixel; the view transform follows."""

    name: ClassVar[str] = "composite"
    note: ClassVar[str] = "layers on layer 0 in ascending number; layer 0 clips"
    layers: tuple[LayerPlan, ...]
    scale: float

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.composite(image, self.layers, self.scale)

    def describe(self) -> str:
        head = f"{self.name}(scale={show_value(self.scale)})  # {self.note}"
        lines = (line for layer in self.layers for line in layer.describe().splitlines())
        return "\n".join([head, *(f"      {line}" for line in lines)])
