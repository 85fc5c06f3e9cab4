"""Effect layers, masks and growing (spec §6.5 op_grow*, §6.6 effect=/maskUse=/clipPath=),
checked by measured properties: the shadow's offset from the alpha centroids, the blur's edge
width against the gaussian's, opacity levels against the stated arithmetic, inner versus outer
coverage, grown areas against a disc's Minkowski sum."""

from __future__ import annotations

import math

import pytest
import pyvips

from isrender.errors import ConstraintError
from isrender.language import parse
from isrender.macros.registry import MacroRegistry, expand
from isrender.render.clip_path import parse as parse_path
from isrender.render.effects import (
    EffectParams,
    disc_decomposition,
    effect_extent,
    effect_order,
    grow_mask_radius,
    resolve_effect,
)
from isrender.render.vips.effects import grow_layer, layer_with_effects, render_effect
from isrender.render.vips.mask import apply_clip, apply_mask, grow_alpha, grow_band, mask_band
from isrender.request.bind import bind
from isrender.request.model import Effect

SIDE, BOX, AT = 120, 40, 40  # a SIDE x SIDE layer holding an opaque BOX x BOX square at AT,AT
RED = (255, 0, 0)


def square_layer(side: int = SIDE, box: int = BOX, at: int = AT) -> pyvips.Image:
    alpha = pyvips.Image.black(side, side).draw_rect(255, at, at, box, box, fill=True)
    colour = pyvips.Image.black(side, side).new_from_image(list(RED))
    return colour.bandjoin(alpha).cast("uchar").copy(interpretation="srgb")


def centroid(band: pyvips.Image) -> tuple[float, float]:
    """The alpha-weighted centre of a one-band image."""
    xy = pyvips.Image.xyz(band.width, band.height)
    total = band.avg() * band.width * band.height
    x = (xy[0] * band).avg() * band.width * band.height / total
    y = (xy[1] * band).avg() * band.width * band.height / total
    return x, y


def effect_of(mods: str, *, canvas: tuple[int, int] = (400, 400)) -> EffectParams:
    """The first effect of layer 1 in ``mods``, resolved with its parent's opacity."""
    layer = bind(parse(mods)).layers[-1]
    return resolve_effect(layer.effects[0], parent_opacity=layer.attributes.value("opac"),
                          canvas=canvas)  # fmt: skip


# ---- parameters (pure) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mods", "alpha", "offset"),
    [
        ("layer=1&effect=-1&color=0,0,0&opac=75&pos=5,5", 0.75, (5, 5)),
        ("layer=1&opac=90,70&effect=-1&color=0,0,0&opac=50", 0.45, (0, 0)),  # §6.6: 90 x 50
        ("layer=1&effect=2&color=ff000080&posN=0.1,-0.05", 128 / 255, (40, -20)),
        ("layer=1&effect=-1&color=0,0,0&opac=50,50", 0.5, (0, 0)),  # fill: never on effects
        ("layer=1&opac=100,10&effect=-1&color=0,0,0", 1.0, (0, 0)),  # parent fill: never
    ],
)
def test_opacity_and_offset_follow_the_stated_arithmetic(
    mods: str, alpha: float, offset: tuple[int, int]
) -> None:
    params = effect_of(mods)
    assert params.alpha == pytest.approx(alpha, abs=1e-6)
    assert (params.dx, params.dy) == offset


def test_defaults_and_radius_scale() -> None:
    layer = bind(parse("layer=1&effect=1&color=0,0,0&op_blur=8&op_grow=-4&pos=6,2")).layers[-1]
    params = resolve_effect(layer.effects[0], radius_scale=0.5)
    assert (params.kind, params.blur, params.grow, params.dx, params.dy) == ("inner", 4, -2, 3, 1)
    assert (params.mask_use, params.blend, params.noise) == ("norm", "norm", None)


def test_an_effect_without_colour_is_refused_at_its_first_command() -> None:
    mods = "layer=1&effect=-1&op_blur=4"
    with pytest.raises(ConstraintError, match="needs color=") as caught:
        effect_of(mods)
    assert mods[caught.value.position :].startswith("op_blur")


def test_effects_draw_outer_then_inner_by_number() -> None:
    effects = tuple(Effect(n, bind(parse("")).globals) for n in (2, -1, -3, 1))
    outer, inner = effect_order(effects)
    assert [e.number for e in outer] == [-3, -1] and [e.number for e in inner] == [1, 2]


@pytest.mark.parametrize("radius", [1, 5, 7, 10, 17, 30, 64, 100])
def test_octagon_reaches_the_radius_on_axes_and_diagonals(radius: int) -> None:
    axis, diagonal = disc_decomposition(radius)
    assert abs(axis + 2 * diagonal - radius) <= 1
    assert abs(math.sqrt(2) * (axis + diagonal) - radius) <= 1


@pytest.mark.parametrize(
    ("pixels", "as_given", "scale", "radius"),
    [(10, False, 0.25, 3), (10, True, 0.25, 10), (-10, False, 0.5, -5), (8, False, 2.0, 8)],
)
def test_grow_mask_radius_follows_d30(
    pixels: int, as_given: bool, scale: float, radius: int
) -> None:
    assert grow_mask_radius(pixels, as_given=as_given, scale=scale) == radius


def test_outer_extent_holds_the_grown_blurred_moved_shape() -> None:
    extent = effect_extent(EffectParams(-1, (0, 0, 0), 1.0, blur=4, grow=3, dx=5, dy=-2), 50, 30)
    reach = 3 + 6 + 1
    assert (extent.x, extent.y, extent.width, extent.height) == (
        5 - reach, -2 - reach, 50 + 2 * reach, 30 + 2 * reach)  # fmt: skip


@pytest.mark.parametrize(
    ("mods", "kind", "rgb", "alpha", "blur", "offset", "blend"),
    [
        ("layer=1&effect=-1&$shadow$", "outer", (0, 0, 0), 0.75, 5, (5, 5), "mult"),
        ("layer=1&effect=1&$shadow$", "inner", (0, 0, 0), 0.75, 5, (5, 5), "mult"),
        ("layer=1&effect=-1&$glow$", "outer", (255, 255, 190), 0.75, 5, (0, 0), "screen"),
        ("layer=1&effect=1&$glow$", "inner", (255, 255, 190), 0.75, 5, (0, 0), "screen"),
        (
            "layer=1&effect=-1&$shadow$&pos=-3,8&opac=40",
            "outer",
            (0, 0, 0),
            0.4,
            5,
            (-3, 8),
            "mult",
        ),  # commands after the macro override it (§3.3)
        ("layer=1&effect=-1&pos=-3,8&$shadow$", "outer", (0, 0, 0), 0.75, 5, (5, 5), "mult"),
    ],
)
def test_default_macros_shadow_and_glow(
    mods: str,
    kind: str,
    rgb: tuple[int, int, int],
    alpha: float,
    blur: float,
    offset: tuple[int, int],
    blend: str,
) -> None:
    for registry in (None, MacroRegistry.from_mapping({"thumb": "wid=100"})):
        effect = bind(expand(parse(mods), registry)).layers[-1].effects[0]
        params = resolve_effect(effect)
        assert (params.kind, params.rgb, params.blur, params.blend) == (kind, rgb, blur, blend)
        assert params.alpha == pytest.approx(alpha) and (params.dx, params.dy) == offset


def test_a_loaded_macro_replaces_the_default_one_and_macros_may_invoke_it() -> None:
    registry = MacroRegistry.from_mapping({"shadow": "color=255,0,0", "deep": "$glow$&op_blur=20"})
    shadow = registry.get("shadow")
    assert shadow is not None and shadow.definition == "color=255,0,0"
    effect = bind(expand(parse("layer=1&effect=-1&$deep$"), registry)).layers[-1].effects[0]
    assert (resolve_effect(effect).blur, resolve_effect(effect).rgb) == (20, (255, 255, 190))


# ---- pixels: outer and inner effects -----------------------------------------------------------


@pytest.mark.parametrize(("dx", "dy", "blur"), [(5, 5, 0), (5, 5, 6), (-7, 3, 4), (0, 12, 10)])
def test_outer_shadow_centroid_moves_by_pos(dx: int, dy: int, blur: float) -> None:
    layer = square_layer()
    drawn = render_effect(layer, EffectParams(-1, (0, 0, 0), 0.75, blur=blur, dx=dx, dy=dy))
    sx, sy = centroid(drawn.image[3])
    px, py = centroid(layer[3])
    assert (sx + drawn.x - px, sy + drawn.y - py) == pytest.approx((dx, dy), abs=0.3)


@pytest.mark.parametrize("blur", [4.0, 10.0, 20.0])
def test_blur_edge_width_is_the_gaussians(blur: float) -> None:
    """A blurred straight edge rises from 10 % to 90 % over 2.563 sigma (sigma = radius / 2)."""
    layer = square_layer(side=240, box=120, at=60)
    drawn = render_effect(layer, EffectParams(-1, (0, 0, 0), 1.0, blur=blur))
    row = drawn.image[3].crop(0, 120 - drawn.y, drawn.image.width, 1)
    values = [row.getpoint(x, 0)[0] for x in range(row.width // 2)]  # the left edge, rising
    low = next(x for x, v in enumerate(values) if v >= 0.1 * 255)
    high = next(x for x, v in enumerate(values) if v >= 0.9 * 255)
    assert high - low == pytest.approx(2.563 * blur / 2, rel=0.15, abs=1.0)


@pytest.mark.parametrize(("opacity", "level"), [(0.75, 191), (0.5, 128), (0.25, 64), (1.0, 255)])
def test_unblurred_effect_alpha_is_the_opacity(opacity: float, level: int) -> None:
    drawn = render_effect(square_layer(), EffectParams(-1, (10, 20, 30), opacity))
    alpha = drawn.image[3]
    assert alpha.max() == pytest.approx(level, abs=1)
    inside = drawn.image.crop(AT - drawn.x + 5, AT - drawn.y + 5, 1, 1)
    assert inside.getpoint(0, 0) == pytest.approx([10, 20, 30, level], abs=1)


def test_inner_shadow_lies_inside_and_on_the_side_the_offset_uncovers() -> None:
    layer = square_layer()
    drawn = render_effect(layer, EffectParams(1, (0, 0, 0), 1.0, blur=4, dx=6, dy=6))
    alpha = drawn.image[3]
    assert (drawn.x, drawn.y, alpha.width, alpha.height) == (0, 0, SIDE, SIDE)
    outside = alpha * (layer[3] == 0) / 255
    assert outside.max() == 0  # never outside the parent's coverage
    top_left = alpha.crop(AT, AT, 6, 6).avg()  # the edges the offset uncovers: shadowed
    bottom_right = alpha.crop(AT + BOX - 10, AT + BOX - 10, 10, 10).avg()  # the far corner: not
    assert top_left > 200 and bottom_right < 2


def test_inner_glow_lines_every_inner_edge_and_leaves_the_middle() -> None:
    drawn = render_effect(square_layer(), EffectParams(1, (255, 255, 0), 1.0, grow=4))
    alpha = drawn.image[3]
    edges = [alpha.getpoint(x, y)[0] for x, y in [(AT, 60), (AT + BOX - 1, 60), (60, AT),
                                                  (60, AT + BOX - 1)]]  # fmt: skip
    assert edges == [255] * 4
    assert alpha.getpoint(60, 60)[0] == 0 and alpha.getpoint(10, 10)[0] == 0


def test_outer_effect_is_behind_the_parent() -> None:
    layer = square_layer()
    shadow = EffectParams(-1, (0, 0, 0), 1.0, dx=10, dy=10)
    image, x, y = layer_with_effects(layer, [shadow])
    assert (x, y) == (0, 0)  # the shadow reaches right and down only: the parent's corner
    inside = image.getpoint(AT + 20 - x, AT + 20 - y)
    assert inside == [*RED, 255]  # the opaque parent covers its own shadow
    beyond = image.getpoint(AT + BOX + 5 - x, AT + BOX + 5 - y)
    assert beyond == [0, 0, 0, 255]  # the shadow shows past the parent's bottom-right
    assert image.getpoint(AT - 5 - x, AT - 5 - y)[3] == 0  # and not on the other side


def test_inner_effect_is_on_top_of_the_parent() -> None:
    layer = square_layer()
    image, x, y = layer_with_effects(layer, [EffectParams(1, (0, 0, 255), 1.0, grow=3)])
    assert (x, y) == (0, 0)
    assert image.getpoint(AT + 1, 60) == [0, 0, 255, 255]  # the inner edge is the effect's
    assert image.getpoint(60, 60) == [*RED, 255]


def test_effect_mask_use_invert_makes_an_outer_effect_fill_the_outside() -> None:
    drawn = render_effect(square_layer(), EffectParams(-1, (0, 0, 0), 1.0, mask_use="invert"))
    alpha = drawn.image[3]
    assert alpha.getpoint(10 - drawn.x, 10 - drawn.y)[0] == 255
    assert alpha.getpoint(60 - drawn.x, 60 - drawn.y)[0] == 0


def test_noise_is_deterministic_and_stays_on_the_effect() -> None:
    params = effect_of("layer=1&effect=-1&color=0,0,0&opac=50&op_noise=40,gaussian")
    first = render_effect(square_layer(), params)
    again = render_effect(square_layer(), params)
    assert (first.image == again.image).min() == 255
    alpha = first.image[3]
    assert alpha.crop(AT - first.x, AT - first.y, BOX, BOX).deviate() > 5  # noisy where it covers
    assert alpha.crop(0, 0, 10, 10).max() == 0  # nothing where it does not


# ---- growing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("radius", [3, 6, 10, 20])
def test_dilated_square_area_is_the_minkowski_sum(radius: int) -> None:
    band = square_layer(side=200, box=BOX, at=80)[3]
    area = (grow_band(band, radius) > 127).avg() / 255 * 200 * 200
    expected = BOX * BOX + 4 * BOX * radius + math.pi * radius * radius
    assert area == pytest.approx(expected, rel=0.03)


@pytest.mark.parametrize("radius", [-3, -8, -12])
def test_eroded_square_shrinks_by_the_radius_on_each_side(radius: int) -> None:
    band = square_layer()[3]
    area = (grow_band(band, radius) > 127).avg() / 255 * SIDE * SIDE
    assert area == pytest.approx((BOX + 2 * radius) ** 2, rel=0.02)


def test_grow_alpha_changes_only_the_mask_and_grow_layer_every_channel() -> None:
    layer = square_layer()
    grown = grow_alpha(layer, 5)
    assert (grown[:3] == layer[:3]).min() == 255
    assert grown[3].avg() > layer[3].avg()
    spread = grow_layer(layer.flatten(background=[0, 0, 0]), 5)
    assert spread.getpoint(AT - 3, 60) == [255, 0, 0]


# ---- masks and clip paths ----------------------------------------------------------------------


def test_mask_band_is_the_alpha_else_the_gray_values() -> None:
    gray = pyvips.Image.xyz(50, 20)[0].linear(5, 0).cast("uchar")
    assert (mask_band(gray) == gray).min() == 255
    rgb = gray.bandjoin([gray, gray]).copy(interpretation="srgb")
    assert (mask_band(rgb) - gray).abs().max() <= 1
    with_alpha = rgb.bandjoin(gray.invert())
    assert (mask_band(with_alpha) == gray.invert()).min() == 255


@pytest.mark.parametrize(
    ("use", "inside", "outside"),
    [("norm", 255, 0), ("invert", 0, 255), ("off", 255, 255)],
)
def test_mask_use_on_the_layers_own_alpha(use: str, inside: int, outside: int) -> None:
    masked = apply_mask(square_layer(), None, use)  # type: ignore[arg-type]
    assert masked.getpoint(60, 60)[3] == inside and masked.getpoint(5, 5)[3] == outside
    if use == "off":
        assert masked.getpoint(5, 5)[:3] == [0, 0, 0]  # the foreground over black


def test_mask_image_replaces_the_alpha_and_is_fitted_to_the_layer() -> None:
    ramp = pyvips.Image.xyz(30, 30)[0].linear(255 / 29, 0).cast("uchar")  # 0 left, 255 right
    masked = apply_mask(square_layer(), ramp)
    alpha = masked[3]
    assert (masked.width, masked.height) == (SIDE, SIDE)
    assert alpha.getpoint(0, 60)[0] <= 5 and alpha.getpoint(SIDE - 1, 60)[0] >= 250
    inverted = apply_mask(square_layer(), ramp, "invert")[3]
    assert ((alpha.cast("int") + inverted) == 255).min() == 255


def test_opaque_layer_without_mask_inverted_is_hidden() -> None:
    opaque = square_layer()[:3]
    assert apply_mask(opaque, None, "invert")[3].max() == 0


@pytest.mark.parametrize(
    ("path", "exclude", "area"),
    [
        ("M10,10L110,10L110,60L10,60Z", None, 5000),
        ("M0,0L120,0L120,120L0,120Z", "M40,40L80,40L80,80L40,80Z", 120 * 120 - 1600),
    ],
)
def test_clip_path_leaves_only_the_path_area(path: str, exclude: str | None, area: int) -> None:
    layer = square_layer(box=SIDE, at=0)  # fully opaque
    cut = apply_clip(layer, parse_path(path), parse_path(exclude) if exclude else None)
    assert cut[3].avg() / 255 * SIDE * SIDE == pytest.approx(area, rel=0.01)
    assert (cut[:3] == layer[:3]).min() == 255
