"""Spec §8 examples decided at parse/bind time, straight from tests/tables (E-nn ids)."""

from __future__ import annotations

import math
from typing import Any

import pytest

import isrender
from isrender.request import ImageRequest
from tests.scopes import effective, expected_scopes
from tests.tables.conformance import ROWS
from tests.tables.values import BAD_COLORS, COLORS, VALUES


@pytest.mark.parametrize(
    ("eid", "modifiers", "expected"), ROWS, ids=[f"{r[0]}:{r[1]}" for r in ROWS]
)
def test_conformance(eid: str, modifiers: str, expected: Any) -> None:
    if isinstance(expected, str):
        request = isrender.bind(isrender.parse(modifiers), strict=True, object="photo")
        assert effective(request) == expected_scopes(expected), eid
    else:
        with pytest.raises(expected) as info:
            isrender.bind(isrender.parse(modifiers), strict=True)
        assert type(info.value) is expected, f"{eid}: {type(info.value).__name__}: {info.value}"
        assert 0 <= info.value.position <= len(modifiers)


def _scope_value(request: ImageRequest, scope: str, slot: str) -> Any:
    if scope == "vars":
        return dict(request.variables)[slot]
    if scope == "G":
        attributes = request.globals
    elif scope == "C":
        attributes = request.comp
    else:
        layer = request.layer(int(scope[1:]))
        assert layer is not None, f"no layer {scope}"
        attributes = layer.attributes
    assert slot in attributes, f"{slot} not in {scope}"
    return attributes.value(slot)


def _close(a: Any, b: Any) -> bool:
    """Structural equality with float tolerance (colour components are fractions)."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and math.isclose(a, b)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if hasattr(a, "__dataclass_fields__") and type(a) is type(b):
        return all(_close(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    return bool(a == b)


@pytest.mark.parametrize(
    ("eid", "modifiers", "scope", "slot", "value"), VALUES, ids=[f"{r[0]}:{r[3]}" for r in VALUES]
)
def test_typed_value(eid: str, modifiers: str, scope: str, slot: str, value: Any) -> None:
    request = isrender.bind(isrender.parse(modifiers))
    got = _scope_value(request, scope, slot)
    assert _close(got, value), f"{eid}: {got!r} != {value!r}"


@pytest.mark.parametrize(("text", "space", "components", "alpha", "source"), COLORS)
def test_color_table(
    text: str, space: Any, components: tuple[float, ...], alpha: float, source: bool
) -> None:
    color = isrender.bind(isrender.parse(f"color={text}")).layer(0).attributes.value("color")  # type: ignore[union-attr]
    assert color.space is space
    assert _close(color.components, tuple(float(c) for c in components))
    assert math.isclose(color.alpha, alpha)
    assert color.source is source


@pytest.mark.parametrize("text", BAD_COLORS)
def test_bad_colors(text: str) -> None:
    with pytest.raises(isrender.InvalidValueError) as info:
        isrender.bind(isrender.parse(f"bgc={text}"))
    assert info.value.command == "bgc"
    assert info.value.position >= 4


@pytest.mark.parametrize(
    ("bgc", "rgb8"),
    [
        ("80", (204, 204, 204)),
        ("0x80", (128, 128, 128)),
        ("0,0,0,100k", (0, 0, 0)),
        ("ff000080", (255, 0, 0)),
        ("100", (255, 255, 255)),
        ("ffffff", (255, 255, 255)),
    ],
)
def test_color_to_rgb8(bgc: str, rgb8: tuple[int, int, int]) -> None:
    """E-106, E-107, E-109, E-112: what bgc bands look like in RGB output."""
    color = isrender.bind(isrender.parse(f"bgc={bgc}")).globals.value("bgc")
    assert color.to_rgb8() == rgb8


def test_e135_lenient_ignores_unknown_with_warning() -> None:
    request = isrender.bind(isrender.parse("wdi=200"), strict=False)
    assert effective(request) == {}
    (warning,) = request.warnings
    assert warning.kind == "unknown-command" and "did you mean 'wid'" in warning.message


def test_e153_object_is_predefined_unless_defined() -> None:
    plain = isrender.bind(isrender.parse("layer=0&src=$object$"), object="photo")
    assert plain.layer(0).attributes.value("src") == "photo"  # type: ignore[union-attr]
    defined = isrender.bind(isrender.parse("$object=tall&layer=0&src=$object$"), object="photo")
    assert defined.layer(0).attributes.value("src") == "tall"  # type: ignore[union-attr]


def test_e188_effect_keeps_only_effect_commands() -> None:
    request = isrender.bind(isrender.parse("layer=1&src=logo&effect=-1&op_blur=4&src=photo"))
    layer = request.layer(1)
    assert layer is not None
    (effect,) = layer.effects
    assert effect.number == -1 and effect.attributes.value("op_blur") == 4.0
    assert "src" not in effect.attributes
    assert [w.kind for w in request.warnings] == ["ignored"]


def test_e189_nested_request_is_bound_with_its_own_scopes() -> None:
    request = isrender.bind(isrender.parse("src=is{?src=photo&wid=100&fmt=png}&wid=80"))
    nested = request.layer(0).attributes.value("src")  # type: ignore[union-attr]
    assert nested.kind.value == "is" and nested.object == ""
    assert effective(nested.request) == {"G": {"wid": "100", "fmt": "png"}, "L0": {"src": "photo"}}


def test_e185_names_select_the_same_layer() -> None:
    request = isrender.bind(isrender.parse("layer=1,img&layer=1,pic&src=logo&layer=pic&opac=50"))
    layer = request.layer(1)
    assert layer is not None and set(layer.names) == {"img", "pic"}


def test_map_a_is_ignored_when_map_present() -> None:
    """D-13: mapA is ignored whenever map= is in the same layer, whatever the order."""
    request = isrender.bind(isrender.parse("layer=1&map=a&mapA=b"))
    layer = request.layer(1)
    assert layer is not None and "map" in layer.attributes and "mapA" not in layer.attributes
