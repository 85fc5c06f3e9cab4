"""Plain-data views of every stage (for ``--json`` output and ``isrender explain``)."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

from isrender.commands import Color, CommandSpec
from isrender.commands.args import Arg, Keyword, Rest
from isrender.language import (
    Command,
    Comment,
    MacroRef,
    ModifierString,
    Nested,
    Node,
    SegmentStart,
    VarDef,
)
from isrender.request.model import Attributes, ImageRequest, NestedSource

__all__ = ["ast_data", "command_data", "format_data", "request_data", "value_data"]


def ast_data(ast: ModifierString) -> list[dict[str, Any]]:
    return [node_data(node) for node in ast.nodes]


def node_data(node: Node) -> dict[str, Any]:
    data: dict[str, Any] = {"type": type(node).__name__, "span": list(node.span)}
    if isinstance(node, Command | SegmentStart):
        data.update(name=node.name, value=node.value)
        if isinstance(node, Command):
            if node.nested is not None:
                data["nested"] = nested_data(node.nested)
            refs = node.references()
            if refs:
                data["references"] = [{"name": r.name, "span": list(r.span)} for r in refs]
    elif isinstance(node, MacroRef):
        data["name"] = node.name
    elif isinstance(node, VarDef):
        data.update(name=node.name, value=node.value)
    elif isinstance(node, Comment):
        data["text"] = node.text
    return data


def nested_data(nested: Nested) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": nested.kind.value or "url",
        "bracket": nested.bracket.value,
        "object": nested.object,
        "body": nested.body,
    }
    if nested.request is not None:
        data["modifiers"] = ast_data(nested.request)
    return data


def value_data(value: Any) -> Any:
    """A typed command value as JSON-ready data."""
    if isinstance(value, Color):
        return str(value)
    if isinstance(value, NestedSource):
        return {
            "kind": value.kind.value or "url",
            "object": value.object,
            "request": request_data(value.request) if value.request else None,
        }
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: value_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [value_data(v) for v in value]
    return value


def _scope_data(attributes: Attributes) -> dict[str, Any]:
    return {
        bound.name: {"text": bound.text, "value": value_data(bound.value), "at": bound.span[0]}
        for bound in attributes
    }


def request_data(request: ImageRequest) -> dict[str, Any]:
    return {
        "effective": request.effective(),
        "global": _scope_data(request.globals),
        "comp": _scope_data(request.comp),
        "comp_effects": {str(e.number): _scope_data(e.attributes) for e in request.comp_effects},
        "layers": {
            str(layer.number): {
                "names": list(layer.names),
                "commands": _scope_data(layer.attributes),
                "effects": {str(e.number): _scope_data(e.attributes) for e in layer.effects},
            }
            for layer in request.layers
        },
        "variables": dict(request.variables),
        "warnings": [dataclasses.asdict(w) for w in request.warnings],
    }


def _arg_data(arg: Arg) -> dict[str, Any]:
    data: dict[str, Any] = {"name": arg.name, "type": arg.describe()}
    if isinstance(arg, Keyword):
        data["choices"] = list(arg.choices) + [alias for alias, _ in arg.aliases]
    if arg.optional or isinstance(arg, Rest):
        data["optional"] = True
        if arg.default is not None:
            data["default"] = value_data(arg.default)
    return data


def format_data() -> list[dict[str, Any]]:
    """The output format table (commands/formats.py), one row a format."""
    from isrender.commands.formats import FORMATS, PRODUCIBLE

    return [
        {"name": s.name, "extension": s.extension, "media_type": s.media_type,
         "alpha": s.alpha, "writable": s.writable, "export": s.name in PRODUCIBLE}
        for s in FORMATS.values()
    ]  # fmt: skip


def command_data(spec: CommandSpec) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": spec.name,
        "syntax": spec.syntax(),
        "summary": spec.summary,
        "scope": spec.scope.value,
        "tag": spec.tag.value,
        "renders": spec.renders,
        "arguments": [_arg_data(a) for a in spec.args],
    }
    if spec.name == "fmt":
        data["formats"] = format_data()
    if spec.scope.value == "layer":
        data["in_comp"] = spec.in_comp.value
        data["in_effect"] = spec.in_effect
    if spec.slot != spec.name.lower():
        data["shares_slot_with"] = spec.slot
    if spec.aliases:
        data["aliases"] = list(spec.aliases)
    if spec.empty:
        data["empty_allowed"] = True
    return data
