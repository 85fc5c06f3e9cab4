"""Macros, catalog modifiers and ExportJob composition: spec §2-§3, §8.10-8.11."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import isrender
from isrender.macros import ExpansionLimits, MacroRegistry, expand, export_modifiers
from isrender.macros.files import MacroEntry
from isrender.render.formats import export_filename, output_format
from tests.scopes import effective, expected_scopes
from tests.tables.macros import EXPORTS, RECORDS, ROWS

FIXTURE = Path(__file__).parents[1] / "fixtures" / "spec-macros.tsv"


@pytest.fixture(scope="module")
def registry() -> MacroRegistry:
    return MacroRegistry.from_files(FIXTURE)


def run(
    registry: MacroRegistry, modifiers: str, record: str | None = None
) -> isrender.ImageRequest:
    modifier, post = RECORDS[record] if record else (None, None)
    flat = expand(isrender.parse(modifiers), registry, modifier=modifier, post_modifier=post)
    return isrender.bind(flat, strict=True, object="photo")


@pytest.mark.parametrize(("eid", "modifiers", "record", "expected"), ROWS, ids=[r[0] for r in ROWS])
def test_macro_examples(
    registry: MacroRegistry, eid: str, modifiers: str, record: str | None, expected: Any
) -> None:
    if isinstance(expected, str):
        assert effective(run(registry, modifiers, record)) == expected_scopes(expected), eid
    else:
        with pytest.raises(expected) as info:
            run(registry, modifiers, record)
        assert type(info.value) is expected


@pytest.mark.parametrize(
    ("eid", "is_modifier", "macro", "expected", "fmt", "extension"),
    EXPORTS,
    ids=[r[0] for r in EXPORTS],
)
def test_export_composition(
    registry: MacroRegistry,
    eid: str,
    is_modifier: str,
    macro: str | None,
    expected: str,
    fmt: str,
    extension: str,
) -> None:
    """§3.7: is_modifier + '&' + $macro$; the macro wins; fmt decides the extension."""
    text = export_modifiers(is_modifier, macro)
    request = isrender.bind(expand(isrender.parse(text), registry))
    assert effective(request) == expected_scopes(expected), eid
    assert output_format(request).format == fmt
    assert export_filename("fileToExport.jpg", request) == "fileToExport" + extension


def test_seed_example_file_name(registry: MacroRegistry) -> None:
    text = export_modifiers("&fmt=png", "$test$")
    assert text == "&fmt=png&$test$"
    request = isrender.bind(expand(isrender.parse(text), registry))
    assert export_filename("fileToExport.jpg", request) == "fileToExport.tiff"


def test_e203_resolve_string_is_the_expanded_request(registry: MacroRegistry) -> None:
    flat = expand(isrender.parse("req=resolve&$view$&wid=480"), registry)
    assert isrender.serialize(flat).endswith("wid=480")
    assert "$view$" not in isrender.serialize(flat)


def test_errors_point_into_the_text_they_come_from(registry: MacroRegistry) -> None:
    with pytest.raises(isrender.InvalidValueError) as info:
        run(registry, "$webpq$")
    error = info.value
    assert error.at.origin.startswith("macro 'webpq' (spec-macros.tsv:5)")
    assert error.source == "fmt=webp&qlt=$q$" and error.position == 13
    with pytest.raises(isrender.MacroDefinitionError) as info2:
        run(registry, "wid=1&$early$")
    assert info2.value.position == 6 and "defined later (spec-macros.tsv:10)" in str(info2.value)


def test_unknown_macro_suggests_the_closest(registry: MacroRegistry) -> None:
    with pytest.raises(isrender.UnknownMacroError) as info:
        run(registry, "wid=1&$veiw$")
    assert info.value.position == 6 and "did you mean '$view$'?" in str(info.value)


def test_nested_is_bodies_are_expanded(registry: MacroRegistry) -> None:
    request = run(registry, "src=is{photo?$thumb$&fit=fit}&wid=80")
    nested = request.layer(0).attributes.value("src")  # type: ignore[union-attr]
    assert effective(nested.request) == expected_scopes("G{wid=100 hei=100 fit=fit fmt=png}")


def test_modifier_and_post_modifier_may_use_macros(registry: MacroRegistry) -> None:
    flat = expand(isrender.parse("wid=480"), registry, modifier="$view$", post_modifier="$tiff$")
    request = isrender.bind(flat)
    assert request.globals.value("wid") == 480 and request.globals.value("fmt").format == "tif"
    origins = {b.name: b.origin.label for b in request.globals if b.origin}
    assert origins["wid"] == "request" and origins["fmt"] == "macro 'tiff' (spec-macros.tsv:8)"
    assert [str(b) for b in request.overridden] == ["wid=240", "fmt=jpeg"]


def test_expansion_is_memoised_without_reparsing(registry: MacroRegistry) -> None:
    ast = isrender.parse("$pdp$&wid=480")
    assert expand(ast, registry) is expand(isrender.parse("$pdp$&wid=480"), registry)
    plain = isrender.parse("wid=1")
    assert expand(plain, registry) is plain  # nothing to expand: the same object


def test_catalog_macros_come_first_and_may_invoke_default_ones(registry: MacroRegistry) -> None:
    layered = registry.with_macros(
        [
            MacroEntry("view", "wid=999", "cat.tsv:2"),
            MacroEntry("big", "$thumb$&wid=500", "cat.tsv:3"),
        ],  # type: ignore[attr-defined]
        catalog="cat",
    )
    assert (
        isrender.bind(expand(isrender.parse("$view$"), layered, catalog="cat")).globals.value("wid")
        == 999
    )
    assert isrender.bind(expand(isrender.parse("$view$"), layered)).globals.value("wid") == 240
    big = isrender.bind(expand(isrender.parse("$big$"), layered, catalog="cat"))
    assert big.globals.value("wid") == 500 and big.globals.value("fit").mode == "crop"


def test_problems_are_listed_with_file_and_line(registry: MacroRegistry) -> None:
    (problem,) = registry.problems()
    assert problem.macro == "early" and problem.where == "spec-macros.tsv:9"
    assert registry.get("late") is not None and registry.get("late").valid  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("definitions", "bad", "reason"),
    [
        ({"a": "$a$&wid=1"}, "a", "invokes itself"),
        ({"a": "$b$", "b": "wid=1"}, "a", "defined later"),
        ({"a": "$zz$"}, "a", "which is not defined"),
        ({"a": "$b$", "b": "wid=1", "c": "$a$"}, "c", "which is invalid"),
        ({"a": "wid=1&$x y=1"}, "a", "invalid character ' '"),
        ({"a b": "wid=1"}, "a b", "is not letters"),
        ({"a": "src=is{x"}, "a", "unterminated nested group"),
        ({"a": "src=is{x?$a$}"}, "a", "invokes itself"),  # found by hypothesis: nested bodies
        ({"a": "src=is{x?$b$}", "b": "wid=1"}, "a", "defined later"),
    ],
)
def test_invalid_definitions(definitions: dict[str, str], bad: str, reason: str) -> None:
    registry = MacroRegistry.from_mapping(definitions)
    problems = {p.macro: p for p in registry.problems()}
    assert bad in problems and reason in str(problems[bad])
    valid = [m for m in registry.default.values() if m.valid]
    assert all(m.name != bad for m in valid)


def test_expansion_bombs_are_refused_before_they_are_built() -> None:
    limits = ExpansionLimits(max_commands=500, max_length=20_000)
    definitions = {"a": "&".join(f"op_blur={i}" for i in range(10))}
    for name, inner in (("b", "a"), ("c", "b"), ("d", "c")):
        definitions[name] = "&".join([f"${inner}$"] * 10)
    registry = MacroRegistry.from_mapping(definitions, limits=limits)
    assert registry.get("b").valid  # type: ignore[union-attr]  # 100 commands
    assert not registry.get("c").valid  # type: ignore[union-attr]  # 1000 commands
    assert "over the limits" in str(registry.get("c").problem)  # type: ignore[union-attr]
    with pytest.raises(isrender.LimitExceededError) as info:
        expand(isrender.parse("&".join(["$b$"] * 6)), registry)
    assert "$b$" in str(info.value) and info.value.position == 20


def test_nested_bodies_in_definitions_are_expanded_at_load_time() -> None:
    registry = MacroRegistry.from_mapping({"b": "wid=1", "a": "src=is{x?$b$&hei=2}"})
    assert registry.get("a").expansion() == "src=is{x?wid=1&hei=2}"  # type: ignore[union-attr]
    flat = expand(isrender.parse("$a$&src=is{y?$a$}"), registry)
    assert isrender.serialize(flat) == "src=is{x?wid=1&hei=2}&src=is{y?src=is{x?wid=1&hei=2}}"
