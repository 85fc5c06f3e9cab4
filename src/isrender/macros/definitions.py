"""Macro definitions loaded into ready-made node lists (D-21).

Each definition is parsed and its nested invocations expanded when it is loaded, so expanding a
request is a splice (registry.py). A definition that invokes a macro that is undefined, defined
later, itself or invalid is kept as invalid, with a MacroDefinitionError naming file and line.
The built-in ``$shadow$`` and ``$glow$`` are loaded here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from isrender.errors import Location, MacroDefinitionError, ModifierError
from isrender.language import (
    Command,
    MacroRef,
    ModifierString,
    Nested,
    NestedKind,
    Node,
    Origin,
    SegmentStart,
    parse_uncached,
    serialize,
)
from isrender.macros.files import MacroEntry

__all__ = ["BUILTIN", "BUILTIN_MACROS", "ExpansionLimits", "Macro", "load", "resolved"]

_NAME = re.compile(r"[A-Za-z0-9._-]+\Z")


@dataclass(frozen=True, slots=True)
class ExpansionLimits:
    """Bounds on one expanded request, checked before the expansion is built (macro bombs)."""

    max_commands: int = 2000
    max_length: int = 100_000


@dataclass(frozen=True)
class Macro:
    """One definition. ``nodes``/``origins`` are its load-time expansion (empty if invalid)."""

    name: str
    definition: str
    where: str
    nodes: tuple[Node, ...] = ()
    origins: tuple[Origin, ...] = ()
    problem: MacroDefinitionError | None = None
    commands: int = 0
    length: int = 0

    @property
    def valid(self) -> bool:
        return self.problem is None

    def expansion(self) -> str:
        """The fully expanded definition as text."""
        return serialize(ModifierString(self.nodes))


# ---- loading (D-21: expand nested invocations once, at load time) ------------------------------


@dataclass(frozen=True)
class _Loading:
    """What defining one macro may see: the macros loaded so far, the default catalog's (for a
    catalog file), where every name of the file is first defined, and the limits."""

    table: dict[str, Macro]
    fallback: Mapping[str, Macro]
    later: dict[str, str]
    limits: ExpansionLimits


def load(
    entries: list[MacroEntry],
    table: dict[str, Macro],
    fallback: Mapping[str, Macro],
    limits: ExpansionLimits,
    warnings: list[str],
) -> dict[str, Macro]:
    """``table`` with ``entries`` defined in order (``fallback``: the default catalog's)."""
    loading = _Loading(table, fallback, {}, limits)
    for entry in entries:
        loading.later.setdefault(entry.name.lower(), entry.where)  # "later" vs "undefined"
    for entry in entries:
        key = entry.name.lower()
        if key in table and table[key].where.partition(":")[0] == entry.where.partition(":")[0]:
            warnings.append(f"{entry.where}: macro {entry.name!r} defined again; the later wins")
        table[key] = _define(entry, loading)
    return table


class _Invalid(Exception):
    """Why a definition cannot be used; becomes the macro's MacroDefinitionError."""

    def __init__(self, reason: str, at: Location, hint: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.at, self.hint = reason, at, hint


def _define(entry: MacroEntry, loading: _Loading) -> Macro:
    origin = Origin(f"macro '{entry.name}' ({entry.where})", entry.definition)
    try:
        if not _NAME.match(entry.name):
            raise _Invalid(
                f"the name {entry.name!r} is not letters, digits, '.', '_' and '-'",
                Location(entry.name, 0, len(entry.name)),
            )
        try:
            ast = parse_uncached(entry.definition)  # keep the request cache for requests
        except ModifierError as exc:
            raise _Invalid(exc.problem, exc.from_origin(origin.label).at, exc.hint) from None

        def resolve(ref: MacroRef) -> Macro:
            return _defined_before(ref, entry, loading, origin)

        nodes, origins = resolved(ast, origin, resolve)
        commands = sum(isinstance(n, Command | SegmentStart) for n in nodes)
        length = len(serialize(ModifierString(tuple(nodes))))
        limits = loading.limits
        if commands > limits.max_commands or length > limits.max_length:
            raise _Invalid(
                f"its expansion has {commands} commands and {length} characters, over the "
                f"limits ({limits.max_commands} commands, {limits.max_length} characters)",
                Location(entry.definition, 0, len(entry.definition), origin.label),
            )
    except _Invalid as bad:
        problem = MacroDefinitionError(entry.name, bad.reason, bad.at, entry.where, bad.hint)
        return Macro(entry.name, entry.definition, entry.where, problem=problem)
    return Macro(
        entry.name,
        entry.definition,
        entry.where,
        tuple(nodes),
        tuple(origins),
        None,
        commands,
        length,
    )


def _defined_before(ref: MacroRef, entry: MacroEntry, loading: _Loading, origin: Origin) -> Macro:
    """The macro ``ref`` invokes, if D-21 allows it: defined before, valid, not itself."""
    at = Location(entry.definition, ref.span[0], ref.span[1] - ref.span[0], origin.label)
    if ref.key == entry.name.lower():
        raise _Invalid(f"it invokes itself (${ref.name}$)", at)
    target = loading.table.get(ref.key) or loading.fallback.get(ref.key) or BUILTIN.get(ref.key)
    if target is None:
        where = loading.later.get(ref.key)
        reason = (
            f"it invokes ${ref.name}$, which is defined later ({where})"
            if where
            else f"it invokes ${ref.name}$, which is not defined"
        )
        raise _Invalid(reason, at, "a macro may only invoke macros defined before it")
    if target.problem is not None:
        raise _Invalid(f"it invokes ${ref.name}$, which is invalid", at)
    return target


def resolved(
    ast: ModifierString, default: Origin, resolve: Callable[[MacroRef], Macro]
) -> tuple[list[Node], list[Origin]]:
    """Nodes with every invocation replaced by ``resolve(ref)``'s nodes, nested IS bodies
    included, each with its origin. Shared by loading (D-21) and request expansion."""
    nodes: list[Node] = []
    origins: list[Origin] = []
    for index, node in enumerate(ast.nodes):
        origin = ast.origins[index] if ast.origins else default
        if isinstance(node, MacroRef):
            macro = resolve(node)
            nodes += macro.nodes
            origins += macro.origins
            continue
        nested = node.nested if isinstance(node, Command) else None
        if (
            nested
            and nested.kind is NestedKind.IS
            and nested.request
            and nested.request.macro_refs()
        ):
            inner, inner_origins = resolved(nested.request, origin, resolve)
            node = _with_request(node, nested, inner, inner_origins, origin)  # type: ignore[arg-type]
        nodes.append(node)
        origins.append(origin)
    return nodes, origins


def _with_request(
    command: Command, nested: Nested, nodes: list[Node], origins: list[Origin], origin: Origin
) -> Command:
    """``command`` with its nested IS request replaced by the expanded ``nodes``."""
    request = ModifierString(tuple(nodes), origin.text, origins=tuple(origins))
    body = f"{nested.object}?{serialize(request)}"
    expanded = Nested(nested.kind, nested.bracket, body, nested.span, nested.object, request)
    return Command(command.name, expanded.text, command.span, expanded)


# §3.2, §6.6: IS's default catalog ships $shadow$ and $glow$ (effect-layer defaults, used as
# effect=-1&$shadow$ for a drop shadow, effect=1&$glow$ for an inner glow ...) without publishing
# them; these are Photoshop's default drop shadow and outer glow (README: Effects and masks).
# Every registry has them; a macro file or preset of the same name replaces them.
BUILTIN_MACROS = {
    "shadow": "color=0,0,0&opac=75&op_blur=5&pos=5,5&blendMode=mult",
    "glow": "color=255,255,190&opac=75&op_blur=5&blendMode=screen",
}
BUILTIN = load(
    [MacroEntry(k, v, f"<built-in>:{i}") for i, (k, v) in enumerate(BUILTIN_MACROS.items(), 1)],
    {},
    {},
    ExpansionLimits(),
    [],
)
