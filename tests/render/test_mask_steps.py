"""The pure builders of mask, grow, clip and effect steps (render/layer_steps.py) and where
the phase table puts them on layer 0 and comp (render/phases.py), read from plans."""

from __future__ import annotations

import pytest

from isrender.errors import SourceNotFoundError, SourceTooLargeError, UnsupportedFeatureError
from isrender.language import parse
from isrender.macros.registry import expand
from isrender.render.layer_steps import (
    clip_step,
    filters_with_grow,
    mask_source_step,
    with_mask,
)
from isrender.render.phases import filter_steps
from isrender.render.plan import SourceInfo, plan
from isrender.render.steps import Filter, Grow, Load, MaskFrom, SolidColour, Step
from isrender.request.bind import bind
from isrender.request.model import Attributes

PHOTO = SourceInfo(2000, 1500, 3, "srgb", False, False, loader="jpegload")
LOGO = SourceInfo(400, 200, 4, "srgb", True, False, loader="pngload")
SOURCES = {"logo": LOGO}


def attrs(mods: str) -> Attributes:
    return bind(expand(parse(f"layer=1&{mods}"))).layers[-1].attributes


def names(mods: str) -> list[str]:
    found = plan(bind(expand(parse(mods)), strict=True), PHOTO, layer_sources=SOURCES)
    return [step.name for step in found.steps]


@pytest.mark.parametrize(
    ("mods", "step"),
    [
        ("src=a", None),
        ("src=a&mask=logo", MaskFrom(40, 30, 0.5, "layer 1: mask=logo", "logo", "norm")),
        ("src=a&mask=logo&maskUse=invert",
         MaskFrom(40, 30, 0.5, "layer 1: mask=logo", "logo", "invert")),
    ],
)  # fmt: skip
def test_mask_source_step(mods: str, step: MaskFrom | None) -> None:
    found = mask_source_step(attrs(mods), (40, 30), 0.5, SOURCES, max_source_pixels=10**8,
                             where="layer 1")  # fmt: skip
    assert found == step


@pytest.mark.parametrize(
    ("mods", "limit", "error", "message"),
    [
        ("mask=nothere", 10**8, SourceNotFoundError, "mask 'nothere' not found"),
        ("mask=logo", 1000, SourceTooLargeError, "the mask is 400x200"),
        ("mask=is{logo?wid=5}", 10**8, UnsupportedFeatureError, "nested mask= group"),
    ],
)
def test_mask_source_step_refuses(
    mods: str, limit: int, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        mask_source_step(attrs(mods), (4, 3), 1.0, SOURCES, max_source_pixels=limit, where="l")


def test_with_mask_goes_right_after_the_content_at_its_size() -> None:
    load = Load(200, 100, 0.5)
    steps: tuple[Step, ...] = (load, Grow(2))
    masked = with_mask(steps, attrs("mask=logo"), SOURCES, max_source_pixels=10**8, where="l")
    assert masked[0] is load and masked[2] == Grow(2)
    assert isinstance(masked[1], MaskFrom)
    assert (masked[1].width, masked[1].height, masked[1].scale) == (200, 100, 0.5)
    solid = (SolidColour(30, 20, attrs("color=ff0000").value("color")),)
    from_solid = with_mask(solid, attrs("mask=logo"), SOURCES, max_source_pixels=10**8, where="l")
    assert isinstance(from_solid[1], MaskFrom) and from_solid[1].width == 30
    assert with_mask(steps, attrs("src=a"), SOURCES, max_source_pixels=10**8, where="l") == steps


@pytest.mark.parametrize(
    ("mods", "order"),
    [
        ("op_blur=2&op_noise=5&op_grow=4", ["op_blur", "grow", "op_noise"]),  # D-26
        ("op_noise=5&op_grow=4", ["grow", "op_noise"]),
        ("op_blur=2&op_grow=4", ["op_blur", "grow"]),
        ("op_blur=2", ["op_blur"]),
    ],
)
def test_op_grow_sits_between_blur_and_noise(mods: str, order: list[str]) -> None:
    a = attrs(mods)
    steps = filters_with_grow(filter_steps(a, 1.0, "l"), a, radius_scale=1.0)
    assert [s.command if isinstance(s, Filter) else s.name for s in steps] == order


def test_clip_step_scales_x_and_y_apart() -> None:
    step = clip_step(attrs("clipPath=M0,0L100,0L100,100Z"), scale=0.5, scale_y=0.25)
    assert step is not None
    assert step.path.bounds() == (0, 0, 50, 25)


@pytest.mark.parametrize(
    ("mods", "expected"),
    [
        ("wid=200&mask=logo", ["load", "layer_mask", "resize"]),
        ("wid=200&layer=0&maskUse=invert", ["load", "resize", "mask"]),
        ("scl=1&op_growMaskR=3", ["load", "resize", "grow_mask"]),
        ("scl=1&layer=0&op_grow=3&op_blur=2", ["load", "resize", "filter", "grow"]),
        ("scl=1&layer=0&clipPath=M0,0L9,0L9,9Z&bgColor=ff0000", ["load", "resize", "fill", "clip"]),
        ("scl=1&layer=0&effect=-1&$shadow$", ["load", "resize", "effects"]),
        ("scl=1&flip=lr&op_grow=3&opac=50&clipPath=M0,0L9,0L9,9Z&effect=1&$glow$",
         ["load", "resize", "flip", "grow", "clip", "effects", "opacity"]),  # C's order
    ],
)  # fmt: skip
def test_layer_0_and_comp_steps_in_the_phase_order(mods: str, expected: list[str]) -> None:
    found = names(f"{mods}&fmt=png-alpha")
    assert found[: found.index("place")] == expected


def test_effect_placement_on_layer_0_is_not_noted_as_ignored() -> None:
    # pos= and blendMode= of an effect of layer 0 place and blend that effect
    found = plan(bind(expand(parse("wid=200&layer=0&effect=-1&$shadow$")), strict=True), PHOTO)
    assert found.ignored == ()
