"""The grammar and parser: shapes, spans, nesting, errors with positions, canonical round trip."""

from __future__ import annotations

import re
from typing import Any

import pytest

import isrender
from isrender.language import (
    Command,
    MacroRef,
    ModifierString,
    NestedKind,
    SegmentStart,
    VarDef,
    parse,
    parse_uncached,
    serialize,
    serialize_node,
)
from isrender.language.grammar import grammar_path
from tests.conftest import jsonl, shared_path


def shape(ast: ModifierString) -> list[tuple[str, Any, Any]]:
    out: list[tuple[str, Any, Any]] = []
    for node in ast.nodes:
        if isinstance(node, Command | SegmentStart | VarDef):
            out.append((type(node).__name__, node.name, node.value))
        elif isinstance(node, MacroRef):
            out.append(("MacroRef", node.name, None))
        else:
            out.append(("Comment", node.text, None))
    return out


SHAPES: list[tuple[str, list[tuple[str, Any, Any]]]] = [
    ("", []),
    ("?", []),
    ("&", []),
    ("?&hei=400", [("Command", "hei", "400")]),  # the reference's own examples start so
    ("&&wid=200&&", [("Command", "wid", "200")]),
    ("wid", [("Command", "wid", None)]),
    ("wid=", [("Command", "wid", "")]),
    ("map=<a=b>", [("Command", "map", "<a=b>")]),  # further '=' belong to the value
    ("$view$", [("MacroRef", "view", None)]),
    ("$a", [("VarDef", "a", None)]),  # D-12: an empty definition
    ("$a=", [("VarDef", "a", "")]),
    ("$a=$b$", [("VarDef", "a", "$b$")]),
    ("$a.b-c_d=1", [("VarDef", "a.b-c_d", "1")]),
    (".ts=1&wid=2", [("Comment", ".ts=1", None), ("Command", "wid", "2")]),  # D-02
    (
        "wid=1&.x&.y=z",
        [("Command", "wid", "1"), ("Comment", ".x", None), ("Comment", ".y=z", None)],
    ),
    ("layer=1,a&effect=-1", [("SegmentStart", "layer", "1,a"), ("SegmentStart", "effect", "-1")]),
    ("LAYER=comp", [("SegmentStart", "LAYER", "comp")]),
    ("text={\\b bold}&wid=1", [("Command", "text", "{\\b bold}"), ("Command", "wid", "1")]),  # D-07
    ("src=is%7Bphoto%7D", [("Command", "src", "is%7Bphoto%7D")]),  # encoded: not a group
    ("src=IS{photo}", [("Command", "src", "IS{photo}")]),  # D-14: prefixes are lowercase
    ("src=foo{a&b=1", [("Command", "src", "foo{a"), ("Command", "b", "1")]),
    ("wid=1src=is{a}", [("Command", "wid", "1src=is{a}")]),
    ("id={}", [("Command", "id", "{}")]),
]


@pytest.mark.parametrize(("text", "expected"), SHAPES, ids=[s[0] or "empty" for s in SHAPES])
def test_shapes(text: str, expected: list[tuple[str, Any, Any]]) -> None:
    assert shape(parse(text)) == expected


@pytest.mark.parametrize(
    ("text", "kind", "obj", "inner"),
    [
        ("src=is{photo?wid=100&fmt=png}", NestedKind.IS, "photo", "wid=100&fmt=png"),
        ("SRC=is{photo?wid=100}", NestedKind.IS, "photo", "wid=100"),
        ("src=is(photo?wid=100)", NestedKind.IS, "photo", "wid=100"),
        ("mask=ir{cat/obj?res=30&sel=a}", NestedKind.IR, "cat/obj", "res=30&sel=a"),
        ("src=fxg{x?&$t=a&b=c}", NestedKind.FXG, "x", "$t=a&b=c"),
        ("src=is{?src=photo&wid=100}", NestedKind.IS, "", "src=photo&wid=100"),
        ("src=is{photo}", NestedKind.IS, "photo", ""),
        ("src={http://h/x.jpg?a=1&b=2}", NestedKind.URL, None, None),
        ("imageSet={a,b,c}", NestedKind.URL, None, None),
        ("src=ir(a{b}?c=d)", NestedKind.IR, "a{b}", "c=d"),  # other brackets are data
    ],
)
def test_nested_groups(text: str, kind: NestedKind, obj: str | None, inner: str | None) -> None:
    (command,) = parse(text).nodes
    assert isinstance(command, Command) and command.nested is not None
    nested = command.nested
    assert nested.kind is kind and nested.object == obj
    if inner is None:
        assert nested.request is None
    else:
        assert nested.request is not None and serialize(nested.request) == inner
    assert command.value == nested.text == text.partition("=")[2]


def test_nesting_to_any_depth_keeps_absolute_spans() -> None:
    text = "wid=1&src=is{a?src=is{b?src=is(c?hei=2&qlt=3)&x=1}&y=2}&z=3"
    ast = parse(text)
    depth, node = 0, ast.nodes[1]
    while isinstance(node, Command) and node.nested and node.nested.request:
        for child in node.nested.request.nodes:
            assert text[child.span[0] : child.span[1]] == serialize_node(child)
        node = node.nested.request.nodes[0]
        depth += 1
    assert depth == 3
    assert shape(ast)[2] == ("Command", "z", "3")


def test_spans_point_at_the_source() -> None:
    text = "?&wid=200&&$v$&$a=1&.c&layer=1&src=is{x?y=1}&op_usm=1,1"
    ast = parse(text)
    for node in ast.nodes:
        start, end = node.span
        assert text[start:end] == serialize_node(node)


def test_variable_references_are_nodes_with_spans() -> None:
    text = "$a=1&src=my$image$file$a$.tif"
    command = parse(text).nodes[1]
    assert isinstance(command, Command)
    refs = command.references()
    assert [r.name for r in refs] == ["image", "a"]
    assert [text[r.span[0] : r.span[1]] for r in refs] == ["$image$", "$a$"]


ERRORS: list[tuple[str, int, str]] = [
    ("src=is{photo?wid=100", 0, "unterminated nested group"),  # E-193
    ("src=is(photo", 0, "add the missing ')'"),
    ("src=is{photo}x&wid=10", 13, "after a nested group"),  # E-194, D-03
    ("src=is{a}src=is{b}", 9, "after a nested group"),
    ("%24view%24", 0, "write $view$"),  # E-136
    ("$view$=1", 0, "neither a macro invocation nor a variable definition"),  # E-137
    ("$view$x", 0, "neither a macro invocation"),
    ("$a b=1", 2, "invalid character ' '"),  # E-137
    ("$$", 0, "empty macro or variable name"),
    ("$=1", 0, "empty macro or variable name"),
    ("=5", 0, "missing command name"),
    ("a-b=1", 1, "invalid character '-'"),
    ("wid=1&9x=1", 6, "invalid character '9'"),
    ("wid=500& layer=1", 8, "white space in command name"),
    ("wid=1&??x", 6, "unexpected '?'"),
    ("wid=1&src=is{a?b=1&c d=2}", 20, "white space in command name"),  # nested, absolute
]


@pytest.mark.parametrize(("text", "position", "fragment"), ERRORS, ids=[e[0] for e in ERRORS])
def test_syntax_errors_name_the_position(text: str, position: int, fragment: str) -> None:
    with pytest.raises(isrender.ModifierSyntaxError) as info:
        parse_uncached(text)
    error = info.value
    assert error.position == position, error.render()
    assert fragment in error.message
    caret_line = error.caret().splitlines()[1]
    assert caret_line.index("^") == position  # short strings are shown whole


def test_caret_window_on_long_strings() -> None:
    text = "wid=1&" * 30 + "a-b=1"
    with pytest.raises(isrender.ModifierSyntaxError) as info:
        parse_uncached(text)
    shown, caret = info.value.caret().splitlines()
    assert shown.startswith("...") and shown[caret.index("^")] == "-"


def test_errors_carry_an_http_status_and_public_message() -> None:
    with pytest.raises(isrender.ModifierError) as info:
        parse_uncached("$$")
    assert info.value.http_status == 400
    assert info.value.public_message == str(info.value)


def test_grammar_describes_shape_not_command_names() -> None:
    grammar = grammar_path().read_text()
    rules = [line for line in grammar.splitlines() if not line.lstrip().startswith("//")]
    for name in ("wid", "hei", "fmt", "qlt", "layer", "op_usm", "resMode"):
        assert not re.search(rf"\b{name}\b", "\n".join(rules), re.IGNORECASE), name


def test_parse_is_cached_and_results_are_immutable() -> None:
    text = "wid=200&fmt=png"
    assert parse(text) is parse(text)
    assert parse_uncached(text) == parse(text)
    with pytest.raises(AttributeError):
        parse(text).nodes = ()  # type: ignore[misc]


def _spec_strings() -> list[str]:
    spec = shared_path("spec", "image-serving.md").read_text(encoding="utf-8")
    return sorted(set(re.findall(r"`([^`\n]+)`", spec)))


def _example_strings() -> list[str]:
    names = (
        "realworld-requests-sample.jsonl",
        "realworld-presets-sample.jsonl",
        "reference-doc-examples.jsonl",
    )
    return [row["query"] for name in names for row in jsonl(name)]


def _round_trips(strings: list[str]) -> int:
    parsed = 0
    for text in strings:
        try:
            ast = parse_uncached(text)
        except isrender.ModifierSyntaxError:
            continue
        assert parse_uncached(serialize(ast)) == ast, text
        assert serialize(parse_uncached(serialize(ast))) == serialize(ast)
        parsed += 1
    return parsed


def test_round_trip_every_spec_string() -> None:
    assert _round_trips(_spec_strings()) > 400


def test_round_trip_every_example_string() -> None:
    strings = _example_strings()
    assert _round_trips(strings) >= len(strings) - 20
