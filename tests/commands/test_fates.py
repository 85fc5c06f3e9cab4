"""The command table is the single source (issue 12): every command declares how it reaches
the pixels, and one FormatSpec table says what every output format means."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from isrender import bind, parse
from isrender.commands import CommandSpec, all_commands
from isrender.commands.formats import FORMATS, PRODUCIBLE
from isrender.commands.registry import FATES, NOT_RENDERED
from isrender.errors import UnsupportedFeatureError
from isrender.render import steps
from isrender.render.plan import RenderPlan, SourceInfo, plan

STEP_NAMES = {
    cls.name
    for cls in vars(steps).values()
    if isinstance(cls, type) and issubclass(cls, steps.Step) and cls.name
}
PHOTO = SourceInfo(2000, 1500, 3, "srgb", False, False, loader="jpegload")
LOGO = SourceInfo(400, 200, 4, "srgb", True, False, loader="pngload")


def _plan(modifiers: str, lenient: bool = False) -> RenderPlan:
    return plan(bind(parse(modifiers), strict=True), PHOTO, lenient=lenient,
                layer_sources={"logo": LOGO})  # fmt: skip


@pytest.mark.parametrize("spec", list(all_commands()), ids=lambda s: s.name)
def test_every_command_declares_a_known_fate(spec: CommandSpec) -> None:
    fate = spec.renders
    assert fate, f"{spec.name} declares no render fate"
    assert fate in FATES or fate in STEP_NAMES, f"{fate!r} is neither a fate nor a step"


# One command of each rendered step, the step it must produce.
PRODUCES = [
    ("op_blur=3", "filter"),
    ("op_invert=1", "filter"),
    ("op_sharpen=1", "sharpen"),
    ("op_usm=1,1,6,0", "unsharp"),
    ("crop=10,10,500,500", "crop"),
    ("flip=lr", "flip"),
    ("rotate=45", "rotate"),
    ("extend=10,10,10,10", "extend"),
    ("bgColor=ff0000", "fill"),
    ("color=00ff00", "fill"),
    ("opac=50", "opacity"),
    ("hide=1", "opacity"),
    ("icc=CMYK", "colour"),
    ("fmt=png", "encode"),
    ("mask=logo", "layer_mask"),
    ("maskUse=invert", "mask"),
    ("op_growMaskR=5", "grow_mask"),
    ("op_grow=50", "grow"),  # composite pixels: 5 at wid=200
    ("clipPath=M0,0L10,0L10,10Z", "clip"),
    ("clipXPath=M0,0L5,0L5,5Z&clipPath=M0,0L10,0L10,10Z", "clip"),
]


@pytest.mark.parametrize(("modifiers", "step"), PRODUCES)
def test_a_rendered_command_produces_its_declared_step(modifiers: str, step: str) -> None:
    name = modifiers.partition("=")[0]
    spec = next(s for s in all_commands() if s.name == name)
    assert spec.renders == step
    assert step in [s.name for s in _plan(f"wid=200&{modifiers}").steps]


UNRENDERED = [s.name for s in all_commands() if s.renders == NOT_RENDERED]
EXAMPLES = {
    "text": "text=hello",
    "textPs": "textPs=hello",
}  # template= is expanded before binding; tests/render/test_templates_pixels.py renders it


@pytest.mark.parametrize("command", sorted(EXAMPLES))
def test_not_rendered_is_refused_strictly_and_ignored_leniently(command: str) -> None:
    assert command in UNRENDERED
    with pytest.raises(UnsupportedFeatureError, match=f"{command}= is not rendered yet"):
        _plan(EXAMPLES[command])
    lenient = _plan(EXAMPLES[command], lenient=True)
    assert f"{command}: not rendered yet" in lenient.ignored


def test_layer_placement_on_layer_0_alone_is_noted_not_dropped_silently() -> None:
    found = _plan("wid=200&anchor=5,5&origin=1,1")
    assert found.ignored == (
        "anchor: no effect on layer 0 alone (§6.6)",
        "origin: no effect on layer 0 alone (§6.6)",
    )
    # pos= and blendMode= are ignored for layer 0 by binding already, with a warning
    bound = bind(parse("wid=200&pos=3,3"), strict=True)
    assert [w.message for w in bound.warnings] == ["pos is ignored for comp and layer 0"]


def test_layer_placement_is_rendered_by_the_composite_step() -> None:
    # with a layer above 0 the LAYERS commands place it (and layer 0's anchor is the origin)
    logo = SourceInfo(400, 200, 4, "srgb", True, False, loader="pngload")
    modifiers = (
        "wid=200&anchor=5,5&layer=1&src=logo&anchorN=0,0&originN=0,0&posN=.1,0&blendMode=mult"
    )
    found = plan(bind(parse(modifiers), strict=True), PHOTO, layer_sources={"logo": logo})
    assert found.ignored == ()
    composite = next(s for s in found.steps if isinstance(s, steps.Composite))
    assert [layer.placement.blend for layer in composite.layers] == ["mult"]


def test_the_format_table_drives_parsing_encoding_and_exports() -> None:
    from isrender.commands import lookup
    from isrender.render.formats import output_format

    fmt = lookup("fmt")
    assert fmt is not None
    assert set(fmt.args[0].choices) == set(FORMATS)  # type: ignore[attr-defined]
    for name, spec in FORMATS.items():
        output = output_format(bind(parse(f"fmt={name}"), strict=True))
        assert (output.extension, output.media_type) == (spec.extension, spec.media_type)
        assert output.keeps_alpha == spec.alpha == name.endswith("-alpha")
    assert "heic" not in PRODUCIBLE and "avif" in PRODUCIBLE and "f4m" not in PRODUCIBLE


SRC = Path(__file__).resolve().parents[2] / "src" / "isrender"
# A quoted format name with an extension or media type beside it: a second format table.
SECOND_TABLE = re.compile(r"\"(?:jpeg2000|jpegxr|png8|webp|avif|heic|gif|tif)\"[^\n]*\"\.\w+\"")


def test_formats_are_named_only_in_the_format_table() -> None:
    found = [
        p.relative_to(SRC).as_posix()
        for p in SRC.rglob("*.py")
        if p.name != "formats.py" and SECOND_TABLE.search(p.read_text())
    ]
    assert found == []


def test_filters_apply_in_the_order_of_step_a5() -> None:
    """§6.0 A5 (D-26): the order comes from the command table's declaration order."""
    from isrender.render.phases import FILTER_ORDER

    assert FILTER_ORDER == (
        "op_brightness", "op_contrast", "op_colorbalance", "op_hue", "op_saturation",
        "op_colorize", "op_invert", "op_blur", "op_noise",
    )  # fmt: skip
