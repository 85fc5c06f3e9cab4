"""The bound request: what binding produces and planning reads. Frozen, tuples throughout."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from isrender.commands import CommandSpec
from isrender.commands.registry import slot_of
from isrender.language import ModifierString, NestedKind, Origin, Span

__all__ = [
    "Attributes",
    "BindWarning",
    "BoundCommand",
    "Effect",
    "ImageRequest",
    "Layer",
    "NestedSource",
]


@dataclass(frozen=True, slots=True)
class NestedSource:
    """A ``src=``/``mask=`` group after binding: its kind, object (variables substituted), the
    parsed modifiers and, for nested IS requests, their own bound request."""

    kind: NestedKind
    object: str
    modifiers: ModifierString | None
    request: ImageRequest | None


@dataclass(frozen=True, slots=True)
class BoundCommand:
    """One surviving command: its table entry, the name as written, the typed value, the
    decoded (and substituted) text, and where it was written."""

    spec: CommandSpec
    written: str
    value: Any
    text: str
    span: Span = field(compare=False)
    origin: Origin | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def slot(self) -> str:
        return self.spec.slot

    def __str__(self) -> str:
        return f"{self.spec.name}={self.text}" if self.text else self.spec.name


@dataclass(frozen=True, slots=True)
class BindWarning:
    """Something lenient binding (or scope rules) ignored or adjusted: ``kind`` is a key of
    request.lenient.WARNING_KINDS; ``position`` is where the command (or the part) starts."""

    kind: str
    message: str
    position: int
    command: str


@dataclass(frozen=True)
class Attributes:
    """The commands of one scope, last occurrence per slot, in the order they were last set."""

    commands: tuple[BoundCommand, ...] = ()
    _index: dict[str, BoundCommand] = field(
        init=False, compare=False, repr=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self._index.update((c.slot, c) for c in self.commands)

    def __iter__(self) -> Iterator[BoundCommand]:
        return iter(self.commands)

    def __len__(self) -> int:
        return len(self.commands)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def get(self, name: str) -> BoundCommand | None:
        """The command in ``name``'s slot: variants that share a slot answer for each other
        (``get("crop")`` may return a ``cropN``; ``get("src")`` a ``text``), so check
        ``.name`` when the variant matters."""
        return self._index.get(slot_of(name))

    def value(self, name: str, default: Any = None) -> Any:
        bound = self.get(name)
        return default if bound is None else bound.value

    def text(self) -> str:
        return " ".join(str(c) for c in self.commands)


@dataclass(frozen=True)
class Effect:
    number: int
    attributes: Attributes


@dataclass(frozen=True)
class Layer:
    number: int
    names: tuple[str, ...]
    attributes: Attributes
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True)
class ImageRequest:
    """A typed, validated request grouped by scope (spec §1.8-§1.9).

    ``globals`` holds view and request attributes, ``comp`` the commands that act on the
    composite (and comp-scope sharpening, which acts on the final view), ``layers`` every
    addressed layer in z-order (layer 0 receives the comp-scope commands §1.9 redirects).
    ``variables`` is the final variable table; ``warnings`` what lenient mode ignored;
    ``overridden`` the commands that lost to a later one of the same slot.
    """

    globals: Attributes
    comp: Attributes
    comp_effects: tuple[Effect, ...]
    layers: tuple[Layer, ...]
    variables: tuple[tuple[str, str], ...] = ()
    warnings: tuple[BindWarning, ...] = ()
    overridden: tuple[BoundCommand, ...] = ()  # commands a later one replaced, in order

    def layer(self, number: int) -> Layer | None:
        return next((layer for layer in self.layers if layer.number == number), None)

    def effective(self) -> str:
        """The spec's notation for the effective command list: ``G{...} C{...} L0{...}``."""
        parts = []
        if self.globals:
            parts.append(f"G{{{self.globals.text()}}}")
        if self.comp:
            parts.append(f"C{{{self.comp.text()}}}")
        for layer in self.layers:
            if layer.attributes:
                parts.append(f"L{layer.number}{{{layer.attributes.text()}}}")
        return " ".join(parts)
