"""AST of a modifier string: frozen dataclasses with tuples, each node with its span.

Spans are ``(start, end)`` character offsets into the top-level string the node was parsed from
(nested groups included), for error carets and ``isrender parse``. They take no part in equality,
so ``parse(serialize(ast)) == ast`` compares structure, not layout.

Values stay raw (not %-decoded) in the tree; decoding happens per value in binding (§1.4).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeAlias

Span: TypeAlias = tuple[int, int]

_REFERENCE = re.compile(r"\$([A-Za-z0-9._-]+)\$")


class NestedKind(StrEnum):
    """What a nested group holds (§1.10): an IS, IR or FXG request, or a foreign URL."""

    IS = "is"
    IR = "ir"
    FXG = "fxg"
    URL = ""


class Bracket(StrEnum):
    """The bracket pair that delimits a nested group; parentheses are the mail-safe form."""

    BRACE = "{"
    PAREN = "("

    @property
    def closing(self) -> str:
        return "}" if self is Bracket.BRACE else ")"


@dataclass(frozen=True, slots=True)
class VarRef:
    """A ``$name$`` sequence inside a command value: a candidate variable reference (§2.2).

    Whether it is substituted depends on whether ``name`` is defined (D-17), which binding
    decides; unsubstituted references stay literal.
    """

    name: str
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class Command:
    """``name[=value]``. ``value`` is None when there is no ``=`` (D-10 treats it as empty).

    ``nested`` is set when the value is a nested group (``src=is{...}``); ``value`` then holds
    the group's raw text, brackets included.
    """

    name: str
    value: str | None
    span: Span = field(compare=False)
    nested: Nested | None = None

    @property
    def key(self) -> str:
        """The case-folded name the command table is keyed by (§1.6)."""
        return self.name.lower()

    @property
    def value_start(self) -> int:
        """Offset of the first character of the value (just after ``=``)."""
        return self.span[0] + len(self.name) + 1

    def references(self) -> tuple[VarRef, ...]:
        """Candidate ``$name$`` references in the raw value, with their spans."""
        if not self.value or "$" not in self.value:
            return ()
        base = self.value_start
        return tuple(
            VarRef(m.group(1), (base + m.start(), base + m.end()))
            for m in _REFERENCE.finditer(self.value)
        )


@dataclass(frozen=True, slots=True)
class SegmentStart:
    """``layer=...`` or ``effect=...``: starts a layer or effect segment (§1.9).

    Kept apart from Command because it changes the scope of the commands after it, and
    variables are never substituted in its value.
    """

    name: str
    value: str | None
    span: Span = field(compare=False)

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def value_start(self) -> int:
        return self.span[0] + len(self.name) + 1


@dataclass(frozen=True, slots=True)
class MacroRef:
    """``$name$`` as a whole segment: a macro invocation (§3.1)."""

    name: str
    span: Span = field(compare=False)

    @property
    def key(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class VarDef:
    """``$name=value`` or ``$name`` (an empty definition, D-12). ``value`` is raw."""

    name: str
    value: str | None
    span: Span = field(compare=False)

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def value_start(self) -> int:
        return self.span[0] + len(self.name) + 2


@dataclass(frozen=True, slots=True)
class Comment:
    """``.anything``: ignored by every later stage (§1.2, D-02); kept so tools can show it."""

    text: str
    span: Span = field(compare=False)


Node: TypeAlias = Command | SegmentStart | MacroRef | VarDef | Comment


@dataclass(frozen=True, slots=True)
class Nested:
    """The group of ``src=``/``mask=``/``imageSet=`` (§1.10).

    For ``is``/``ir``/``fxg`` groups ``object`` is the text before the first ``?`` and
    ``request`` the parsed modifiers after it (empty when there is no ``?``). A foreign URL or
    an ``imageSet={a,b}`` list keeps its ``body`` only.
    """

    kind: NestedKind
    bracket: Bracket
    body: str
    span: Span = field(compare=False)
    object: str | None = None
    request: ModifierString | None = None

    @property
    def text(self) -> str:
        """The raw group as written, prefix and brackets included."""
        return f"{self.kind.value}{self.bracket.value}{self.body}{self.bracket.closing}"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where nodes came from: ``label`` is ``request``, ``macro 'view' (macros.tsv:3)``,
    ``Modifier``, ``PostModifier``, ...; ``text`` is the string their spans index into."""

    label: str
    text: str


@dataclass(frozen=True, slots=True)
class ModifierString:
    """A parsed modifier string: its nodes in order. Empty segments are not kept."""

    nodes: tuple[Node, ...]
    source: str = field(default="", compare=False, repr=False)
    # Later stages memoise their results on the immutable AST (bind keys it by mode and
    # object), so a cached parse binds for free. Not part of equality, hashing or repr.
    memo: dict[object, object] = field(default_factory=dict, compare=False, hash=False, repr=False)
    # After macro expansion nodes come from several texts: origins[i] says which one node i's
    # span refers to. Empty means every node comes from ``source`` (a plain parse).
    origins: tuple[Origin, ...] = field(default=(), compare=False, hash=False, repr=False)

    def origin_of(self, index: int) -> Origin:
        return self.origins[index] if self.origins else Origin("request", self.source)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def commands(self) -> tuple[Command, ...]:
        return tuple(n for n in self.nodes if isinstance(n, Command))

    def macro_refs(self) -> tuple[MacroRef, ...]:
        """Every macro invocation, in nested IS requests too (expansion must see them all)."""
        found: list[MacroRef] = []
        for node in self.nodes:
            if isinstance(node, MacroRef):
                found.append(node)
            elif (
                isinstance(node, Command)
                and node.nested is not None
                and node.nested.request is not None
                and node.nested.kind is NestedKind.IS
            ):
                found.extend(node.nested.request.macro_refs())
        return tuple(found)
