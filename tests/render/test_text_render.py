"""Text layers drawn with libvips' text operation (Pango): pixel checks of size, colour,
alignment, line breaks, UTF-8, weight, auto-sizing and copy-fitting (spec §6.4 size=, §6.7)."""

from __future__ import annotations

import pytest
import pyvips

from isrender.errors import ConstraintError
from isrender.render.vips.text import RenderedText, TextBox, render_text
from isrender.text import parse
from isrender.text.document import Dialect
from isrender.text.fonts import default_font_map

HEAD = r"{\rtf1{\fonttbl{\f0\fswiss Arial;}}{\colortbl;\red255\green0\blue0;\red0\green0\blue255;}"
COLOR_TOLERANCE = 2  # fully opaque text pixels carry the \cf colour within this per channel


def draw(text: str, box: TextBox | None = None, dialect: Dialect = "text") -> RenderedText:
    box = box or TextBox(dialect=dialect)
    return render_text(parse(text, dialect=box.dialect), box, default_font_map(), source=text)


def ink_box(image: pyvips.Image) -> tuple[int, int, int, int]:
    """left, top, width, height of the pixels with any alpha."""
    left, top, width, height = (image[3] > 0).find_trim(threshold=0.5, background=[0])
    return int(left), int(top), int(width), int(height)


def ink_rows(image: pyvips.Image) -> list[bool]:
    """For each row, whether it holds ink."""
    alpha = image[3]
    profile = alpha.project()[1]  # row sums
    return [profile.getpoint(0, y)[0] > 0 for y in range(image.height)]


def test_text_image_is_rgba_and_measured() -> None:
    result = draw(HEAD + r"\f0\fs48 Hello}")
    assert (result.image.bands, result.image.format) == (4, "uchar")
    assert (result.image.width, result.image.height) == (result.width, result.height)
    left, top, width, height = ink_box(result.image)
    assert left + width <= result.width and top + height <= result.height
    assert width > 40 and height > 10


@pytest.mark.parametrize(("small", "large"), [(24, 48), (48, 96), (40, 120)])
def test_ink_grows_with_font_size(small: int, large: int) -> None:
    a = ink_box(draw(HEAD + rf"\f0\fs{small} Hello}}").image)
    b = ink_box(draw(HEAD + rf"\f0\fs{large} Hello}}").image)
    ratio = large / small  # hinting rounds small sizes: a tolerance of 20 %
    assert 0.8 * ratio < b[2] / a[2] < 1.2 * ratio and 0.8 * ratio < b[3] / a[3] < 1.2 * ratio


@pytest.mark.parametrize(("cf", "rgb"), [(1, (255, 0, 0)), (2, (0, 0, 255)), (0, (0, 0, 0))])
def test_text_pixels_have_the_cf_colour(cf: int, rgb: tuple[int, int, int]) -> None:
    image = draw(HEAD + rf"\f0\fs96\cf{cf} HI}}").image
    opaque = image[3] == 255
    assert opaque.max() == 255  # some pixels are fully covered
    for band, want in enumerate(rgb):
        values = image[band]
        # the extreme values among fully opaque pixels
        inside = (values * (opaque / 255)) + (255 - opaque) * (want / 255)
        assert abs(inside.min() - want) <= COLOR_TOLERANCE
        assert abs(inside.max() - want) <= COLOR_TOLERANCE


@pytest.mark.parametrize(
    ("word", "check"),
    [
        ("ql", lambda left, right: left < 10),
        ("qr", lambda left, right: right > 390),
        ("qc", lambda left, right: abs((left + right) / 2 - 200) <= 4),
    ],
)
def test_alignment_moves_the_ink(word: str, check: object) -> None:
    image = draw(HEAD + rf"\f0\fs48\{word} Hi}}", TextBox(width=400)).image
    assert image.width == 400
    left, _, width, _ = ink_box(image)
    assert callable(check) and check(left, left + width)


def test_line_break_makes_two_lines() -> None:
    one = draw(HEAD + r"\f0\fs48 AB}").image
    two = draw(HEAD + r"\f0\fs48 A\line B}").image
    assert ink_box(two)[3] > 1.8 * ink_box(one)[3]
    rows = ink_rows(two)
    first, last = rows.index(True), len(rows) - rows[::-1].index(True)
    assert not all(rows[first:last]), "a blank band separates the two lines"


def test_par_makes_paragraphs_and_wrapping_grows_the_height() -> None:
    wide = draw(HEAD + r"\f0\fs24 one two three four five six}", TextBox(width=600))
    narrow = draw(HEAD + r"\f0\fs24 one two three four five six}", TextBox(width=80))
    assert narrow.width == 80 and narrow.height > 2 * wide.height


def test_utf8_text_draws_glyphs() -> None:
    result = draw("Größe – ½")
    _, _, width, height = ink_box(result.image)
    assert width > ink_box(draw("Gr").image)[2] * 3 and height > 5


def test_bold_makes_more_ink_than_regular() -> None:
    regular = draw(HEAD + r"\f0\fs48 Hello}").image[3].avg()
    bold_image = draw(HEAD + r"\f0\fs48\b Hello}").image
    assert bold_image[3].avg() * bold_image.width > regular * draw(HEAD + r"\f0\fs48 Hello}").width


@pytest.mark.parametrize(
    ("box", "size"),
    [
        (TextBox(), None),  # no size=: the layer grows to the text
        (TextBox(width=300), (300, None)),  # width only: wraps, height grows
        (TextBox(width=300, height=120), (300, 120)),  # fixed box
    ],
)
def test_auto_size(box: TextBox, size: tuple[int, int | None] | None) -> None:
    result = draw(HEAD + r"\f0\fs24 Hello world}", box)
    _, _, width, height = ink_box(result.image)
    if size is None:
        assert width <= result.width <= width + 6 and height <= result.height <= height + 12
    else:
        assert result.width == size[0]
        assert result.height == (size[1] if size[1] else result.height)


def test_autosized_text_layer_refuses_two_alignments() -> None:
    with pytest.raises(ConstraintError):
        draw(r"{\rtf1\ql a\par\qr b}")
    draw(r"{\rtf1\ql a\par\qr b}", TextBox(width=200, height=100))  # a full size= is fine
    draw(r"{\rtf1\ql a\par\qr b}", dialect="textPs")  # the rule is text='s


def test_copyfit_grows_text_to_fill_the_box() -> None:
    box = TextBox(width=400, height=120, dialect="textPs")
    plain = draw(r"{\rtf1\fs20 Fit me}", box)
    fitted = draw(r"{\rtf1\fs20\copyfit400 Fit me}", box)
    assert fitted.fit_scale > 3 and not fitted.overflow
    assert ink_box(fitted.image)[3] > 3 * ink_box(plain.image)[3]
    left, top, width, height = ink_box(fitted.image)
    assert left + width <= 400 and top + height <= 120


def test_autores_scales_classic_text_to_the_box() -> None:
    fitted = draw(r"{\rtf1\fs20 Fit me}", TextBox(400, 120, resolution_mode="autoRes"))
    assert fitted.dpi > 72 * 3 and not fitted.overflow
    capped = draw(r"{\rtf1\fs20 Fit me}", TextBox(400, 120, resolution_mode="maxRes"))
    assert capped.dpi == 72  # maxRes never goes above textAttr's resolution


def test_dpi_scales_the_text() -> None:
    base = ink_box(draw(r"{\rtf1\fs48 Hello}", TextBox(dpi=72)).image)
    double = ink_box(draw(r"{\rtf1\fs48 Hello}", TextBox(dpi=144)).image)
    assert double[2] / base[2] == pytest.approx(2.0, abs=0.2)  # twice the dpi, twice as wide


def test_margins_move_textps_text() -> None:
    result = draw(r"{\rtf1\margl1440\margt720 Hi}", TextBox(width=300, dialect="textPs"))
    left, top, _, _ = ink_box(result.image)
    assert left >= 72 and top >= 36  # 1440 twips = 72 pt = 72 px at 72 dpi


def test_overflow_is_cut_to_the_box() -> None:
    result = draw(r"{\rtf1\fs96 overflowing}", TextBox(width=100, height=30))
    assert result.overflow and (result.image.width, result.image.height) == (100, 30)


def test_empty_text_is_a_transparent_pixel() -> None:
    result = draw("")
    assert (result.width, result.height) == (1, 1) and result.image[3].max() == 0


def test_markup_characters_in_the_text_are_drawn_literally() -> None:
    literal = ink_box(draw(r"{\rtf1\fs48 <b>x</b> & y}").image)[2]
    assert literal > 4 * ink_box(draw(r"{\rtf1\fs48 x}").image)[2]
