"""Command macros and the effective command list (spec §2-§3).

A MacroRegistry holds the default catalog's macros and per-catalog macros. Definitions are
parsed and their nested invocations expanded when they are loaded (definitions.py, D-21), so
expanding a request is a splice of ready-made node lists: no re-parse, no recursion. A
definition that invokes a macro that is undefined, defined later, itself or invalid is kept as
invalid: loading goes on, ``problems()`` lists it with file and line, and invoking it raises
MacroDefinitionError.

``expand()`` replaces ``$name$`` in place (positional override, §3.3), puts the catalog
Modifier before and the PostModifier after the request (§3.5-3.6), expands nested ``is{...}``
bodies with the same registry, and checks the expansion limits before it builds anything.
Variables are left to binding, which applies D-18 over the whole expanded sequence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from isrender.errors import (
    LimitExceededError,
    Location,
    MacroDefinitionError,
    ModifierError,
    UnknownMacroError,
)
from isrender.language import (
    Command,
    MacroRef,
    ModifierString,
    Node,
    Origin,
    SegmentStart,
    parse,
)
from isrender.macros.definitions import (
    BUILTIN,
    BUILTIN_MACROS,
    ExpansionLimits,
    Macro,
    load,
    resolved,
)
from isrender.macros.files import MacroEntry, read_macro_file

__all__ = [
    "BUILTIN_MACROS",
    "ExpansionLimits",
    "Macro",
    "MacroRegistry",
    "expand",
    "export_modifiers",
]


@dataclass(frozen=True)
class MacroRegistry:
    """Macros of the default catalog and of named catalogs; lookup is catalog, then default."""

    default: Mapping[str, Macro] = field(default_factory=dict)
    catalogs: Mapping[str, Mapping[str, Macro]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    limits: ExpansionLimits = field(default_factory=ExpansionLimits)

    __hash__ = object.__hash__  # identity: registries key expansion memos

    # ---- construction -------------------------------------------------------------------

    @classmethod
    def from_files(
        cls, *paths: str | Path, catalog: str | None = None, limits: ExpansionLimits | None = None
    ) -> MacroRegistry:
        """Load IS-format (.tsv/.txt) and TOML (.toml) macro files, in order, into the default
        catalog (or into ``catalog``, whose macros may invoke the default's)."""
        entries: list[MacroEntry] = []
        warnings: list[str] = []
        for path in paths:
            found, notes = read_macro_file(path)
            entries += found
            warnings += notes
        return cls(limits=limits or ExpansionLimits()).with_macros(entries, catalog, warnings)

    @classmethod
    def from_mapping(
        cls,
        mapping: Mapping[str, str],
        *,
        catalog: str | None = None,
        limits: ExpansionLimits | None = None,
    ) -> MacroRegistry:
        """Macros from ``{name: definition}``, in the mapping's order."""
        entries = [
            MacroEntry(k, v, f"<mapping>:{i}") for i, (k, v) in enumerate(mapping.items(), 1)
        ]
        return cls(limits=limits or ExpansionLimits()).with_macros(entries, catalog)

    def with_macros(
        self,
        entries: Iterable[MacroEntry],
        catalog: str | None = None,
        warnings: Sequence[str] = (),
    ) -> MacroRegistry:
        """A new registry with ``entries`` added to the default catalog or to ``catalog``."""
        base = dict(self.default if catalog is None else self.catalogs.get(catalog, {}))
        fallback = {} if catalog is None else self.default
        notes = list(self.warnings) + list(warnings)
        table = load(list(entries), base, fallback, self.limits, notes)
        if catalog is None:
            return MacroRegistry(table, self.catalogs, tuple(notes), self.limits)
        return MacroRegistry(
            self.default, {**self.catalogs, catalog: table}, tuple(notes), self.limits
        )

    # ---- queries --------------------------------------------------------------------------

    def get(self, name: str, catalog: str | None = None) -> Macro | None:
        key = name.lower()
        if catalog is not None:
            found = self.catalogs.get(catalog, {}).get(key)
            if found is not None:
                return found
        return self.default.get(key) or BUILTIN.get(key)  # a loaded macro overrides a built-in

    def names(self, catalog: str | None = None) -> tuple[str, ...]:
        """Every macro name visible from ``catalog`` (as defined), valid or not."""
        visible = dict(self.default)
        if catalog is not None:
            visible.update(self.catalogs.get(catalog, {}))
        return tuple(m.name for m in visible.values())

    def problems(self) -> tuple[MacroDefinitionError, ...]:
        tables = [self.default, *self.catalogs.values()]
        return tuple(m.problem for t in tables for m in t.values() if m.problem is not None)

    def __len__(self) -> int:
        return len(self.default) + sum(len(t) for t in self.catalogs.values())


# ---- expansion ---------------------------------------------------------------------------------


@dataclass
class _Splice:
    """The expanded sequence being built, with its budget checked before each splice."""

    registry: MacroRegistry
    catalog: str | None
    limits: ExpansionLimits
    nodes: list[Node] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)
    commands: int = 0
    length: int = 0

    def add(self, ast: ModifierString, default: Origin) -> None:
        # The text's own commands count first; each macro's count is added as it is invoked,
        # before its nodes are spliced, so a bomb is refused before it is built.
        self.origin = default
        self.commands += sum(isinstance(n, Command | SegmentStart) for n in ast.nodes)
        self.length += len(default.text)
        self._check(None)
        nodes, origins = resolved(ast, default, self._invoke)
        self.nodes += nodes
        self.origins += origins

    def _invoke(self, ref: MacroRef) -> Macro:
        origin = self.origin
        at = Location(origin.text, ref.span[0], ref.span[1] - ref.span[0], origin.label)
        macro = self.registry.get(ref.name, self.catalog)
        if macro is None:
            known = (*self.registry.names(self.catalog), *BUILTIN_MACROS)
            raise UnknownMacroError(ref.name, at, known)
        if macro.problem is not None:
            problem = macro.problem
            raise MacroDefinitionError(macro.name, problem.reason, at, macro.where, problem.hint)
        self.commands += macro.commands
        self.length += macro.length
        self._check(macro, at)
        return macro

    def _check(self, macro: Macro | None, at: Location | None = None) -> None:
        if self.commands <= self.limits.max_commands and self.length <= self.limits.max_length:
            return
        what = f"expanding ${macro.name}$ makes" if macro else "the expanded request is"
        raise LimitExceededError(
            f"{what} the request longer than the limits "
            f"({self.limits.max_commands} commands, {self.limits.max_length} characters)",
            at or Location(self.origin.text, 0, len(self.origin.text), self.origin.label),
        )


def expand(
    ast: ModifierString,
    macros: MacroRegistry | None = None,
    *,
    catalog: str | None = None,
    modifier: str | ModifierString | None = None,
    post_modifier: str | ModifierString | None = None,
) -> ModifierString:
    """The effective command list: Modifier + request + PostModifier, macros replaced in place.

    Raises UnknownMacroError, MacroDefinitionError (an invalid macro was invoked) and
    LimitExceededError; the result has no MacroRef left. Results are memoised on the AST.
    """
    registry = macros if macros is not None else _EMPTY
    key = ("expand", registry, catalog, modifier, post_modifier)
    hit = ast.memo.get(key)
    if isinstance(hit, ModifierString):
        return hit
    if modifier is None and post_modifier is None and not ast.macro_refs():
        return ast
    splice = _Splice(registry, catalog, registry.limits)
    if modifier:
        _add_text(splice, modifier, "Modifier")
    splice.add(ast, Origin("request", ast.source))
    if post_modifier:
        _add_text(splice, post_modifier, "PostModifier")
    result = ModifierString(tuple(splice.nodes), ast.source, origins=tuple(splice.origins))
    ast.memo[key] = result
    return result


def _add_text(splice: _Splice, text: str | ModifierString, label: str) -> None:
    ast = text if isinstance(text, ModifierString) else _parse_as(text, label)
    splice.add(ast, Origin(label, ast.source))


def _parse_as(text: str, label: str) -> ModifierString:
    try:
        return parse(text)
    except ModifierError as exc:
        raise exc.from_origin(label) from None


_EMPTY = MacroRegistry()


def export_modifiers(is_modifier: str | None, macro: str | None) -> str:
    """The modifier string of an ExportJob conversion (§3.7): ``is_modifier & $macro$``.

    The macro comes after the modifier so its commands win (the seed example: ``&fmt=png`` +
    ``$test$`` exports a TIFF). D-23: ``macro`` may be written ``$name$`` or ``name``.
    """
    parts = [is_modifier or ""]
    if macro:
        name = macro.strip()
        if name.startswith("$") and name.endswith("$") and len(name) > 1:
            name = name[1:-1]
        parts.append(f"${name}$")
    return "&".join(parts)
