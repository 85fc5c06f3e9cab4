"""Clip paths (spec §5.11, §6.6 clipPath=): parsed into absolute geometry, measured, written as
SVG and rasterised into one-band masks whose white area is the path's area."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isrender.commands.paths import parse_path
from isrender.errors import PathSyntaxError
from isrender.render.clip_path import (
    ClipPath,
    CubicTo,
    LineTo,
    Point,
    Subpath,
    from_definition,
    parse,
)
from isrender.render.vips.mask import clip_mask, path_mask

SPEC_EXAMPLE = "M10,10L190,10L190,190L10,190Z"  # §5.11


def white_pixels(mask_path: str, width: int, height: int) -> float:
    mask = path_mask(parse(mask_path), width, height)
    assert (mask.bands, mask.format, mask.width, mask.height) == (1, "uchar", width, height)
    return float((mask > 127).avg() / 255 * width * height)


@pytest.mark.parametrize(
    ("text", "subpaths"),
    [
        (SPEC_EXAMPLE, [((10, 10), [(190, 10), (190, 190), (10, 190)], True)]),
        ("M10,10l20,0,0,20z", [((10, 10), [(30, 10), (30, 30)], True)]),  # relative lines
        ("M5,5L10,5", [((5, 5), [(10, 5)], False)]),  # open (clip fills it closed)
        # a relative m after a closed subpath is relative to that subpath's start
        ("M10,10L20,10Zm5,5l1,1", [((10, 10), [(20, 10)], True), ((15, 15), [(16, 16)], False)]),
        # ... after an open one, to its end; the first m is relative to 0,0
        ("m10,10L20,10m5,5l1,1", [((10, 10), [(20, 10)], False), ((25, 15), [(26, 16)], False)]),
        ("M0,0L1,0ZL2,2", [((0, 0), [(1, 0)], True), ((0, 0), [(2, 2)], False)]),  # after Z
        ("M1,1", [((1, 1), [], False)]),  # a lone move draws nothing
    ],
)
def test_lines_and_moves(text: str, subpaths: list[tuple[object, list[object], bool]]) -> None:
    path = parse(text)
    got = [
        ((s.start.x, s.start.y), [(g.to.x, g.to.y) for g in s.segments], s.closed)
        for s in path.subpaths
    ]
    assert got == subpaths


def test_cubic_curves_relative_and_absolute() -> None:
    path = parse("M10,10c0,10,10,10,10,0C30,0,40,0,40,10")
    first, second = path.subpaths[0].segments
    assert first == CubicTo(Point(10, 20), Point(20, 20), Point(20, 10))
    assert second == CubicTo(Point(30, 0), Point(40, 0), Point(40, 10))


def test_bounds_include_the_curve_extremes() -> None:
    # y(t) of this curve peaks at 7.5 between its end points on y = 0 (control points at 10)
    path = parse("M0,0C0,10,10,10,10,0")
    left, top, right, bottom = path.bounds()
    assert (left, top, right) == (0, 0, 10) and bottom == pytest.approx(7.5)


def test_the_bound_value_and_the_text_give_the_same_geometry() -> None:
    assert from_definition(parse_path(SPEC_EXAMPLE)) == parse(SPEC_EXAMPLE)


def test_transformed() -> None:
    moved = parse("M1,2L3,4").transformed(scale=2, dx=10, dy=20)
    assert moved == ClipPath((Subpath(Point(12, 24), (LineTo(Point(16, 28)),), False),))


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("", 0, "empty"),
        ("L1,1", 0, "starts with M"),
        ("M1,2,3", 0, "one point"),
        ("M1", 0, "one point"),
        ("M1,1X2", 4, "unexpected 'X'"),
        ("M1,1 L2,2", 4, "unexpected ' '"),  # commas are the only separator
        ("M1,1L2,", 7, "must follow ','"),
        ("M1,1L2,2,3", 4, "groups of 2"),
        ("M1,1C1,2,3,4", 4, "groups of 6"),
        ("M1,1Z2", 5, "no numbers"),
        ("M1e9,1", 1, "beyond"),
    ],
)
def test_bad_paths_name_the_position(text: str, position: int, words: str) -> None:
    with pytest.raises(PathSyntaxError, match=words) as caught:
        parse(text)
    assert caught.value.position == position


@pytest.mark.parametrize(
    ("text", "size", "area"),
    [
        (SPEC_EXAMPLE, (200, 200), 180 * 180),  # the §5.11 example: a 180 px square
        ("M0,0L100,0L100,50L0,50Z", (100, 100), 100 * 50),
        ("M0,0L200,0L0,200Z", (200, 200), 200 * 200 / 2),  # a triangle: half the square
        ("M0,0L100,0L100,100", (100, 100), 100 * 100 / 2),  # open: closed implicitly
        ("M-50,-50L50,-50L50,50L-50,50Z", (100, 100), 50 * 50),  # outside parts are cut
    ],
)
def test_mask_area_equals_the_path_area(text: str, size: tuple[int, int], area: float) -> None:
    assert white_pixels(text, *size) == pytest.approx(area, rel=0.01)


def test_circle_of_curves_covers_pi_r_squared() -> None:
    k = 0.5523 * 50  # four cubic arcs approximate a circle of radius 50 around 50,50
    circle = (f"M100,50C100,{50 + k},{50 + k},100,50,100C{50 - k},100,0,{50 + k},0,50"
              f"C0,{50 - k},{50 - k},0,50,0C{50 + k},0,100,{50 - k},100,50Z")  # fmt: skip
    assert white_pixels(circle, 100, 100) == pytest.approx(3.14159 * 50 * 50, rel=0.01)


def test_exclusion_path_is_cut_out() -> None:
    mask = clip_mask(
        parse("M0,0L100,0L100,100L0,100Z"), 100, 100, parse("M25,25L75,25L75,75L25,75Z")
    )
    assert float((mask > 127).avg() / 255 * 100 * 100) == pytest.approx(10000 - 2500, rel=0.01)
    assert mask(50, 50)[0] == 0 and mask(10, 10)[0] == 255


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("MmLlCcZz0123456789,.-+e "), max_size=30))
def test_any_text_parses_or_fails_with_a_position(text: str) -> None:
    try:
        path = parse(text)
    except PathSyntaxError as error:
        assert 0 <= error.position <= len(text)
    else:
        path.bounds()
        assert path.subpaths


@pytest.mark.parametrize("text", ["M1,1", "M5,5L6,6", "M0,0L0,10"])
def test_paths_without_area_give_an_empty_mask(text: str) -> None:
    assert white_pixels(text, 20, 20) == 0
