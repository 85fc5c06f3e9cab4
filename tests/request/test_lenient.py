"""Lenient serving (issue 13): what a lenient parse keeps, the mends argument types offer, how
binding applies them, that every adjustment is a warning, and that nothing raises anything but
a ModifierError. The real-world rows of every rule are in tests/request/test_realworld.py."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import isrender
from isrender.commands.args import ArgProblem, Flag, Int, Keyword
from isrender.language import Command, parse_uncached, serialize
from isrender.macros import MacroRegistry, expand
from isrender.request.lenient import WARNING_KINDS
from isrender.service import ImageService, SourceRecord

# ---- the mends argument types offer ---------------------------------------------------------

FORMATS = Keyword("format", choices=("jpeg", "pjpeg", "png", "webp"))
DITHER = Keyword("dither", choices=("diffuse", "off"), optional=True, default="diffuse")

# (argument, refused part, mend kind or None for "no mend: an error", the part it becomes)
MENDS: list[tuple[Any, str, str | None, str | None]] = [
    (Int("width", lo=1), "200.5", "rounded", "201"),
    (Int("width", lo=1), "1e3", "rounded", "1000"),
    (Int("x"), "-2.5", "rounded", "-3"),
    (Int("width", lo=1), "0.4", None, None),  # rounds out of range
    (Int("width", lo=1), "abc", None, None),
    (Int("width", lo=1), "200 ", "white-space", "200"),
    (Flag("chroma"), "1.0", "rounded", "1"),
    (Flag("chroma"), "2.0", None, None),
    (FORMATS, "pjpg", "near-spelling", "pjpeg"),
    (FORMATS, "JPG ", "white-space", "JPG"),
    (FORMATS, "xyz", "default", None),  # no default: the command is ignored
    (DITHER, "dither", "default", "diffuse"),
    (Keyword("mode", choices=("bilin", "bicub", "sharp2", "bisharp")), "trilin", "default", None),
]


@pytest.mark.parametrize(("arg", "part", "kind", "becomes"), MENDS, ids=[m[1] for m in MENDS])
def test_a_refused_part_offers_a_mend(
    arg: Any, part: str, kind: str | None, becomes: str | None
) -> None:
    with pytest.raises(ArgProblem) as caught:
        arg.read(_Reader(part))
    mend = caught.value.mend
    if kind is None:
        assert mend is None
        return
    assert mend is not None and (mend.kind, mend.part) == (kind, becomes)
    assert mend.kind in WARNING_KINDS and mend.note


class _Reader:
    """One part for Arg.read (the ArgReader interface)."""

    def __init__(self, part: str) -> None:
        self.parts, self.index = (part,), 0

    def take(self) -> str:
        self.index += 1
        return self.parts[0]

    def remaining(self) -> int:
        return 1 - self.index


# ---- binding: the mended value is what is bound, and what explain shows ---------------------

BOUND: list[tuple[str, str]] = [
    ("fmt=pjpg&wid=10", "G{fmt=pjpeg wid=10}"),
    ("wid=200.5&qlt=85.0,1.0", "G{wid=201 qlt=85,1}"),
    ("fmt=png &wid=30 ", "G{fmt=png wid=30}"),
    ("fmt=gif&quantize=adaptive,dither,64", "G{fmt=gif quantize=adaptive,diffuse,64}"),
    ("resMode=trilin&wid=30", "G{wid=30}"),
    ("fit=crop&qlt=80", "G{qlt=80}"),
    ("$t=50%+off&wid=30&fmt=png", "G{wid=30 fmt=png}"),
]


@pytest.mark.parametrize(("text", "effective"), BOUND, ids=[b[0] for b in BOUND])
def test_lenient_binding_binds_the_mended_value(text: str, effective: str) -> None:
    request = isrender.bind(isrender.parse(text, lenient=True), strict=False)
    assert request.effective() == effective
    assert request.warnings  # every adjustment is said
    with pytest.raises(isrender.ModifierError):
        isrender.bind(isrender.parse(text), strict=True)


def test_a_literal_percent_reaches_the_variable() -> None:
    request = isrender.bind(isrender.parse("$t=50%+off&$u=%%20%s", lenient=True), strict=False)
    assert dict(request.variables) == {"t": "50% off", "u": "% %s"}


# ---- the lenient parse ----------------------------------------------------------------------


def test_a_macro_right_after_a_group_expands_as_if_separated() -> None:
    registry = MacroRegistry.from_mapping({"overlay": "fmt=png&qlt=70"})
    text = "layer=1&src=is{a?wid=100}$overlay$&wid=500"
    with pytest.raises(isrender.ModifierSyntaxError, match="after a nested group"):
        isrender.parse(text)
    flat = expand(isrender.parse(text, lenient=True), registry)
    request = isrender.bind(flat, strict=False)
    assert request.globals.value("fmt").format == "png"
    assert [(w.kind, w.position) for w in request.warnings] == [("missing-separator", 25)]
    with pytest.raises(isrender.ModifierSyntaxError, match="unexpected '\\$' after a nested"):
        isrender.bind(flat, strict=True)


def test_strict_binding_of_a_lenient_parse_raises_the_strict_parse_error() -> None:
    text = "wid=1&%24large%24&hei=2"
    with pytest.raises(isrender.ModifierSyntaxError) as strict:
        isrender.parse(text)
    with pytest.raises(isrender.ModifierSyntaxError) as bound:
        isrender.bind(isrender.parse(text, lenient=True), strict=True)
    assert bound.value.message == strict.value.message


def test_warnings_inside_a_nested_request_reach_the_request() -> None:
    request = isrender.bind(isrender.parse("src=is{a?_x=1&fmt=pjpg}", lenient=True), strict=False)
    assert [(w.kind, w.command, w.position) for w in request.warnings] == [
        ("not-a-command", "_x", 9),
        ("near-spelling", "fmt", 18),
    ]


def test_a_leading_question_mark_is_the_only_one_that_leads() -> None:
    assert isrender.parse("?wid=1", lenient=True).nodes == (Command("wid", "1", (1, 6)),)
    nodes = isrender.parse("_a&?wid=1", lenient=True).nodes
    assert [n.name for n in nodes if isinstance(n, Command)] == ["_a", "?wid"]


def test_thousands_of_bad_segments_are_read_in_a_loop() -> None:
    ast = parse_uncached("_&" * 5000 + "wid=1", lenient=True)
    assert len(ast.nodes) == 5001
    request = isrender.bind(ast, strict=False)
    assert request.effective() == "G{wid=1}" and len(request.warnings) == 5000


# ---- what the user sees: the service (X-IsRender-Ignored) and explain -----------------------

SOURCE = SourceRecord("photo", None, "v1")
SERVED: list[tuple[str, str]] = [
    ("fmt=pjpg&wid=10", "fmt@4: near-spelling"),
    ("op_usm=0.7,1.0,0.5,0&wid=10", "op_usm@15: rounded"),
    ("fit=crop&qlt=80", "fit@0: needs-another"),
    ("$product=%s&wid=10", "$product@9: literal-percent"),
    ("resMode=trilin&wid=10", "resMode@8: default"),
]


@pytest.mark.parametrize(("text", "ignored"), SERVED, ids=[s[0] for s in SERVED])
def test_the_service_lists_what_it_adjusted(text: str, ignored: str) -> None:
    service = ImageService()
    assert ignored in service.prepare(SOURCE, text, strict=False).ignored
    with pytest.raises(isrender.ModifierError):
        service.prepare(SOURCE, text, strict=True)


@pytest.mark.parametrize(
    ("text", "ignored"),
    [
        ("_tparam_size=250,250&wid=10", "_tparam_size@0: not-a-command"),
        ("src=is{a}$v=1&wid=10", "src@9: missing-separator"),
    ],
)
def test_the_service_ignores_what_is_not_a_command(text: str, ignored: str) -> None:
    assert ignored in ImageService().prepare(SOURCE, text, strict=False).ignored


def test_explain_shows_each_warning() -> None:
    from isrender.cli import main

    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        main, ["explain", "--lenient", "fmt=pjpg&wid=10.0"]
    )
    assert result.exit_code == 0, result.output
    assert "fmt: unknown format 'pjpg' read as 'pjpeg' at 4" in result.stdout
    assert "wid: 10.0 rounded to 10 at 13" in result.stdout
    strict = CliRunner().invoke(main, ["check", "fmt=pjpg&wid=10.0"])
    assert strict.exit_code == 2 and "did you mean 'pjpeg'?" in strict.stderr


# ---- nothing raises but a ModifierError -----------------------------------------------------

PIECES = ["wid", "fmt", "qlt", "src", "layer", "op_usm", "quantize", "req", "fit", "resMode"]
PIECES += ["=", "&", "$", "%", "{", "}", "(", ")", ",", "?", ".", " ", "_", "%24", "%s", "$$"]
PIECES += ["is{", "ir(", "1.5", "0.5", "pjpg", "trilin", "200", "abc", "http://x/y", "…"]
lenient_like = st.lists(st.sampled_from(PIECES), max_size=20).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(lenient_like, st.text(max_size=60)))
def test_lenient_parse_and_bind_raise_only_modifier_errors(text: str) -> None:
    try:
        ast = parse_uncached(text, lenient=True)
    except isrender.ModifierSyntaxError as exc:  # an unterminated group only
        assert "unterminated" in exc.message
        return
    canonical = serialize(ast)
    if not canonical.startswith("?"):  # a leading '?' leads the string it is written into
        assert parse_uncached(canonical, lenient=True) == ast
    for strict in (False, True):
        try:
            isrender.bind(ast, strict=strict, object="photo")
        except isrender.ModifierError as exc:
            assert 0 <= exc.position <= len(text), exc
            exc.render()
