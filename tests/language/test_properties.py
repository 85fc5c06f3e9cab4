"""Hypothesis: no input string makes parse or bind raise anything but a ModifierError, and
whatever parses survives the canonical round trip."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import isrender
from isrender.language import parse_uncached, serialize
from tests.conftest import SHARED, jsonl

STRUCTURAL = "&=$%{}(),?.+ \t;:/-_0123456789abcdefxkgrsIS"
NAMES = [
    "wid",
    "hei",
    "fmt",
    "qlt",
    "src",
    "mask",
    "layer",
    "effect",
    "bgc",
    "crop",
    "op_usm",
    "imageSet",
    "text",
    "rect",
    "quantize",
    "req",
    "icc",
    "is",
    "ir",
    "fxg",
]

modifier_like = st.lists(
    st.one_of(
        st.sampled_from(NAMES),
        st.text(alphabet=STRUCTURAL, max_size=6),
        st.sampled_from(["is{", "ir(", "fxg{", "{", "}", ")", "$v$", "$q=", "%2C", "%", "%zz"]),
    ),
    max_size=24,
).map("".join)


def _real_strings() -> list[str]:
    if not SHARED.exists():
        return ["wid=400&hei=400&fmt=jpeg&qlt=85,1", "src=is{a?b=1&c=2}&layer=1,x&$v=1"]
    rows = jsonl("realworld-requests-sample.jsonl") + jsonl("realworld-presets-sample.jsonl")
    return [row["query"] for row in rows]


REAL = _real_strings()


def check(text: str) -> None:
    """parse/bind in both modes: a result or a ModifierError that points into the text."""
    try:
        ast = parse_uncached(text)
    except isrender.ModifierError as exc:
        assert 0 <= exc.position <= len(text)
        exc.render()
        return
    assert parse_uncached(serialize(ast)) == ast
    for strict in (True, False):
        try:
            isrender.bind(ast, strict=strict, object="photo")
        except isrender.ModifierError as exc:
            assert 0 <= exc.position <= len(text), exc
            exc.render()


FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.text(max_size=80))
@example("src=is{")
@example("src=is{a}}")
@example("$")
@example("layer=comp,comp")
@example("fmt=tif,,")
@example("bgc=0x")
def test_arbitrary_text_never_crashes(text: str) -> None:
    check(text)


@FAST
@given(modifier_like)
def test_modifier_like_text_never_crashes(text: str) -> None:
    check(text)


@FAST
@given(
    st.sampled_from(REAL),
    st.lists(
        st.tuples(
            st.integers(0, 400),
            st.sampled_from(["ins", "del", "rep"]),
            st.sampled_from(list(STRUCTURAL)),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_real_strings_never_crash(base: str, edits: list[tuple[int, str, str]]) -> None:
    text = base
    for at, op, char in edits:
        i = at % (len(text) + 1)
        if op == "ins":
            text = text[:i] + char + text[i:]
        elif op == "del":
            text = text[:i] + text[i + 1 :]
        else:
            text = text[:i] + char + text[i + 1 :]
    check(text)


# ---- macros -----------------------------------------------------------------------------------

MACRO_NAMES = ["a", "b", "c", "View", "pdp"]
FRAGMENTS = [
    "wid=10",
    "hei=$h$",
    "$h=5",
    "fmt=png",
    "qlt=80,1",
    "op_usm=1,1",
    "layer=1",
    "src=is{x?$a$}",
    "$b$",
    "$a$",
    "$c$",
    "$view$",
    "$nosuch$",
    "$$",
    "bgc=80",
    "",
]

definition = st.lists(st.sampled_from(FRAGMENTS), max_size=5).map("&".join)
registries = st.lists(st.tuples(st.sampled_from(MACRO_NAMES), definition), max_size=6)


@FAST
@given(registries, definition)
def test_expansion_raises_only_modifier_errors(
    entries: list[tuple[str, str]], request: str
) -> None:
    from isrender.macros import ExpansionLimits, MacroRegistry, expand
    from isrender.macros.files import MacroEntry

    limits = ExpansionLimits(max_commands=40, max_length=800)
    registry = MacroRegistry(limits=limits).with_macros(
        MacroEntry(n, d, f"h:{i}") for i, (n, d) in enumerate(entries)
    )
    for macro in registry.default.values():
        assert macro.commands <= limits.max_commands and macro.length <= limits.max_length
    try:
        flat = expand(isrender.parse(request), registry)
        assert not flat.macro_refs()
        commands = [n for n in flat.nodes if isinstance(n, isrender.language.Command)]
        assert len(commands) <= limits.max_commands + request.count("&") + 1
        isrender.bind(flat, strict=False)
    except isrender.ModifierError as exc:  # MacroDefinitionError is one
        exc.render()
