"""VipsOps: the ``Ops`` of render/steps.py on pyvips, for one render.

A plan's steps call these; this object holds what a step should not have to know: how the
source was loaded (crop rectangles are in source pixels, the image may be shrunk on load),
the deployment's colour profiles, the source's XMP, and how to stop a render that runs late.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

import pyvips

from isrender.commands.colors import Color
from isrender.commands.values import Edges, Rect, Unsharp
from isrender.errors import RenderError
from isrender.render.nested import NestedLoad, nested_info
from isrender.render.plan import SourceInfo
from isrender.render.steps import EncodeOptions, Fade, LayerPlan, Load, MaskFrom, Step
from isrender.render.stop import StopSignal
from isrender.render.vips import composite, ops, save
from isrender.render.vips.effects import LayerPixels, draw_with_effects
from isrender.render.vips.mask import apply_mask

__all__ = ["LayerOpener", "VipsOps"]

# How a render reads another layer's source: its object name -> (a loader, its header).
LayerOpener = Callable[[str], tuple[Callable[[Load], pyvips.Image], SourceInfo]]
Computed = TypeVar("Computed")


def _effects_show(layer: LayerPlan) -> bool:
    """A layer whose content is invisible only through opac= (fill 0) still shows its effects
    (they inherit its mask, not its content opacity)."""
    p = layer.placement
    return any(layer.effects) and not p.hidden and p.visible is not None and p.kind != "empty"


class VipsOps(LayerPixels):
    def __init__(
        self,
        load: Callable[[Load], pyvips.Image],
        source: SourceInfo,
        *,
        hold_in_memory: bool,
        icc_profiles: Mapping[str, str],
        source_xmp: bool,
        stop: StopSignal | None = None,
        open_layer: LayerOpener | None = None,
    ) -> None:
        self._load, self._source = load, source
        self._hold, self._profiles, self._xmp = hold_in_memory, dict(icc_profiles), source_xmp
        self._stop = stop
        self._open_layer = open_layer
        self.killed = threading.Event()
        self.load_scale = (1.0, 1.0)
        self.reply_size = (0, 0)

    def load(self, step: Load) -> pyvips.Image:
        image = self._load(step)
        if self._hold:
            # The loader streams top to bottom; rotating or flipping upside down reads rows in
            # another order, so keep the (already reduced) image in memory for those.
            image = self.in_memory(image)
        self.load_scale = (image.width / self._source.width, image.height / self._source.height)
        return image

    def crop(self, image: pyvips.Image, rect: Rect) -> pyvips.Image:
        return ops.crop(image, rect, self.load_scale)

    def resize(self, image: pyvips.Image, width: int, height: int, kernel: str) -> pyvips.Image:
        return ops.resize(image, width, height, kernel)

    def filter(
        self, image: pyvips.Image, name: str, value: Any, radius_scale: float
    ) -> pyvips.Image:
        return ops.apply_filter(image, name, value, radius_scale)

    def sharpen(self, image: pyvips.Image) -> pyvips.Image:
        return ops.sharpen(image)

    def unsharp(self, image: pyvips.Image, usm: Unsharp, radius_scale: float) -> pyvips.Image:
        return ops.unsharp(image, usm, radius_scale)

    def fill(self, image: pyvips.Image, color: Color) -> pyvips.Image:
        return ops.fill(image, color)

    def flip(self, image: pyvips.Image, direction: str) -> pyvips.Image:
        return ops.flip(image, direction)

    def rotate(self, image: pyvips.Image, angle: float) -> pyvips.Image:
        return ops.rotate(image, angle)

    def extend(self, image: pyvips.Image, edges: Edges) -> pyvips.Image:
        return ops.extend(image, edges)

    def opacity(self, image: pyvips.Image, percent: int) -> pyvips.Image:
        return ops.opacity(image, percent)

    def place(
        self, image: pyvips.Image, x: float, y: float, view: tuple[int, int], tile: Rect
    ) -> pyvips.Image:
        return ops.place(image, x, y, view, tile)

    def flatten(self, image: pyvips.Image, color: Color) -> pyvips.Image:
        return ops.flatten(image, color)

    def output_space(
        self, image: pyvips.Image, profile: str | None, pixel_type: str | None
    ) -> pyvips.Image:
        return save.to_output_space(image, profile, pixel_type, self._profiles)

    def encode(self, image: pyvips.Image, options: EncodeOptions) -> bytes:
        """Pixels are computed here, as the encoder pulls them: where a stop kills them."""
        self.reply_size = (image.width, image.height)
        return self._stoppable(image, lambda: save.encode(image, options, self._xmp))

    def in_memory(self, image: pyvips.Image) -> pyvips.Image:
        """``image`` computed into memory (before the encode: a turn needs all its rows),
        stopped by a stop as the encode is."""
        return self._stoppable(image, image.copy_memory)

    def _stoppable(self, image: pyvips.Image, compute: Callable[[], Computed]) -> Computed:
        """``compute()``, which makes libvips compute ``image``: a stop meanwhile kills it."""
        if self._stop is None:
            return compute()
        forget = self._stop.listen(lambda: self._kill(image))
        try:
            return compute()
        finally:
            forget()

    def solid(self, width: int, height: int, color: Color) -> pyvips.Image:
        return composite.solid(width, height, color)

    def fade(self, image: pyvips.Image, fraction: float) -> pyvips.Image:
        return composite.with_opacity(image, fraction)

    def composite(
        self, canvas: pyvips.Image, layers: tuple[LayerPlan, ...], scale: float
    ) -> pyvips.Image:
        """Run each drawn layer's steps (with its own source, loaded as its plan says), then
        draw it on the canvas, in order; a layer's outer effects go below it, inner ones above
        (render/vips/effects.py), each blended with what the canvas holds."""
        for layer in layers:
            if not (layer.placement.drawn or _effects_show(layer)):
                continue
            value: Any = None
            layer_ops = self._for_layer(layer)
            for step in layer.steps:
                value = step.apply(value, layer_ops)
            if not any(layer.effects):
                canvas = composite.draw_layers(canvas, [(layer.placement, value)], scale)
                continue
            box, number = layer.placement.box(scale), layer.placement.number
            shape = value
            if layer.placement.opacity < 1:  # the effects' mask is the layer's before opac=
                shape = None
                for step in layer.steps:
                    shape = shape if isinstance(step, Fade) else step.apply(shape, layer_ops)

            def draw(under: Any, image: Any, x: int, y: int, blend: str, seed: int = number) -> Any:
                return composite.composite(under, image, x, y, blend=blend, seed=seed)

            canvas = draw_with_effects(canvas, value, box.x, box.y, layer.effects, draw,
                                       layer.placement.blend, shape)  # fmt: skip
        return canvas

    def mask_from(self, image: pyvips.Image, step: MaskFrom) -> pyvips.Image:
        """``mask=``: the object read at ``image``'s size, through the loader of layers."""
        if self._open_layer is None:  # plan_render always gives one: a programming error
            raise RenderError(f"mask {step.source!r} cannot be opened here")
        load, _ = self._open_layer(step.source)
        mask = load(replace(step, width=image.width, height=image.height))
        return apply_mask(image, mask, step.use)

    def nested(self, step: NestedLoad) -> pyvips.Image:
        """A nested request's result (render/nested.py): its plan run with its own source and
        layers, transparency kept; it is this ops' source image, at the nested reply size."""
        child = self._child(step.source, step.steps, any(s.reorders_rows for s in step.steps))
        value: Any = None
        for sub in step.steps:
            value = sub.apply(value, child)
        image: pyvips.Image = value if value.hasalpha() else value.bandjoin(255)
        if self._hold:
            image = self.in_memory(image)
        self.load_scale = (image.width / self._source.width, image.height / self._source.height)
        return image

    def _for_layer(self, layer: LayerPlan) -> VipsOps:
        """Ops whose ``load`` reads the layer's own source (crop rectangles are in its pixels)."""
        if layer.source is None and not (layer.steps and isinstance(layer.steps[0], NestedLoad)):
            return self  # a solid colour or text: nothing to load
        return self._child(layer.source, layer.steps, layer.reorders_rows)

    def _child(self, name: str | None, steps: tuple[Step, ...], hold: bool) -> VipsOps:
        """Ops for a sub-plan (a layer's, a nested request's) whose first step reads the
        object ``name``, or a nested result, or nothing (a solid colour)."""
        first = steps[0] if steps else None
        if name is not None:
            if self._open_layer is None:  # plan_render always gives one: a programming error
                raise RenderError(f"layer source {name!r} cannot be opened here")
            load, info = self._open_layer(name)
        elif isinstance(first, NestedLoad):
            load, info = self._load, nested_info(first)
        else:
            load, info = self._load, self._source
        child = VipsOps(load, info, hold_in_memory=hold, icc_profiles=self._profiles,
                        source_xmp=False, stop=self._stop, open_layer=self._open_layer)  # fmt: skip
        child.font_map = self.font_map  # text layers of nested requests use the same fonts
        child.killed = self.killed  # a stop in a sub-plan's in_memory is the render's stop
        return child

    def _kill(self, image: pyvips.Image) -> None:
        """Stop ``image``'s computation (and everything upstream) at libvips' next tile; called
        from the thread that stops the render. libvips only sets a flag that its workers read."""
        self.killed.set()
        image.set_kill(True)
