"""The command table: complete against spec §6.1, documented, and consistent."""

from __future__ import annotations

import re

import pytest

from isrender.commands import InComp, Scope, Tag, all_commands, lookup
from tests.conftest import shared_path

VARIANTS = {
    "anchorN",
    "originN",
    "posN",
    "cropN",
    "sizeN",
    "extendN",
    "perspectiveN",
    "clipPathE",
    "clipXPathE",
    "mapA",
}
AUXILIARY = {"message", "name", "timeout", "handler", "labelkey"}


def _spec_index() -> dict[str, tuple[str, str]]:
    """Command -> (tag, scope) from the command index table of spec §6.1."""
    text = shared_path("spec", "image-serving.md").read_text(encoding="utf-8")
    section = text[text.index("### 6.1 Command index") : text.index("Auxiliary parameters")]
    index: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        for i in (0, 4):
            if len(cells) > i + 2 and cells[i].startswith("`"):
                for name in re.findall(r"`([A-Za-z_]+)`", cells[i]):
                    index[name] = (cells[i + 1], cells[i + 2])
    return index


def test_table_has_every_command_of_spec_6_1() -> None:
    index = _spec_index()
    registered = {spec.name for spec in all_commands()}
    assert set(index) <= registered, set(index) - registered
    base = registered - VARIANTS - AUXILIARY
    assert len(base) == 79


def test_tags_and_scopes_match_spec_6_1() -> None:
    for name, (tag, scope) in _spec_index().items():
        spec = lookup(name)
        assert spec is not None
        assert spec.tag.value in tag, (name, tag, spec.tag)
        expected_global = scope.startswith("G")
        assert spec.is_global == expected_global or name in {"layer", "effect"}, (name, scope)


@pytest.mark.parametrize("spec", list(all_commands()), ids=lambda s: s.name)
def test_every_command_is_documented(spec: object) -> None:
    assert len(spec.summary) > 20 and spec.summary.endswith(".")  # type: ignore[attr-defined]
    assert spec.syntax().startswith(spec.name)  # type: ignore[attr-defined]


def test_names_are_case_insensitive_and_aliases_resolve() -> None:
    assert lookup("RESMODE") is lookup("resMode")
    assert lookup("colorize") is lookup("op_colorize")  # D-42


@pytest.mark.parametrize(
    ("names", "slot"),
    [
        (("crop", "cropN"), "crop"),
        (("size", "sizeN"), "size"),
        (("op_usm", "op_usmR"), "op_usm"),
        (("src", "text", "textPs"), "content"),
        (("clipPath", "clipPathE"), "clippath"),
        (("anchor", "anchorN"), "anchor"),
        (("op_growMask", "op_growMaskR"), "op_growmask"),
    ],
)
def test_variants_share_a_slot(names: tuple[str, ...], slot: str) -> None:
    """D-13 and §1.8 rule 4: whichever variant comes last wins."""
    assert {lookup(n).slot for n in names} == {slot}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("crop", InComp.LAYER0),
        ("rotate", InComp.LAYER0),
        ("src", InComp.LAYER0),
        ("flip", InComp.COMPOSITE),
        ("op_blur", InComp.COMPOSITE),
        ("opac", InComp.COMPOSITE),
        ("op_sharpen", InComp.VIEW),
        ("op_usmR", InComp.VIEW),
        ("pos", InComp.IGNORED),
        ("blendMode", InComp.IGNORED),
        ("sizeN", InComp.FORBIDDEN),
        ("map", InComp.COMPOSITE),
    ],
)
def test_comp_scope_redirection_table(name: str, target: InComp) -> None:
    """Spec §1.9: what a layer command written before any layer= applies to."""
    spec = lookup(name)
    assert spec is not None and spec.scope is Scope.LAYER and spec.in_comp is target


def test_effect_layers_accept_only_their_commands() -> None:
    accepted = {s.name for s in all_commands() if s.in_effect}
    assert accepted == {
        "blendMode",
        "color",
        "maskUse",
        "opac",
        "op_blur",
        "op_grow",
        "op_noise",
        "pos",
        "posN",
    }


def test_core_commands_are_tagged_core() -> None:
    core = {s.name for s in all_commands() if s.tag is Tag.CORE}
    assert {"wid", "hei", "fmt", "qlt", "crop", "rotate", "op_usm", "bgColor", "icc"} <= core
