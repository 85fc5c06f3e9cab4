"""The typed steps of masks, clip paths, growing and text (render/layer_steps.py), built from
layer commands and applied through the libvips ``LayerPixels``; effects drawn on a canvas."""

from __future__ import annotations

import pytest
import pyvips

from isrender.language import parse
from isrender.macros.registry import expand
from isrender.render.layer_steps import (
    clip_step,
    grow_step,
    layer_effects,
    mask_steps,
    text_step,
)
from isrender.render.steps import DrawText, Grow, GrowMask, MaskWith, Step
from isrender.render.text_layout import text_layout
from isrender.render.vips.effects import LayerPixels, draw_with_effects
from isrender.render.vips.text import measure_text_layer
from isrender.request.bind import bind
from isrender.request.model import Attributes, Layer
from isrender.text.fonts import default_font_map


def layer_of(mods: str) -> Layer:
    return bind(expand(parse(f"layer=1&{mods}"))).layers[-1]


def attrs(mods: str) -> Attributes:
    return layer_of(mods).attributes


def square() -> pyvips.Image:
    alpha = pyvips.Image.black(100, 100).draw_rect(255, 25, 25, 50, 50, fill=True)
    colour = pyvips.Image.black(100, 100).new_from_image([0, 128, 0])
    return colour.bandjoin(alpha).cast("uchar").copy(interpretation="srgb")


@pytest.mark.parametrize(
    ("mods", "scale", "steps"),
    [
        ("src=a", 1.0, ()),
        ("src=a&maskUse=norm", 1.0, ()),
        ("src=a&maskUse=invert", 1.0, (MaskWith("invert"),)),
        ("src=a&op_growMask=10", 0.5, (GrowMask(5),)),  # D-30: scaled with the image
        ("src=a&op_growMaskR=10", 0.5, (GrowMask(10),)),  # as written
        ("src=a&maskUse=off&op_growMask=-4", 2.0, (MaskWith("off"), GrowMask(-4))),
    ],
)
def test_mask_steps(mods: str, scale: float, steps: tuple[Step, ...]) -> None:
    assert mask_steps(attrs(mods), scale=scale) == steps


@pytest.mark.parametrize(
    ("mods", "radius_scale", "step"),
    [("src=a", 1.0, None), ("src=a&op_grow=4", 0.5, Grow(2)), ("src=a&op_grow=-6", 1.0, Grow(-6))],
)
def test_grow_step(mods: str, radius_scale: float, step: Grow | None) -> None:
    assert grow_step(attrs(mods), radius_scale=radius_scale) == step


@pytest.mark.parametrize(
    ("mods", "bounds", "excluded"),
    [
        ("src=a&clipPath=M10,10L110,10L110,60Z", (5.0, 5.0, 55.0, 30.0), False),
        ("src=a&clipPath=M0,0L100,0L100,100Z&clipXPath=M0,0L10,0L10,10Z", (0, 0, 50, 50), True),
        ("src=a&clipXPath=M0,0L10,0L10,10Z", None, False),  # ignored without a clip path
        ("src=a&clipPathE=outline", None, False),  # embedded paths: not definitions
    ],
)
def test_clip_step_scales_the_paths(
    mods: str, bounds: tuple[float, ...] | None, excluded: bool
) -> None:
    step = clip_step(attrs(mods), scale=0.5)
    if bounds is None:
        assert step is None
        return
    assert step is not None and step.path.bounds() == pytest.approx(bounds)
    assert (step.exclude is not None) == excluded
    assert step.describe().startswith("clip(1 subpaths")


def test_steps_apply_through_layer_pixels() -> None:
    ops = LayerPixels()
    image = square()
    inverted = MaskWith("invert").apply(image, ops)  # type: ignore[arg-type]
    assert inverted.getpoint(5, 5)[3] == 255 and inverted.getpoint(50, 50)[3] == 0
    grown = GrowMask(5).apply(image, ops)  # type: ignore[arg-type]
    assert grown.getpoint(22, 50)[3] == 255 and image.getpoint(22, 50)[3] == 0
    step = clip_step(attrs("src=a&clipPath=M0,0L50,0L50,100L0,100Z"))
    assert step is not None
    clipped = step.apply(image, ops)  # type: ignore[arg-type]
    assert clipped[3].avg() / 255 * 100 * 100 == pytest.approx(25 * 50, rel=0.01)


def test_text_step_draws_what_planning_measured() -> None:
    a = attrs(r"textPs={\rtf1\fs48 Sale}&size=0,0")
    layout, size = measure_text_layer(a, default_font_map())
    step = text_step(a, layout.box)
    assert isinstance(step, DrawText) and step.describe().startswith("text(textPs=")
    image = step.apply(None, LayerPixels())  # type: ignore[arg-type]
    assert (image.width, image.height) == size and image.bands == 4
    assert text_step(attrs("src=a"), text_layout(a).box) is None


def test_effects_draw_below_and_above_through_the_compositor() -> None:
    layer = layer_of("src=a&opac=80&effect=2&$glow$&effect=-1&$shadow$&effect=1&$shadow$")
    outer, inner = layer_effects(layer, canvas=(200, 200))
    assert [p.number for p in outer] == [-1] and [p.number for p in inner] == [1, 2]
    assert outer[0].alpha == pytest.approx(0.75 * 0.8)  # parent opacity x effect opacity
    calls: list[str] = []

    def draw(canvas: pyvips.Image, image: pyvips.Image, x: int, y: int, blend: str) -> pyvips.Image:
        calls.append(blend)
        return canvas.composite2(image, "over", x=x, y=y).cast("uchar")

    white = pyvips.Image.black(200, 200).new_from_image([255, 255, 255, 255]).cast("uchar")
    result = draw_with_effects(white.copy(interpretation="srgb"), square(), 50, 50,
                               (outer, inner), draw)  # fmt: skip
    assert calls == ["mult", "norm", "mult", "screen"]
    assert result.getpoint(50 + 78, 50 + 78)[0] < 200  # the drop shadow past the square
    assert result.getpoint(50 + 20, 50 + 20)[:3] == [255, 255, 255]  # nothing the other side
