"""The RTF subset of text layers (spec §6.7) read into a typed document, and the font map."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isrender.commands.colors import ColorSpace
from isrender.errors import (
    ConstraintError,
    FontMapError,
    FontNotFoundError,
    RtfSyntaxError,
)
from isrender.text import parse, single_alignment
from isrender.text.fonts import default_font_map, load_font_map
from isrender.text.markup import blocks

HEAD = r"{\rtf1\ansi{\fonttbl{\f0\fswiss Arial;}{\f1\froman Times New Roman;}}"
COLORS = r"{\colortbl;\red255\green0\blue0;\red0\green0\blue255;}"


def runs(text: str, **options: object) -> list[tuple[str, dict[str, object]]]:
    doc = parse(text, **options)  # type: ignore[arg-type]
    return [(r.text, {"font": r.font, "size": r.size, "bold": r.bold, "italic": r.italic,
                      "underline": r.underline, "rgb": r.color.to_rgb8() if r.color else None})
            for p in doc.paragraphs for r in p.runs]  # fmt: skip


@pytest.mark.parametrize(
    ("rtf", "text", "prop", "value"),
    [
        (HEAD + r"\f1 Hi}", "Hi", "font", "Times New Roman"),
        (HEAD + r"\f0\fs48 Hi}", "Hi", "size", 24.0),  # half-points
        (HEAD + r"Hi}", "Hi", "size", 12.0),  # default \fs24
        (HEAD + COLORS + r"\cf1 Hi}", "Hi", "rgb", (255, 0, 0)),
        (HEAD + COLORS + r"\cf2 Hi}", "Hi", "rgb", (0, 0, 255)),
        (HEAD + COLORS + r"\cf9 Hi}", "Hi", "rgb", None),  # no entry: black (IS)
        (HEAD + r"\b Hi}", "Hi", "bold", True),
        (HEAD + r"\b\b0 Hi}", "Hi", "bold", False),
        (HEAD + r"\i Hi}", "Hi", "italic", True),
        (HEAD + r"\ul Hi}", "Hi", "underline", "single"),
        (HEAD + r"\uldb Hi}", "Hi", "underline", "double"),
        (HEAD + r"\ul\ulnone Hi}", "Hi", "underline", "none"),
        (HEAD + r"\ul\ul0 Hi}", "Hi", "underline", "none"),
        (HEAD + r"\b\plain Hi}", "Hi", "bold", False),
    ],
)
def test_character_formatting(rtf: str, text: str, prop: str, value: object) -> None:
    [(got_text, props)] = runs(rtf)
    assert got_text == text and props[prop] == value


@pytest.mark.parametrize(
    ("rtf", "text"),
    [
        (r"{\rtf1 Gr\u246?\'dfe}", "Größe"),  # \u with a fallback char, \'hh in cp1252
        (r"{\rtf1 Gr\uc2\u246??e}", "Gröe"),  # \uc2 skips two fallback chars
        (r"{\rtf1 Größe – ½}", "Größe – ½"),  # UTF-8 sent directly
        (r"{\rtf1 a\{b\}c\\d}", "a{b}c\\d"),
        (r"{\rtf1 \u-10179?\u-8694?}", "\U0001f60a"),  # a surrogate pair
        (r"{\rtf1 x\u-10179?}", "x\ufffd"),  # lone surrogate
        (r"{\rtf1\ansicpg1251 \'cf}", "П"),
        (r"{\rtf1 a\~b\tab c\emdash}", "a\u00a0b\tc\u2014"),
        (r"{\rtf1 {\*\unknowndest skipped}shown}", "shown"),
        (r"{\rtf1 {\info{\title t}}text}", "text"),
        (r"{\rtf1 one\line two}", "one\u2028two"),
        ("{\\rtf1 a\r\nb}", "ab"),  # newlines in RTF source are not text
    ],
)
def test_text_and_escapes(rtf: str, text: str) -> None:
    assert parse(rtf).text == text


def test_groups_restore_character_state() -> None:
    got = runs(HEAD + r"\f0 a{\b\f1 b}c}")
    assert [(t, p["bold"], p["font"]) for t, p in got] == [
        ("a", False, "Arial"), ("b", True, "Times New Roman"), ("c", False, "Arial")
    ]  # fmt: skip


def test_paragraphs_alignment_and_margins() -> None:
    doc = parse(
        r"{\rtf1\margl1440\margt720\ql left\par\qc centre\par\pard\qr right\par\qj\li200 j\par}",
        dialect="textPs",
    )
    assert [p.align for p in doc.paragraphs] == ["left", "center", "right", "justify"]
    assert [p.text for p in doc.paragraphs] == ["left", "centre", "right", "j"]
    assert doc.paragraphs[3].left_indent == 10.0  # 200 twips
    assert (doc.margins.left, doc.margins.top) == (72.0, 36.0)


def test_text_dialect_ignores_textps_words_with_a_warning() -> None:
    doc = parse(r"{\rtf1\margl1440\qj a}", dialect="text")
    assert doc.margins.left == 0 and doc.paragraphs[0].align == "left"
    assert any("margl" in w for w in doc.warnings) and any("qj" in w for w in doc.warnings)


def test_copyfit_is_a_character_range() -> None:
    doc = parse(r"{\rtf1\fs10\copyfit100 A{\fs20\copyfit200 B}\copyfitmaxlines2}", dialect="textPs")
    assert [(r.size, r.copyfit) for r in doc.paragraphs[0].runs] == [(5.0, 50.0), (10.0, 100.0)]
    assert doc.copyfits and doc.copyfit_max_lines == 2


def test_iscolortbl_wins_over_colortbl_in_textps() -> None:
    rtf = r"{\rtf1{\*\iscolortbl;00ff00;}{\colortbl;\red255\green0\blue0;}\cf1 x}"
    ps = parse(rtf, dialect="textPs").paragraphs[0].runs[0].color
    classic = parse(rtf, dialect="text").paragraphs[0].runs[0].color
    assert ps is not None and ps.to_rgb8() == (0, 255, 0)
    assert classic is not None and classic.to_rgb8() == (255, 0, 0)  # text= has no iscolortbl


def test_cmyk_table_is_read() -> None:
    doc = parse(r"{\rtf1{\*\cmykcolortbl;\cyan0\magenta100\yellow100\black0;}x}")
    assert doc.text == "x"  # read without error; only CMYK text layers use it


def test_plain_text_is_a_document() -> None:
    doc = parse("Hello\nWorld")
    assert not doc.is_rtf and [p.text for p in doc.paragraphs] == ["Hello", "World"]
    assert doc.paragraphs[0].runs[0].size == 12.0


def test_trailing_par_makes_no_empty_paragraph() -> None:
    assert len(parse(r"{\rtf1 a\par}").paragraphs) == 1
    assert len(parse(r"{\rtf1 a\par\par b}").paragraphs) == 3


@pytest.mark.parametrize(
    ("rtf", "position", "words"),
    [
        (r"{\rtf1 a", 0, "unterminated"),
        (r"{\rtf1 a}}", 9, "unbalanced"),
        (r"{\rtf1 {a}", 0, "unterminated"),
        ("{\\rtf1 a\\", 8, "lone"),
        (r"{\rtf1 \'zz}", 7, "hex"),
        (r"{\rtf1 \u}", 7, "\\u needs"),
        (r"{\rtf1 \u70000?}", 7, "\\u needs"),
        (r"{\rtf1 \fs0 a}", 7, "size"),
        (r"{\rtf1 \fs99999 a}", 7, "size"),
        (r"{\rtf1 {\colortbl;\red256;}a}", 18, "0 to 255"),
        ("{\\rtf1 " + "{" * 101 + "}" * 101 + "}", 106, "deeper"),
    ],
)
def test_malformed_rtf_names_the_position(rtf: str, position: int, words: str) -> None:
    with pytest.raises(RtfSyntaxError) as caught:
        parse(rtf)
    assert caught.value.position == position and words in str(caught.value)


def test_bad_iscolortbl_entry() -> None:
    with pytest.raises(RtfSyntaxError, match="iscolortbl entry 'zz'") as caught:
        parse(r"{\rtf1{\*\iscolortbl;zz;}a}", dialect="textPs")
    assert caught.value.position == 23


def test_unknown_words_are_ignored_or_refused_when_strict() -> None:
    lenient = parse(r"{\rtf1 \blah5 a}")
    assert lenient.text == "a" and any("\\blah" in w for w in lenient.warnings)
    with pytest.raises(RtfSyntaxError, match=r"unknown RTF control word \\blah") as caught:
        parse(r"{\rtf1 \blah5 a}", strict=True)
    assert caught.value.position == 7


def test_wordpad_preamble_reads_without_warnings() -> None:
    rtf = (r"{\rtf1\ansi\ansicpg1252\deff0\nouicompat\deflang1033{\fonttbl{\f0\fnil\fcharset0 "
           r"Calibri;}}{\*\generator Riched20 10.0.19041}\viewkind4\uc1 \pard\sa200\sl276"
           r"\slmult1\f0\fs22\lang9 Hello\par}")  # fmt: skip
    doc = parse(rtf, strict=True)
    assert doc.text == "Hello" and doc.warnings == ()


@pytest.mark.parametrize(
    ("rtf", "error"),
    [
        (r"{\rtf1\ql a\par\qr b}", True),  # §6.7: one of \ql \qr \qc when auto-sized
        (r"{\rtf1\qc a\par\qc b}", False),
        (r"{\rtf1 a}", False),
    ],
)
def test_autosized_text_layer_uses_one_alignment(rtf: str, error: bool) -> None:
    doc = parse(rtf)
    if error:
        with pytest.raises(ConstraintError) as caught:
            single_alignment(doc, rtf)
        assert caught.value.position == rtf.index("\\qr")
    else:
        single_alignment(doc, rtf)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=st.sampled_from("{}\\'rtf1uc0-9abqlp ;*\u00e9\U0001f60a"), max_size=40),
        st.text(max_size=30),
    )
)
def test_any_text_parses_or_fails_cleanly(tail: str) -> None:
    for text in ("{\\rtf1 " + tail, tail):
        try:
            doc = parse(text, dialect="textPs", strict=False)
        except RtfSyntaxError as error:
            assert 0 <= error.position <= len(text)
        else:
            blocks(doc, default_font_map())  # the markup of any document builds


# -- the font map ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "generic", "family"),
    [
        ("Arial", "", "Liberation Sans"),
        ("times new roman", "", "Liberation Serif"),
        ("Courier New", "", "Liberation Mono"),
        ("", "", "Liberation Sans"),  # no font named: the default (Arial)
        ("", "roman", "Liberation Serif"),
        ("Nonexistent", "modern", "Liberation Mono"),  # unknown: its generic family stands in
        ("Nonexistent", "", "Liberation Sans"),
    ],
)
def test_default_font_map(name: str, generic: str, family: str) -> None:
    if not Path("/usr/share/fonts/truetype/liberation").is_dir():
        pytest.skip("fonts-liberation is not installed (apt-get install fonts-liberation)")
    assert default_font_map().face(name, generic).family == family


def test_unknown_font_is_an_error_when_strict_and_a_warning_otherwise() -> None:
    doc = parse(r"{\rtf1{\fonttbl{\f0 Comic Sans;}}\f0 a}")
    with pytest.raises(FontNotFoundError, match="Comic Sans"):
        blocks(doc, default_font_map(), strict=True)
    assert any("Comic Sans" in w for w in blocks(doc, default_font_map()).warnings)


def test_font_map_file_adds_fonts(tmp_path: Path) -> None:
    font = next(Path("/usr/share/fonts/truetype/dejavu").glob("DejaVuSansMono.ttf"))
    (tmp_path / "fonts").mkdir()
    (tmp_path / "fonts" / "Brand.ttf").write_bytes(font.read_bytes())
    config = tmp_path / "fonts.toml"
    config.write_text(
        'default = "Brand"\n[fonts]\nBrand = { family = "DejaVu Sans Mono", files = '
        '["fonts/Brand.ttf"] }\n"Helvetica Neue" = "DejaVu Sans"\n[generic]\nroman = "Brand"\n'
    )
    fonts = load_font_map(config)
    assert fonts.face("brand").files == (tmp_path / "fonts" / "Brand.ttf",)
    assert fonts.face("Helvetica Neue").family == "DejaVu Sans"
    assert fonts.face("", "").name == "Brand" and fonts.face("x", "roman").name == "Brand"
    assert fonts.face("Arial").name == "Arial"  # the shipped entries stay


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ("default = [", "not valid TOML"),
        ("fonts = 3", "[fonts] must be a table"),
        ('[fonts]\nX = { files = ["a.ttf"] }', "family"),
        ('[fonts]\nX = { family = "X", files = ["missing.ttf"] }', "not found"),
        ('[generic]\nfancy = "Arial"', "unknown generic"),
        ('default = "Nope"', "not a font of the map"),
    ],
)
def test_bad_font_map_files(tmp_path: Path, toml: str, words: str) -> None:
    config = tmp_path / "fonts.toml"
    config.write_text(toml)
    with pytest.raises(FontMapError, match=re.escape(words)):
        load_font_map(config)


def test_colors_are_typed() -> None:
    color = parse(HEAD + COLORS + r"\cf1 x}").paragraphs[0].runs[0].color
    assert color is not None and color.space is ColorSpace.RGB
