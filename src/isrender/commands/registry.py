"""The command table: one CommandSpec per IS command, registered by the ``@command`` decorator.

Each command module declares its commands next to the function that builds the typed value::

    @command("qlt", Scope.REQUEST, Tag.CORE, Int("quality", lo=1, hi=100),
             Flag("chroma", optional=True, default=False))
    def qlt(quality: int, chroma: bool) -> Quality:
        "JPEG quality 1-100; chroma=1 keeps full-resolution chroma (no subsampling)."
        return Quality(quality, chroma)

The decorator records name, scope, priority tag, argument syntax and the builder; the builder's
docstring is the command's summary. Binding, validation, ``isrender commands`` and the docs all
read this one table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from isrender.commands.args import Arg, ArgProblem, ArgReader, Rest

__all__ = [
    "FATES",
    "GEOMETRY",
    "LAYERS",
    "NOT_RENDERED",
    "NO_PIXELS",
    "CommandSpec",
    "InComp",
    "Scope",
    "Tag",
    "all_commands",
    "command",
    "declare",
    "lookup",
    "rendered_by",
]


class Scope(StrEnum):
    """Where a command's value lives after binding (§1.8, §6.1)."""

    VIEW = "view"  # global: view attributes (wid, hei, fit, ...)
    REQUEST = "request"  # global: output and request attributes (fmt, qlt, req, ...)
    LAYER = "layer"  # per layer; in comp scope see InComp
    SEGMENT = "segment"  # layer= and effect=: start a new segment


class Tag(StrEnum):
    """Priority tag of the spec (§0.1): what phase 1 must render versus only validate."""

    CORE = "core"
    LAYER = "layer"
    REQ = "req"
    SERVER = "server"


class InComp(StrEnum):
    """What a layer command written in comp scope (before any layer=) applies to (§1.9)."""

    LAYER0 = "layer 0"
    COMPOSITE = "composite"
    VIEW = "final view"  # sharpening: after all view scaling
    IGNORED = "ignored"
    FORBIDDEN = "not permitted"


# A command's render fate: how it reaches the pixels. Besides these, a fate names the plan step
# that applies the command (render/steps.py: "resize", "filter", "encode", ...).
GEOMETRY = "geometry"  # sizes the plan (view and layer geometry, render/geometry.py)
LAYERS = "layers"  # places a layer on the canvas (compositing); no effect on layer 0 alone
NO_PIXELS = "no pixel effect"  # request metadata, caching, the reply type
NOT_RENDERED = "not rendered yet"  # refused when rendering (ignored, with a warning, leniently)
FATES = (GEOMETRY, LAYERS, NO_PIXELS, NOT_RENDERED)


@dataclass(frozen=True)
class CommandSpec:
    """Everything the table knows about one command name.

    ``slot`` is shared by variants that overwrite each other (``crop``/``cropN``, D-13).
    ``whole`` values are not split on commas (text, maps, messages). ``empty`` says an empty
    value has a documented meaning (D-11 exceptions). ``nested`` commands may take a group.
    """

    name: str
    scope: Scope
    tag: Tag
    args: tuple[Arg, ...]
    build: Callable[..., Any] | None  # None: the value is the argument (or their tuple)
    summary: str
    slot: str
    renders: str = ""  # the render fate (see FATES); "" is a bug tests/commands catch
    whole: bool = False
    empty: bool = False
    in_comp: InComp = InComp.LAYER0
    in_effect: bool = False
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Facts binding asks for every command, computed once.
        simple = not any(isinstance(a, Rest) or a.__class__.read is not Arg.read for a in self.args)
        required = sum(1 for a in self.args if not a.optional and not isinstance(a, Rest))
        object.__setattr__(self, "is_global", self.scope in (Scope.VIEW, Scope.REQUEST))
        object.__setattr__(self, "_simple", simple and not self.whole)
        object.__setattr__(self, "_required", required)
        object.__setattr__(self, "_defaults", tuple(a.default for a in self.args))
        # one value without commas fills the first argument only when no other is required
        # (crop=0 is "missing y", not a crop with None for y, width and height)
        object.__setattr__(self, "_single", bool(self._simple and self.args and required <= 1))

    is_global: bool = field(init=False, default=False)
    _simple: bool = field(init=False, default=False, repr=False)
    _required: int = field(init=False, default=0, repr=False)
    _defaults: tuple[Any, ...] = field(init=False, default=(), repr=False)
    _single: bool = field(init=False, default=False, repr=False)

    def syntax(self) -> str:
        """``name=<a>,<b>[,<c>]`` in the notation of the spec."""
        if not self.args:
            return self.name
        text = ""
        closing = 0
        for i, arg in enumerate(self.args):
            sep = "" if i == 0 else ","
            if isinstance(arg, Rest):
                text += arg.syntax()
            elif arg.optional:
                text += f"[{sep}{arg.syntax()}"
                closing += 1
            else:
                text += f"{sep}{arg.syntax()}"
        return f"{self.name}={text}{']' * closing}"

    def parse(self, value: str) -> Any:
        """Typed value of a decoded, non-empty value; raises ArgProblem/ConstraintProblem."""
        if self._single and "," not in value:
            try:
                return self.make(self.args[0].convert(value), *self._defaults[1:])
            except ArgProblem:
                pass  # the careful reader below says where and why
        elif self._simple:
            # Fast path for the common case: one part per argument, no empty parts. Anything
            # unusual (or wrong) goes through the careful reader below, which says where.
            parts = value.split(",")
            count = len(parts)
            if self._required <= count <= len(self.args) and "" not in parts:
                try:
                    values = [arg.convert(p) for arg, p in zip(self.args, parts, strict=False)]
                except ArgProblem:
                    pass
                else:
                    return self.make(*values, *self._defaults[count:])
        reader = ArgReader((value,) if self.whole else value.split(","))
        values = [self._read(arg, reader) for arg in self.args]
        if reader.remaining():
            index = reader.index
            raise ArgProblem(
                f"too many arguments: {self.name} takes at most {self._max_args()}",
                value=reader.parts[index],
                index=index,
                expected=self.syntax(),
                hint=f"write {self.syntax()}",
            )
        return self.make(*values)

    def make(self, *values: Any) -> Any:
        """The typed value from the arguments' values (builder-less: the value, or a tuple)."""
        if self.build is not None:
            return self.build(*values)
        return values[0] if len(values) == 1 else values

    def _read(self, arg: Arg, reader: ArgReader) -> Any:
        if isinstance(arg, Rest):
            return arg.read(reader)
        if reader.remaining() == 0:
            if arg.optional:
                return arg.default
            raise ArgProblem(
                f"missing {arg.name}",
                argument=arg.name,
                expected=arg.describe(),
                index=reader.index,
                hint=f"write {self.syntax()}",
            )
        return arg.read(reader)

    def _max_args(self) -> int:
        return len(self.args)


_TABLE: dict[str, CommandSpec] = {}
_SPECS: list[CommandSpec] = []

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class _Options:
    """What ``command`` and ``declare`` take besides name, scope, tag and arguments."""

    renders: str = ""
    slot: str | None = None
    whole: bool = False
    empty: bool = False
    in_comp: InComp = InComp.LAYER0
    in_effect: bool = False
    aliases: tuple[str, ...] = ()


def command(name: str, scope: Scope, tag: Tag, *args: Arg, **options: Any) -> Callable[[F], F]:
    """Register ``name`` with the decorated builder (its docstring is the summary); stack it
    for variants of one builder. Options: see ``_Options`` (``renders`` is required)."""

    def register(build: F) -> F:
        summary = (build.__doc__ or "").strip().split("\n\n")[0]
        _register(name, scope, tag, args, build, summary, _Options(**options))
        return build

    return register


def declare(name: str, scope: Scope, tag: Tag, *args: Arg, summary: str, **options: Any) -> None:
    """Register a command whose value is its argument's (or the tuple of its arguments'): no
    builder function is needed."""
    _register(name, scope, tag, args, None, summary, _Options(**options))


def _register(
    name: str,
    scope: Scope,
    tag: Tag,
    args: tuple[Arg, ...],
    build: Callable[..., Any] | None,
    summary: str,
    o: _Options,
) -> None:
    spec = CommandSpec(
        name=name,
        scope=scope,
        tag=tag,
        args=args,
        build=build,
        summary=" ".join(summary.split()),
        slot=(o.slot or name).lower(),
        renders=o.renders,
        whole=o.whole,
        empty=o.empty,
        in_comp=o.in_comp,
        in_effect=o.in_effect,
        aliases=o.aliases,
    )
    for key in (name, *o.aliases):
        if key.lower() in _TABLE:
            raise ValueError(f"command {key!r} is registered twice")
        _TABLE[key.lower()] = spec
    _SPECS.append(spec)
    _SLOTS.clear()  # a name looked up before this registration may have a slot now


def lookup(name: str) -> CommandSpec | None:
    """The spec for a command name or alias, case-insensitively (§1.6)."""
    return _TABLE.get(name.lower())


_SLOTS: dict[str, str] = {}  # name as written -> slot: planning asks ~50 times a request
_SLOTS_KEPT = 4096  # names come from clients too: keep a bounded number


def slot_of(name: str) -> str:
    """The slot a command name writes to (its own folded name if it is not a command)."""
    slot = _SLOTS.get(name)
    if slot is None:
        spec = _TABLE.get(name) or _TABLE.get(name.lower())
        slot = spec.slot if spec else name.lower()
        if len(_SLOTS) < _SLOTS_KEPT:
            _SLOTS[name] = slot
    return slot


def all_commands() -> Iterator[CommandSpec]:
    """Every registered command (aliases once, under their canonical name), by name."""
    return iter(sorted(_SPECS, key=lambda s: s.name.lower()))


def rendered_by(step: str) -> tuple[str, ...]:
    """The commands a plan step applies, in the order they were declared (for ``filter``, the
    order §6.0 applies them: see commands/filters.py)."""
    return tuple(spec.name for spec in _SPECS if spec.renders == step)


def all_names() -> tuple[str, ...]:
    """Every accepted name, canonical spellings and aliases (for "did you mean")."""
    return tuple(name for spec in _SPECS for name in (spec.name, *spec.aliases))
