"""bind(): an expanded ModifierString -> ImageRequest (spec §1.4-§1.9, §2, §5, §6).

Values are %-decoded, variables substituted (two passes, D-18), each command typed by the command
table, and commands grouped by scope with last-occurrence-wins per slot: global (view and
request attributes), comp, each layer, each effect. Layer commands written in comp scope go
where §1.9 says (layer 0, the composite, the final view, or nowhere). Cross-command rules are
checked last (ConstraintError).

Strict mode rejects unknown command names (D-36). Lenient mode, what the image endpoint uses,
reads what a forgiving Image Server reads and says what it ignored or adjusted in
``ImageRequest.warnings`` (one kind per rule, WARNING_KINDS): unknown commands, segments a
lenient parse kept that are not commands, a segment right after a nested group, a bad %-escape
(a literal ``%``), fit= without wid/hei, and the mends the argument types offer (a trailing
empty argument, white space, a decimal where a whole number goes, an unknown keyword). A value
nothing sensible can be made of (``wid=abc``) stays an error in both modes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from isrender.commands import ArgProblem, CommandSpec, ConstraintProblem, InComp, lookup
from isrender.commands.registry import all_names
from isrender.commands.values import LayerSelect
from isrender.errors import (
    ConstraintError,
    InvalidValueError,
    LayerNameError,
    Location,
    UnknownCommandError,
    UnknownMacroError,
    closest,
)
from isrender.language import (
    Command,
    MacroRef,
    ModifierString,
    Nested,
    NestedKind,
    Origin,
    SegmentStart,
    Span,
    VarDef,
    decode_value,
    substitute,
)
from isrender.request.constraints import check_constraints
from isrender.request.lenient import IGNORED, LenientRules, part_location
from isrender.request.model import (
    Attributes,
    BindWarning,
    BoundCommand,
    Effect,
    ImageRequest,
    Layer,
    NestedSource,
)

__all__ = ["bind", "iter_commands"]

_REFERENCE = re.compile(r"\$([A-Za-z0-9._-]+)\$")
COMP = None  # the key of comp scope where layers are keyed by number


def bind(
    ast: ModifierString,
    strict: bool = True,
    *,
    object: str | None = None,
    variables: Mapping[str, str] | None = None,
) -> ImageRequest:
    """Bind an expanded modifier string; raises ModifierError subclasses.

    ``object`` is the request path's object (the predefined ``$object$``, §2.4). ``variables``
    are definitions forwarded from an enclosing request (§2.5); the string's own win.
    Results are memoised on the (immutable) AST, so binding a cached parse again is free.
    """
    key = (strict, object)
    if variables is None:
        hit = ast.memo.get(key)
        if isinstance(hit, ImageRequest):
            return hit
    origin = Origin("request", ast.source)
    request = _Binder(origin, strict).run(ast, object, variables or {})
    if variables is None:
        ast.memo[key] = request
    return request


class _Binder(LenientRules):
    """One binding run: the current segment and the scopes filled so far (lenient mode's
    rules are the methods of LenientRules)."""

    def __init__(self, origin: Origin, strict: bool) -> None:
        self.origin = origin  # the text the current node's span indexes into
        self.source = origin.text
        self.strict = strict
        self.overridden: list[BoundCommand] = []
        self.globals: dict[str, BoundCommand] = {}
        self.layers: dict[int | None, dict[str, BoundCommand]] = {COMP: {}}
        self.effects: dict[tuple[int | None, int], dict[str, BoundCommand]] = {}
        self.names: dict[str, tuple[int | None, str]] = {}  # folded name -> (layer, as written)
        self.layer: int | None = COMP
        self.effect: int | None = None
        self.warnings: list[BindWarning] = []
        self.variables: dict[str, str] = {}

    # ---- driver ---------------------------------------------------------------------------

    def run(self, ast: ModifierString, obj: str | None, outer: Mapping[str, str]) -> ImageRequest:
        self.variables = self._collect_variables(ast, obj, outer)
        origins = ast.origins
        for index, node in enumerate(ast.nodes):
            if origins:
                self._enter(origins[index])
            if isinstance(node, Command):
                self._command(node)
            elif isinstance(node, SegmentStart):
                self._segment(node)
            elif isinstance(node, MacroRef):
                raise UnknownMacroError(node.name, self._at(node.span))
        if not self.strict:
            self._drop_unmet_needs()
        request = self._request()
        check_constraints(request)
        return request

    def _enter(self, origin: Origin) -> None:
        self.origin = origin
        self.source = origin.text

    def _at(self, span: Span, offset: int = 0, length: int | None = None) -> Location:
        start = span[0] + offset
        size = length if length is not None else span[1] - start
        return Location(self.source, start, size, self.origin.label)

    # ---- variables (§2.3, D-18: collect all definitions first, later wins) -----------------

    def _collect_variables(
        self, ast: ModifierString, obj: str | None, outer: Mapping[str, str]
    ) -> dict[str, str]:
        table = dict(outer)
        if obj is not None:
            table.setdefault("object", obj)
        if "$" not in self.source and not ast.origins:
            return table  # no definitions anywhere: skip the first pass
        for index, node in enumerate(ast.nodes):
            if isinstance(node, VarDef):
                self._enter(ast.origin_of(index))
                raw = node.value or ""
                at = self._at(node.span, len(node.name) + 2)
                table[node.key] = self._decode(raw, at, f"${node.name}")
        return table

    # ---- segments (§1.9) ------------------------------------------------------------------

    def _segment(self, node: SegmentStart) -> None:
        spec = lookup(node.key)
        assert spec is not None
        raw = node.value or ""
        value_at = self._at(node.span, len(node.name) + 1)
        text = self._decode(raw, value_at, node.name) if raw else ""  # never substituted (§1.9)
        typed = self._typed(spec, node, raw, text)[0]
        if spec.name == "effect":
            self.effect = typed
            self.effects.setdefault((self.layer, typed), {})
            return
        self.effect = None
        self.layer = self._select_layer(typed, node)
        self.layers.setdefault(self.layer, {})

    def _select_layer(self, select: LayerSelect, node: SegmentStart) -> int | None:
        number = COMP if select.comp else select.number
        if select.name is None:
            return number
        folded = select.name.lower()
        known = self.names.get(folded)
        if select.number is None and not select.comp:  # layer=name selects a mapped name
            if known is None:
                raise LayerNameError(
                    f"layer name {select.name!r} was never mapped to a layer",
                    self._at(node.span),
                    "map it first with layer=n,name",
                )
            return known[0]
        if known is not None and known[0] != number:
            where = "comp" if known[0] is COMP else f"layer {known[0]}"
            raise LayerNameError(
                f"layer name {select.name!r} is already mapped to {where}", self._at(node.span)
            )
        self.names[folded] = (number, select.name)
        return number

    # ---- commands -------------------------------------------------------------------------

    def _command(self, node: Command) -> None:
        spec = lookup(node.name)
        if spec is None:
            self._unknown(node)
            return
        if node.nested is not None:
            self._check_separator(node)
        bound = self._bind_value(spec, node)  # validated even where its scope ignores it
        if bound is None:  # lenient: an unknown keyword left the command to its default
            return
        target = self.globals if spec.is_global else self._target(spec, node)
        if target is None:
            return
        loser = target.pop(spec.slot, None)  # re-insert: the scope keeps last-written order
        if loser is not None:
            self.overridden.append(loser)
        target[spec.slot] = bound

    def _unknown(self, node: Command) -> None:
        if self._not_a_command(node):
            return
        suggestion = closest(node.name, all_names())
        at = self._at(node.span, 0, len(node.name))
        if self.strict:
            raise UnknownCommandError(node.name, at, suggestion)
        hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
        self._warn("unknown-command", f"unknown command '{node.name}' ignored{hint}", node)

    def _target(self, spec: CommandSpec, node: Command) -> dict[str, BoundCommand] | None:
        """The scope this command's value goes to, or None when it is ignored there."""
        if spec.is_global:
            return self.globals
        if self.effect is not None:
            if spec.in_effect:
                return self.effects[(self.layer, self.effect)]
            self._warn("ignored", f"{spec.name} is ignored in an effect segment", node)
            return None
        if self.layer is not COMP:
            if self.layer == 0 and spec.in_comp is InComp.FORBIDDEN:
                raise ConstraintError(
                    f"{spec.name} is not permitted for layer 0", self._at(node.span)
                )
            return self.layers[self.layer]
        if spec.in_comp is InComp.LAYER0:
            return self.layers.setdefault(0, {})
        if spec.in_comp is InComp.IGNORED:
            self._warn("ignored", f"{spec.name} is ignored for comp and layer 0", node)
            return None
        if spec.in_comp is InComp.FORBIDDEN:
            raise ConstraintError(
                f"{spec.name} is not permitted in comp scope (it would size layer 0 by itself)",
                self._at(node.span),
                "use size= for layer 0",
            )
        return self.layers[COMP]

    def _bind_value(self, spec: CommandSpec, node: Command) -> BoundCommand | None:
        """The bound command, or None when lenient binding ignores it (unknown keyword)."""
        if node.nested is not None:
            value = self._nested(spec, node.nested)
            return BoundCommand(spec, node.name, value, node.value or "", node.span, self.origin)
        raw = node.value or ""
        text = raw
        # Hot path: most values need neither decoding nor substitution, and most parse.
        if "%" in raw or "+" in raw:
            if self.strict:
                text = decode_value(raw, (self.source, node.span[0] + len(node.name) + 1))
            else:
                text = self._decode(raw, self._at(node.span, len(node.name) + 1), node.name)
        if "$" in text:
            text = substitute(text, self.variables)
        try:
            typed = spec.parse(text) if text else self._typed(spec, node, raw, text)[0]
        except (ArgProblem, ConstraintProblem):
            typed, text = self._typed(spec, node, raw, text)  # lenient: the text as mended
        if typed is IGNORED:
            return None
        return BoundCommand(spec, node.name, typed, text, node.span, self.origin)

    def _nested(self, spec: CommandSpec, nested: Nested) -> Any:
        if nested.kind is NestedKind.URL:
            body = substitute(nested.body, self.variables)
            return body if spec.name == "imageSet" else NestedSource(nested.kind, body, None, None)
        obj = substitute(nested.object or "", self.variables)
        inner = nested.request
        request = None
        if nested.kind is NestedKind.IS and inner is not None:
            # Variables are forwarded so references inside resolve (§2.5); IR/FXG bodies are
            # other languages and are handed on unchecked.
            request = _Binder(self.origin, self.strict).run(inner, None, self.variables)
            self.warnings.extend(request.warnings)  # what was ignored anywhere is reported
        return NestedSource(nested.kind, obj, inner, request)

    def _typed(
        self, spec: CommandSpec, node: Command | SegmentStart, raw: str, text: str
    ) -> tuple[Any, str]:
        """The typed value and the text it was read from (lenient mode may mend it), or the
        error that explains why there is none."""
        name = node.name
        at = self._at(node.span, len(name) + 1, len(raw))
        if text == "":
            if spec.empty:
                return spec.make(*(None for _ in spec.args)), text
            raise InvalidValueError(
                f"{name} needs a value",
                Location(at.source, at.position - 1, len(name) + 1, at.origin),
                f"write {spec.syntax()}",
                command=spec.name,
                expected=spec.syntax(),
            )
        try:
            return spec.parse(text), text
        except ArgProblem as problem:
            if self.strict:
                raise _invalid(spec, name, raw, text, at, problem) from None
            try:
                return self._mended(spec, node, raw, text, at, problem)
            except ArgProblem:
                raise _invalid(spec, name, raw, text, at, problem) from None
        except ConstraintProblem as problem:
            raise ConstraintError(problem.message, at, problem.hint) from None

    # ---- result ---------------------------------------------------------------------------

    def _request(self) -> ImageRequest:
        layers = []
        for number in sorted(n for n in self.layers if n is not COMP):
            names = tuple(w for (n, w) in self.names.values() if n == number)
            layers.append(
                Layer(number, names, _attributes(self.layers[number]), self._effects(number))
            )
        return ImageRequest(
            globals=_attributes(self.globals),
            comp=_attributes(self.layers[COMP]),
            comp_effects=self._effects(COMP),
            layers=tuple(layers),
            variables=tuple(sorted(self.variables.items())),
            warnings=tuple(self.warnings),
            overridden=tuple(self.overridden),
        )

    def _effects(self, parent: int | None) -> tuple[Effect, ...]:
        if not self.effects:
            return ()
        return tuple(
            Effect(number, _attributes(slots))
            for (owner, number), slots in sorted(
                ((k, v) for k, v in self.effects.items() if k[0] == parent), key=lambda kv: kv[0][1]
            )
            if owner == parent
        )


def _attributes(slots: dict[str, BoundCommand]) -> Attributes:
    # D-13 exception: mapA is ignored whenever map is present in the same scope.
    if "map" in slots and "mapa" in slots:
        slots = {k: v for k, v in slots.items() if k != "mapa"}
    return Attributes(tuple(slots.values()))


def _invalid(
    spec: CommandSpec, name: str, raw: str, text: str, at: Location, problem: ArgProblem
) -> InvalidValueError:
    offset, length = part_location(raw, text, problem.index)
    message = f"invalid value for {name}: {problem.message}"
    reference = _REFERENCE.search(text)
    if reference and not problem.hint:
        problem.hint = f"variable ${reference.group(1)}$ is not defined, so it stays literal"
    return InvalidValueError(
        message,
        Location(at.source, at.position + offset, length, at.origin),
        problem.hint or f"write {spec.syntax()}",
        command=spec.name,
        argument=problem.argument,
        value=problem.value or text,
        expected=problem.expected,
    )


def iter_commands(request: ImageRequest) -> Iterator[tuple[str, BoundCommand]]:
    """Every surviving command with the name of its scope (G, C, L0, L0.E-1, ...)."""
    for bound in request.globals:
        yield "G", bound
    for bound in request.comp:
        yield "C", bound
    for effect in request.comp_effects:
        for bound in effect.attributes:
            yield f"C.E{effect.number}", bound
    for layer in request.layers:
        for bound in layer.attributes:
            yield f"L{layer.number}", bound
        for effect in layer.effects:
            for bound in effect.attributes:
                yield f"L{layer.number}.E{effect.number}", bound
