"""Compositing templates (spec §3.5-§3.6): ``template=T`` puts T's body in front of the request.

A template is a catalog record whose Modifier holds a layered body. With ``template=T`` (the
last one wins) the effective command list is ``T's body + request + path PostModifier``: the
body takes the place of the path record's Modifier (§3.6), so request commands override the
body's and request variable definitions override the body's defaults (D-18, applied by
binding). The path object is not layer 0; the body places it with ``src=$object$``, which
binding fills from the request path or an explicit ``$object=``.

This module is pure: the catalog is reached through a ``TemplateLookup`` callable that turns a
reference (``frame``, ``cat/frame``, a handle) into a Template or None. Nested ``is{...}``
requests may use templates too (the only place a template body may hold ``template=``), so
expansion recurses into them, refusing cycles, depth above MAX_TEMPLATE_DEPTH and more than
MAX_TEMPLATE_USES expansions in one request. The ``template=`` command itself stays in the
sequence: binding keeps it as a request attribute, which tells the renderer that the path
object is not layer 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from isrender.errors import (
    LimitExceededError,
    Location,
    ModifierError,
    TemplateError,
    UnknownTemplateError,
)
from isrender.language import (
    Command,
    ModifierString,
    Nested,
    NestedKind,
    Node,
    Origin,
    VarDef,
    decode_value,
    parse,
    serialize,
    substitute,
)
from isrender.macros.registry import MacroRegistry, expand

__all__ = [
    "MAX_TEMPLATE_DEPTH",
    "MAX_TEMPLATE_USES",
    "Template",
    "TemplateLookup",
    "check_body",
    "expand_request",
    "template_commands",
]

MAX_TEMPLATE_DEPTH = 8  # templates inside nested requests of templates, counting the first
MAX_TEMPLATE_USES = 64  # template expansions in one request, at every nesting level


@dataclass(frozen=True)
class Template:
    """A template as the catalog stores it: its name (for origins and errors) and its body."""

    name: str
    body: str


TemplateLookup = Callable[[str], Template | None]


def expand_request(
    ast: ModifierString,
    macros: MacroRegistry | None = None,
    *,
    templates: TemplateLookup | None = None,
    catalog: str | None = None,
    modifier: str | None = None,
    post_modifier: str | None = None,
) -> ModifierString:
    """``expand()`` with templates: the effective command list of §3.6.

    Without ``templates`` (no catalog) ``template=`` is left for binding to validate and the
    renderer to refuse. Raises what ``expand()`` raises, UnknownTemplateError, TemplateError
    (D-47 misuse, cycles, depth) and LimitExceededError.
    """
    for text, label in ((modifier, "Modifier"), (post_modifier, "PostModifier")):
        if text and "template" in text.lower():
            _refuse_template_in(_parsed(text, label), Origin(label, text))
    if templates is not None:
        request = expand(ast, macros, catalog=catalog)
        if any(True for _ in template_commands(request, nested=True)):
            expansion = _Expansion(templates, macros, catalog)
            return expansion.effective(request, ast.source, modifier, post_modifier)
    return expand(ast, macros, catalog=catalog, modifier=modifier, post_modifier=post_modifier)


def check_body(
    template: Template, macros: MacroRegistry | None = None, catalog: str | None = None
) -> ModifierString:
    """The body as a request would use it (parsed, ``template=`` refused outside nested
    requests, macros expanded), for whoever stores a template; raises ModifierError."""
    origin = Origin(f"template '{template.name}'", template.body)
    ast = _parsed(template.body, origin.label)
    _refuse_template_in(ast, origin)
    try:
        expanded = expand(ast, macros, catalog=catalog)
    except ModifierError as exc:
        raise (exc.from_origin(origin.label) if exc.at.origin == "request" else exc) from None
    return _labelled(expanded, origin)


def template_commands(ast: ModifierString, *, nested: bool = False) -> list[tuple[int, Command]]:
    """The ``template=`` commands of ``ast`` with their node index (top level only unless
    ``nested``: then nested IS requests' too, with the index of their enclosing command)."""
    found: list[tuple[int, Command]] = []
    for index, node in enumerate(ast.nodes):
        if not isinstance(node, Command):
            continue
        if node.key == "template":
            found.append((index, node))
        inner = _nested_request(node)
        if nested and inner is not None:
            found += [(index, command) for _, command in template_commands(inner, nested=True)]
    return found


@dataclass
class _Expansion:
    """One request's template expansion: the lookup, the macros, and the budget used so far."""

    lookup: TemplateLookup
    macros: MacroRegistry | None
    catalog: str | None
    uses: int = 0

    def effective(
        self, request: ModifierString, source: str, modifier: str | None, post_modifier: str | None
    ) -> ModifierString:
        top = Origin("request", source)
        variables = _definitions(request, top, {})
        request = self._nested_in(request, top, variables, ())
        body = self._chosen_body(request, top, variables, ())
        prefix: str | ModifierString | None = modifier if body is None else body
        return expand(request, self.macros, catalog=self.catalog, modifier=prefix,
                      post_modifier=post_modifier)  # fmt: skip

    def _chosen_body(
        self, ast: ModifierString, parent: Origin, variables: Mapping[str, str],
        chain: tuple[str, ...],
    ) -> ModifierString | None:  # fmt: skip
        """The expanded body of the last top-level ``template=`` of ``ast``, or None."""
        found = template_commands(ast)
        if not found:
            return None
        index, command = found[-1]
        origin = ast.origins[index] if ast.origins else parent
        at = Location(origin.text, command.span[0], command.span[1] - command.span[0],
                      origin.label)  # fmt: skip
        raw = command.value or ""
        reference = substitute(decode_value(raw, (origin.text, command.value_start)), variables)
        if not reference:
            raise TemplateError("template= needs the name of a template", at)
        template = self.lookup(reference)
        if template is None:
            raise UnknownTemplateError(reference, at)
        return self._body(template, at, variables, chain)

    def _body(
        self, template: Template, at: Location, variables: Mapping[str, str],
        chain: tuple[str, ...],
    ) -> ModifierString:  # fmt: skip
        if template.name in chain:
            path = " -> ".join((*chain, template.name))
            raise TemplateError(f"template {template.name!r} uses itself ({path})", at)
        if len(chain) >= MAX_TEMPLATE_DEPTH:
            raise TemplateError(
                f"templates nest deeper than {MAX_TEMPLATE_DEPTH} ({' -> '.join(chain)} -> "
                f"{template.name})",
                at,
            )
        self.uses += 1
        if self.uses > MAX_TEMPLATE_USES:
            raise LimitExceededError(
                f"the request expands more than {MAX_TEMPLATE_USES} templates", at
            )
        origin = Origin(f"template '{template.name}'", template.body)
        body = check_body(template, self.macros, self.catalog)
        inner = _definitions(body, origin, variables)
        return self._nested_in(body, origin, inner, (*chain, template.name))

    def _nested_in(
        self, ast: ModifierString, parent: Origin, variables: Mapping[str, str],
        chain: tuple[str, ...],
    ) -> ModifierString:  # fmt: skip
        """``ast`` with the template of every nested IS request put in front of it."""
        nodes: list[Node] = list(ast.nodes)
        changed = False
        for index, node in enumerate(ast.nodes):
            inner = _nested_request(node)
            if inner is None or not template_commands(inner, nested=True):
                continue
            assert isinstance(node, Command) and node.nested is not None
            origin = ast.origins[index] if ast.origins else parent
            scope = _definitions(inner, origin, variables)
            resolved = self._nested_in(inner, origin, scope, chain)
            body = self._chosen_body(resolved, origin, scope, chain)
            if body is not None:  # its own nodes keep pointing into the enclosing text
                resolved = expand(_credited(resolved, origin), self.macros,
                                  catalog=self.catalog, modifier=body)  # fmt: skip
            nodes[index] = _with_request(node, node.nested, resolved)
            changed = True
        if not changed:
            return ast
        return ModifierString(tuple(nodes), ast.source, origins=ast.origins)


def _nested_request(node: Node) -> ModifierString | None:
    if isinstance(node, Command) and node.nested is not None:
        nested = node.nested
        if nested.kind is NestedKind.IS and nested.request is not None:
            return nested.request
    return None


def _with_request(command: Command, nested: Nested, request: ModifierString) -> Command:
    """``command`` with its nested IS request replaced by ``request`` (template in front)."""
    body = f"{nested.object or ''}?{serialize(request)}"
    expanded = Nested(nested.kind, nested.bracket, body, nested.span, nested.object, request)
    return Command(command.name, expanded.text, command.span, expanded)


def _parsed(text: str, label: str) -> ModifierString:
    try:
        return parse(text)
    except ModifierError as exc:
        raise exc.from_origin(label) from None


def _refuse_template_in(ast: ModifierString, origin: Origin) -> None:
    """D-47: ``template=`` may not appear in a PostModifier, and in a Modifier or a template
    body only inside a nested ``is{...}`` request."""
    found = template_commands(ast)
    if not found:
        return
    command = found[0][1]
    at = Location(origin.text, command.span[0], command.span[1] - command.span[0], origin.label)
    where = {"PostModifier": "a PostModifier", "Modifier": "a catalog Modifier"}.get(
        origin.label, f"the body of {origin.label} (a template may not name a template)"
    )
    raise TemplateError(
        f"template= may not be used in {where}",
        at,
        "a template may be used there only inside a nested request: src=is{?template=...}",
    )


def _labelled(ast: ModifierString, origin: Origin) -> ModifierString:
    """``ast`` with its own nodes credited to ``origin`` (macro nodes keep theirs)."""
    origins = tuple(
        origin if o.label == "request" else o for o in (ast.origin_of(i) for i in range(len(ast)))
    )
    return ModifierString(ast.nodes, origin.text, origins=origins)


def _credited(ast: ModifierString, origin: Origin) -> ModifierString:
    """``ast`` with explicit origins: a plain parse's nodes all come from ``origin``."""
    if ast.origins:
        return ast
    return ModifierString(ast.nodes, ast.source, origins=(origin,) * len(ast.nodes))


def _definitions(ast: ModifierString, parent: Origin, outer: Mapping[str, str]) -> dict[str, str]:
    """Variables a ``template=`` value may use: ``outer``'s, then ``ast``'s own (later wins)."""
    table = dict(outer)
    for index, node in enumerate(ast.nodes):
        if isinstance(node, VarDef):
            origin = ast.origins[index] if ast.origins else parent
            table[node.key] = decode_value(node.value or "", (origin.text, node.value_start))
    return table
