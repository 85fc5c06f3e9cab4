"""serialize(): the canonical text of a ModifierString.

Canonical means: segments joined by single ``&``, no empty segments, no leading ``?``; every
node written back exactly as it was (names keep their case, values stay raw, nested groups keep
their text), so ``parse(serialize(ast)) == ast`` for every parsed string.
"""

from __future__ import annotations

from isrender.language.ast import (
    Command,
    Comment,
    MacroRef,
    ModifierString,
    Node,
    SegmentStart,
    VarDef,
)

__all__ = ["serialize", "serialize_node"]


def serialize(ast: ModifierString) -> str:
    return "&".join(serialize_node(node) for node in ast.nodes)


def serialize_node(node: Node) -> str:
    if isinstance(node, Command | SegmentStart):
        return node.name if node.value is None else f"{node.name}={node.value}"
    if isinstance(node, MacroRef):
        return f"${node.name}$"
    if isinstance(node, VarDef):
        return f"${node.name}" if node.value is None else f"${node.name}={node.value}"
    if isinstance(node, Comment):
        return node.text
    raise TypeError(f"not a modifier node: {node!r}")
