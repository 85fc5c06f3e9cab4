"""Text layer sizing (spec §6.4 size=, §6.6 clipPath=, §6.7): the layout from the layer's
commands, then the drawn layer's size measured against it."""

from __future__ import annotations

import pytest

from isrender.errors import ConstraintError, UnsupportedFeatureError
from isrender.language import parse
from isrender.render.text_layout import TextLayout, layer_size, text_layout
from isrender.render.vips.text import render_text
from isrender.request.bind import bind
from isrender.text import parse as parse_text
from isrender.text.fonts import default_font_map

RTF = r"{\rtf1{\fonttbl{\f0\fswiss Arial;}}\f0\fs36 Hello world}"
CANVAS = (800, 600)


def layout_of(mods: str) -> TextLayout:
    return text_layout(bind(parse(f"layer=1&{mods}")).layers[-1].attributes, canvas=CANVAS)


@pytest.mark.parametrize(
    ("mods", "sizing", "box", "origin"),
    [
        ("text=Hi", "text", (0, 0), None),
        ("text=Hi&size=0,0", "text", (0, 0), None),
        ("text=Hi&size=300,0", "width", (300, 0), None),
        ("text=Hi&size=300,120", "box", (300, 120), None),
        ("textPs=Hi&sizeN=0.5,0.1", "box", (400, 60), None),
        ("text=Hi&clipPath=M10,20L210,20L210,70L10,70Z", "path", (200, 50), (-10.0, -20.0)),
        ("text=Hi&clipPath=M-5,0L95,0L95,40Z&size=60,30", "box", (60, 30), None),
    ],
)
def test_layout_from_the_commands(
    mods: str, sizing: str, box: tuple[int, int], origin: tuple[float, float] | None
) -> None:
    layout = layout_of(mods)
    assert (layout.sizing, (layout.box.width, layout.box.height), layout.origin) == (
        sizing, box, origin)  # fmt: skip


@pytest.mark.parametrize(
    ("mods", "dpi", "dialect", "wrap", "mode"),
    [
        ("text=Hi", 72, "text", "wrap", "fixedRes"),
        ("textPs=Hi&textAttr=144", 144, "textPs", "wrap", "fixedRes"),
        ("text=Hi&textAttr=96,norm,autoRes,noWrap", 96, "text", "noWrap", "autoRes"),
        ("text=A&src=logo&textPs=B", 72, "textPs", "wrap", "fixedRes"),  # last of the three
    ],
)
def test_text_attributes_shape_the_box(mods: str, dpi: int, dialect: str, wrap: str,
                                       mode: str) -> None:  # fmt: skip
    box = layout_of(mods).box
    assert (box.dpi, box.dialect, box.wrap, box.resolution_mode) == (dpi, dialect, wrap, mode)


@pytest.mark.parametrize(
    ("mods", "error", "words"),
    [
        ("text=Hi&size=0,100", ConstraintError, "needs a width"),
        ("text=Hi&clipPath=M0,0L100,0", ConstraintError, "no area"),
        ("textPs=Hi&textPath=M0,0L100,0", UnsupportedFeatureError, "textPath="),
        ("textPs=Hi&textFlowPath=M0,0L100,0L100,100Z", UnsupportedFeatureError, "textFlowPath="),
        ("textPs=Hi&textAngle=30", UnsupportedFeatureError, "textAngle="),
    ],
)
def test_refused_layouts_say_why(mods: str, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        layout_of(mods)


def test_size_error_points_at_size() -> None:
    mods = "text=Hi&size=0,100"
    with pytest.raises(ConstraintError) as caught:
        layout_of(mods)
    assert f"layer=1&{mods}"[caught.value.position :].startswith("size=")


def test_layouts_need_a_text_layer() -> None:
    with pytest.raises(ValueError, match="text="):
        layout_of("src=logo")


@pytest.mark.parametrize(
    "mods",
    ["text=x", "text=x&size=260,0", "text=x&size=260,90", "textPs=x&size=500,200",
     "text=x&clipPath=M0,0L150,0L150,80L0,80Z"],
)  # fmt: skip
def test_drawn_layer_has_the_layout_size(mods: str) -> None:
    """render_text draws into the layout's box; the layer's size is layer_size of what it
    measured: the text's extent, the width with the text's height, or the whole box."""
    layout = layout_of(mods)
    drawn = render_text(parse_text(RTF, dialect=layout.box.dialect), layout.box,
                        default_font_map(), source=RTF)  # fmt: skip
    size = layer_size(layout, (drawn.width, drawn.height))
    assert (drawn.image.width, drawn.image.height) == size
    if layout.sizing in ("box", "path"):
        assert size == (layout.box.width, layout.box.height)
    elif layout.sizing == "width":
        assert size[0] == layout.box.width and 10 < size[1] < 200
    else:
        assert 60 < size[0] < 200 and 10 < size[1] < 60  # "Hello world" at 18 px (72 dpi)


def test_layer_size_rules() -> None:
    text, width, box = layout_of("text=x"), layout_of("text=x&size=50,0"), layout_of(
        "text=x&size=50,60")  # fmt: skip
    assert layer_size(text, (120, 30)) == (120, 30)
    assert layer_size(width, (120, 30)) == (50, 30)
    assert layer_size(box, (120, 30)) == (50, 60)
