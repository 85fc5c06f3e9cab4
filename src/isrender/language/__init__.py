"""The modifier language: grammar loading, AST, parser, serializer, value decoding."""

from isrender.language.ast import (
    Bracket,
    Command,
    Comment,
    MacroRef,
    ModifierString,
    Nested,
    NestedKind,
    Node,
    Origin,
    SegmentStart,
    Span,
    VarDef,
    VarRef,
)
from isrender.language.parser import parse, parse_uncached
from isrender.language.serialize import serialize, serialize_node
from isrender.language.values import decode_value, substitute

__all__ = [
    "Bracket",
    "Command",
    "Comment",
    "MacroRef",
    "ModifierString",
    "Nested",
    "NestedKind",
    "Node",
    "Origin",
    "SegmentStart",
    "Span",
    "VarDef",
    "VarRef",
    "decode_value",
    "parse",
    "parse_uncached",
    "serialize",
    "serialize_node",
    "substitute",
]
