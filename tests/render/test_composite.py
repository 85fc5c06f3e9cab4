"""Compositing on libvips (render/vips/composite.py) against reference formulas computed here in
Python, pixel by pixel, on small images: opacity, clipping by layer 0, and the blend modes norm,
dissolve, lighten, darken, mult and screen. Tolerance: 1 level of 255 per channel (rounding);
where the expected alpha is 0 only the alpha is compared (the colour of a transparent pixel
means nothing)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
import pyvips

from isrender.commands.colors import Color, ColorSpace
from isrender.commands.values import Size
from isrender.language import parse
from isrender.macros import expand
from isrender.render.geometry import layer_geometry
from isrender.render.layers import Canvas, LayerPlacement, canvas_of, place_layers
from isrender.render.vips.composite import (
    BLEND_MODES,
    composite,
    dissolve_threshold,
    draw_layers,
    solid,
    with_opacity,
)
from isrender.request import bind

Pixel = tuple[int, ...]
TOLERANCE = 1

# A 6x5 backdrop: opaque, translucent and fully transparent pixels of different colours.
CANVAS_PIXELS: list[Pixel] = [
    (200, 100, 50, 255), (10, 250, 128, 128), (90, 90, 90, 30), (255, 255, 255, 0),
    (0, 0, 0, 255), (255, 255, 255, 255),
] * 5  # fmt: skip
# A 4x3 layer: opaque, half, faint and clear pixels.
LAYER_PIXELS: list[Pixel] = [
    (0, 0, 255, 255), (250, 20, 100, 128), (128, 128, 128, 64), (40, 200, 10, 0),
    (255, 0, 0, 255), (30, 60, 90, 200), (255, 255, 0, 10), (5, 5, 5, 250),
    (100, 200, 250, 255), (0, 0, 0, 128), (255, 255, 255, 255), (60, 70, 80, 1),
]  # fmt: skip

SEPARABLE: dict[str, Callable[[float, float], float]] = {
    "norm": lambda cb, cs: cs,
    "mult": lambda cb, cs: cb * cs,
    "screen": lambda cb, cs: cb + cs - cb * cs,
    "darken": min,
    "lighten": max,
}


def image_of(pixels: Sequence[Pixel], width: int) -> pyvips.Image:
    bands = len(pixels[0])
    data = bytes(v for pixel in pixels for v in pixel)
    image = pyvips.Image.new_from_memory(data, width, len(pixels) // width, bands, "uchar")
    return image.copy(interpretation="srgb")


def pixels_of(image: pyvips.Image) -> list[Pixel]:
    data = image.cast("uchar").write_to_memory()
    bands = image.bands
    return [tuple(data[i : i + bands]) for i in range(0, len(data), bands)]


def reference_blend(backdrop: Pixel, layer: Pixel, mode: str, opacity: float = 1.0) -> Pixel:
    """The W3C compositing formula with a separable blend function B (module docstring)."""
    cb, ab = [c / 255 for c in backdrop[:3]], (backdrop[3] if len(backdrop) > 3 else 255) / 255
    layer_alpha = (layer[3] if len(layer) > 3 else 255) * opacity
    as_ = int(layer_alpha + 0.5) / 255  # the layer's alpha is quantised to 8 bits first
    cs = [c / 255 for c in layer[:3]]
    ao = as_ + ab * (1 - as_)
    out = []
    for b, s in zip(cb, cs, strict=True):
        co = s * as_ * (1 - ab) + b * ab * (1 - as_) + as_ * ab * SEPARABLE[mode](b, s)
        out.append(co / ao * 255 if ao else 0.0)
    return (*(round(v) for v in out), round(ao * 255))


def expected_composite(
    canvas: list[Pixel],
    canvas_width: int,
    layer: list[Pixel],
    layer_width: int,
    x: int,
    y: int,
    blend: Callable[[Pixel, Pixel], Pixel],
) -> list[Pixel]:
    """The canvas with ``blend`` applied where the layer (top-left at x,y) covers it."""
    out = list(canvas)
    for index, backdrop in enumerate(canvas):
        cx, cy = index % canvas_width, index // canvas_width
        lx, ly = cx - x, cy - y
        if 0 <= lx < layer_width and 0 <= ly < len(layer) // layer_width:
            out[index] = blend(backdrop, layer[ly * layer_width + lx])
    return out


def assert_pixels_close(got: list[Pixel], expected: list[Pixel]) -> None:
    assert len(got) == len(expected)
    for index, (g, e) in enumerate(zip(got, expected, strict=True)):
        channels = range(len(e)) if len(e) < 4 or e[3] > 0 else [3]
        worst = max(abs(g[c] - e[c]) for c in channels)
        assert worst <= TOLERANCE, f"pixel {index}: got {g}, expected {e}"


MODES = ("norm", "mult", "screen", "darken", "lighten")
POSITIONS = [(1, 1), (0, 0), (-2, -1), (4, 3), (3, -2)]  # inside, corner, and clipped three ways


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("x", "y"), POSITIONS)
@pytest.mark.parametrize("opacity", [1.0, 0.5])
def test_blend_modes_match_the_reference_formula(mode: str, x: int, y: int, opacity: float) -> None:
    canvas, layer = image_of(CANVAS_PIXELS, 6), image_of(LAYER_PIXELS, 4)
    result = composite(canvas, layer, x, y, blend=mode, opacity=opacity)
    assert (result.width, result.height, result.bands) == (6, 5, 4)
    expected = expected_composite(
        CANVAS_PIXELS, 6, LAYER_PIXELS, 4, x, y,
        lambda b, s: reference_blend(b, s, mode, opacity),
    )  # fmt: skip
    assert_pixels_close(pixels_of(result), expected)


@pytest.mark.parametrize("mode", MODES)
def test_an_opaque_canvas_stays_opaque_rgb(mode: str) -> None:
    rgb_canvas = [p[:3] for p in CANVAS_PIXELS]
    canvas = image_of(rgb_canvas, 6)
    result = composite(canvas, image_of(LAYER_PIXELS, 4), 2, 1, blend=mode)
    assert result.bands == 3
    expected = expected_composite(
        rgb_canvas, 6, LAYER_PIXELS, 4, 2, 1,
        lambda b, s: reference_blend((*b, 255), s, mode)[:3],
    )  # fmt: skip
    assert_pixels_close(pixels_of(result), expected)


@pytest.mark.parametrize(("x", "y"), [(6, 0), (0, 5), (-4, 0), (0, -3), (100, -100)])
def test_a_layer_outside_the_canvas_changes_nothing(x: int, y: int) -> None:
    canvas = image_of(CANVAS_PIXELS, 6)
    result = composite(canvas, image_of(LAYER_PIXELS, 4), x, y, blend="mult")
    assert pixels_of(result) == CANVAS_PIXELS


def test_zero_opacity_changes_nothing() -> None:
    canvas = image_of(CANVAS_PIXELS, 6)
    assert pixels_of(composite(canvas, image_of(LAYER_PIXELS, 4), 1, 1, opacity=0)) == (
        CANVAS_PIXELS
    )


def test_a_layer_without_alpha_is_opaque() -> None:
    canvas = image_of(CANVAS_PIXELS, 6)
    rgb_layer = [p[:3] for p in LAYER_PIXELS]
    result = composite(canvas, image_of(rgb_layer, 4), 1, 1, blend="screen", opacity=0.5)
    expected = expected_composite(
        CANVAS_PIXELS, 6, rgb_layer, 4, 1, 1,
        lambda b, s: reference_blend(b, s, "screen", 0.5),
    )  # fmt: skip
    assert_pixels_close(pixels_of(result), expected)


def test_e181_arithmetic_half_opaque_blue_over_white() -> None:
    # E-181's logo block (opaque blue) at opac=50 over a white canvas: 255 x (1 - 128/255) = 127
    # in red and green (the alpha is 128 after 8-bit rounding), within the tolerance
    white = solid(4, 4, Color(ColorSpace.RGB, (1.0, 1.0, 1.0)))[:3]
    blue = solid(2, 2, Color(ColorSpace.RGB, (0.0, 0.0, 1.0)))
    pixels = pixels_of(composite(white, blue, 3, 1, opacity=0.5))
    assert_pixels_close([pixels[1 * 4 + 3]], [(127, 127, 255)])  # covered: the layer's column 0
    assert pixels[1 * 4 + 2] == (255, 255, 255)  # left of the layer
    assert pixels[3 * 4 + 3] == (255, 255, 255)  # below it


# ---- dissolve ---------------------------------------------------------------------------------


def dissolve_reference(
    canvas: list[Pixel], x: int, y: int, seed: int, opacity: float
) -> list[Pixel]:
    """Each layer pixel fully opaque where the noise (0..1) x 255 is below its alpha, else
    absent; then drawn normally."""
    noise = dissolve_threshold(4, 3, seed)
    expected = list(canvas)
    for ly in range(3):
        for lx in range(4):
            cx, cy = x + lx, y + ly
            if not (0 <= cx < 6 and 0 <= cy < 5):
                continue
            source = LAYER_PIXELS[ly * 4 + lx]
            alpha = int(source[3] * opacity + 0.5)
            kept = 255 if noise.getpoint(lx, ly)[0] * 255 < alpha else 0
            expected[cy * 6 + cx] = reference_blend(
                canvas[cy * 6 + cx], (*source[:3], kept), "norm"
            )
    return expected


@pytest.mark.parametrize(("x", "y", "seed", "opacity"), [(1, 1, 0, 1.0), (-1, 1, 11, 0.8)])
def test_dissolve_matches_the_reference(x: int, y: int, seed: int, opacity: float) -> None:
    canvas, layer = image_of(CANVAS_PIXELS, 6), image_of(LAYER_PIXELS, 4)
    result = composite(canvas, layer, x, y, blend="dissolve", seed=seed, opacity=opacity)
    assert_pixels_close(pixels_of(result), dissolve_reference(CANVAS_PIXELS, x, y, seed, opacity))


@pytest.mark.parametrize("alpha", [32, 128, 230])
def test_dissolve_shows_a_share_of_pixels_equal_to_the_alpha(alpha: int) -> None:
    black = image_of([(0, 0, 0)] * (128 * 128), 128)
    white = solid(128, 128, Color(ColorSpace.RGB, (1.0, 1.0, 1.0), alpha / 255))
    result = composite(black, white, 0, 0, blend="dissolve", seed=3)
    values = set(pixels_of(result))
    assert values <= {(0, 0, 0), (255, 255, 255)}  # never a mix: whole pixels or nothing
    share = result[0].avg() / 255
    assert share == pytest.approx(alpha / 255, abs=0.02)  # 16384 draws: sd < 0.004


def test_dissolve_is_reproducible_and_follows_the_seed() -> None:
    canvas = image_of([(0, 0, 0)] * (64 * 64), 64)
    layer = solid(64, 64, Color(ColorSpace.RGB, (1.0, 1.0, 1.0), 0.5))
    first = composite(canvas, layer, 0, 0, blend="dissolve", seed=5)
    again = composite(canvas, layer, 0, 0, blend="dissolve", seed=5)
    other = composite(canvas, layer, 0, 0, blend="dissolve", seed=6)
    assert pixels_of(first) == pixels_of(again)
    assert pixels_of(first) != pixels_of(other)


def test_dissolve_noise_is_tied_to_the_layer_not_to_the_clipping() -> None:
    # the same layer pixel gets the same decision whether or not the layer is clipped
    canvas = image_of([(0, 0, 0)] * (64 * 64), 64)
    layer = solid(64, 64, Color(ColorSpace.RGB, (1.0, 1.0, 1.0), 0.5))
    whole = composite(canvas, layer, 0, 0, blend="dissolve", seed=9)
    shifted = composite(canvas, layer, -10, -20, blend="dissolve", seed=9)
    assert pixels_of(shifted.crop(0, 0, 54, 44)) == pixels_of(whole.crop(10, 20, 54, 44))


def test_dissolve_threshold_is_uniform() -> None:
    noise = dissolve_threshold(200, 200, 1)
    assert noise.min() >= 0 and noise.max() <= 1
    histogram = (noise * 10).cast("uchar").hist_find()
    counts = [histogram.getpoint(i, 0)[0] for i in range(10)]
    assert all(abs(count - 4000) < 300 for count in counts), counts  # sd of a count ~ 60


# ---- solid colour layers and opacity ----------------------------------------------------------


@pytest.mark.parametrize(
    ("color", "pixel"),
    [
        (Color(ColorSpace.RGB, (1.0, 0.0, 0.0)), (255, 0, 0, 255)),
        (Color(ColorSpace.RGB, (0.0, 0.5, 1.0), 0.5), (0, 128, 255, 128)),
        (Color(ColorSpace.GRAY, (0.8,)), (204, 204, 204, 255)),  # color=80: 80 % gray
        (Color(ColorSpace.CMYK, (0.0, 1.0, 1.0, 0.0)), (255, 0, 0, 255)),  # naive CMYK
    ],
)
def test_solid_colour_layer(color: Color, pixel: Pixel) -> None:
    image = solid(3, 2, color)
    assert (image.width, image.height, image.bands, image.format) == (3, 2, 4, "uchar")
    assert set(pixels_of(image)) == {pixel}


@pytest.mark.parametrize(
    ("pixels", "fraction", "expected"),
    [
        ([(10, 20, 30, 255), (1, 2, 3, 100)], 0.5, [(10, 20, 30, 128), (1, 2, 3, 50)]),
        ([(10, 20, 30, 255)], 0.63, [(10, 20, 30, 161)]),  # opac=90,70: 63 %
        ([(10, 20, 30)], 0.25, [(10, 20, 30, 64)]),  # no alpha: opaque first
        ([(10, 20, 30)], 1.0, [(10, 20, 30, 255)]),
        ([(10, 20, 30, 77)], 0.0, [(10, 20, 30, 0)]),
    ],
)
def test_with_opacity(pixels: list[Pixel], fraction: float, expected: list[Pixel]) -> None:
    assert pixels_of(with_opacity(image_of(pixels, len(pixels)), fraction)) == expected


def test_gray_images_blend_as_rgb() -> None:
    gray_canvas = image_of([(100, 255)] * 4, 2).copy(interpretation="b-w")
    gray_layer = image_of([(200,)], 1).copy(interpretation="b-w")
    result = composite(gray_canvas, gray_layer, 1, 1, blend="mult")
    assert result.bands == 4
    assert pixels_of(result)[3] == reference_blend((100, 100, 100, 255), (200, 200, 200), "mult")
    assert pixels_of(result)[0] == (100, 100, 100, 255)


def test_unknown_blend_mode_is_refused() -> None:
    canvas = image_of(CANVAS_PIXELS, 6)
    with pytest.raises(ValueError, match="unknown blend mode 'overlay'"):
        composite(canvas, canvas, 0, 0, blend="overlay")
    assert set(BLEND_MODES) == {"norm", "dissolve", "lighten", "darken", "mult", "screen"}


# ---- finished layers on the canvas (layers.py placements) ------------------------------------


def placements(text: str, contents: dict[int, Size]) -> tuple[Canvas, list[LayerPlacement]]:
    request = bind(expand(parse(text)))
    layer0 = request.layer(0)
    assert layer0 is not None
    size = layer0.attributes.value("size")
    geometry = layer_geometry(size.width, size.height)
    canvas = canvas_of(layer0.attributes, geometry, Size(size.width, size.height))
    return canvas, list(place_layers(request.layers, canvas, contents))


def white_canvas(width: int, height: int) -> pyvips.Image:
    return solid(width, height, Color(ColorSpace.RGB, (1.0, 1.0, 1.0)))[:3]


def test_draw_layers_skips_hidden_and_clipped_out_layers() -> None:
    text = (
        "layer=0&size=50,50&color=ffffff&layer=1&color=ff0000&size=10,10&hide=1"
        "&layer=2&color=00ff00&size=10,10&pos=100,0&layer=3&color=0000ff&size=10,10&blendMode=mult"
    )
    _, layers = placements(text, {})
    images = [(p, solid(10, 10, p.color or Color(ColorSpace.RGB, (0, 0, 0)))) for p in layers]
    result = draw_layers(white_canvas(50, 50), images, 1.0)
    assert tuple(result.getpoint(25, 25)) == (0, 0, 255)  # layer 3, multiplied over white
    assert tuple(result.getpoint(20, 20)) == (0, 0, 255)  # its top-left: (25,25) - (5,5)
    assert tuple(result.getpoint(19, 19)) == (255, 255, 255)  # layer 1 is hidden
    assert result.avg() == pytest.approx((255 * 3 * 2500 - 2 * 255 * 100) / 7500)


def test_draw_layers_places_at_the_working_scale() -> None:
    _, (layer,) = placements("layer=0&size=40,40&color=ffffff&layer=1&color=000000&size=8,8", {})
    result = draw_layers(
        white_canvas(20, 20),
        [(layer, solid(4, 4, layer.color or Color(ColorSpace.RGB, (0, 0, 0))))],
        0.5,
    )
    assert tuple(result.getpoint(8, 8)) == (0, 0, 0) and tuple(result.getpoint(11, 11)) == (0, 0, 0)
    assert tuple(result.getpoint(7, 7)) == (255, 255, 255)
    assert tuple(result.getpoint(12, 12)) == (255, 255, 255)
