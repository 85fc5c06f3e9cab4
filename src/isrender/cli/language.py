"""The modifier-language commands: parse, check, explain, convert and commands.

Imported by the ``isrender`` group (cli.py) when one of them runs; registered with ``register``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from isrender.cli.support import out, reports_errors
from isrender.commands import CommandSpec, all_commands, lookup
from isrender.errors import IsRenderError, closest
from isrender.language import Command, ModifierString, Nested, parse, serialize
from isrender.macros import MacroRegistry
from isrender.render.formats import output_format
from isrender.request import BoundCommand, ImageRequest, iter_commands
from isrender.request.views import ast_data, command_data, request_data, value_data

if TYPE_CHECKING:
    from rich.table import Table
    from rich.tree import Tree

    from isrender.macros.templates import TemplateLookup
    from isrender.render.plan import RenderPlan
    from isrender.service import ImageService, PreparedRequest

__all__ = ["register"]

F = TypeVar("F", bound=Callable[..., Any])


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.group()
def _commands() -> None:
    """The commands this module adds to ``isrender`` (see register)."""


# ---- parse ----------------------------------------------------------------------------------


@_commands.command("parse")
@click.argument("modifiers")
@click.option("--json", "as_json", is_flag=True, help="Print the AST as JSON.")
@reports_errors
def parse_cmd(modifiers: str, as_json: bool) -> None:
    """Parse MODIFIERS and print the syntax tree (no command checks)."""
    ast = parse(modifiers)
    if as_json:
        _print_json({"canonical": serialize(ast), "nodes": ast_data(ast)})
        return
    out.print(_ast_tree(ast, "modifiers"))
    out.print(f"canonical: {serialize(ast)}", markup=False)


def _ast_tree(ast: ModifierString, label: str) -> Tree:
    from rich.tree import Tree  # here, not at the top: check never draws one (start-up time)

    tree = Tree(label)
    for node in ast.nodes:
        kind = type(node).__name__
        text = f"{kind} [dim]@{node.span[0]}[/] "
        branch = tree.add(text + _escape(_node_text(node)))
        if isinstance(node, Command) and node.nested is not None:
            _nested_branch(branch, node.nested)
    return tree


def _node_text(node: Any) -> str:
    if isinstance(node, Command) and node.nested is not None:
        return f"{node.name}= ({node.nested.kind.value or 'url'} group)"
    return serialize(ModifierString((node,)))


def _nested_branch(branch: Tree, nested: Nested) -> None:
    if nested.object is not None:
        branch.add(f"object {_escape(repr(nested.object))}")
    if nested.request is not None and nested.request.nodes:
        branch.add(_ast_tree(nested.request, "modifiers"))
    elif nested.object is None:
        branch.add(f"body {_escape(repr(nested.body))}")


def _escape(text: str) -> str:
    return text.replace("[", r"\[")


# ---- check and explain ----------------------------------------------------------------------


def _pipeline_options(fn: F) -> F:
    """The options that decide what a modifier string means: macros, catalog modifiers, mode."""
    options = [
        click.option("--lenient", is_flag=True, help="Ignore unknown commands (as the server)."),
        click.option("--object", "obj", default=None, help="The request object, for $object$."),
        click.option(
            "--macros",
            "macro_files",
            multiple=True,
            type=click.Path(exists=True, dir_okay=False),
            help="Macro file (.tsv IS format or .toml); repeat for more.",
        ),
        click.option("--modifier", default=None, help="Catalog Modifier, placed before."),
        click.option("--post-modifier", default=None, help="Catalog PostModifier, placed after."),
        click.option(
            "--template",
            "template_defs",
            multiple=True,
            metavar="NAME=BODY",
            help="A compositing template for template=NAME (the object is $object$); repeat.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _prepare(
    modifiers: str,
    lenient: bool,
    obj: str | None,
    macro_files: tuple[str, ...],
    modifier: str | None,
    post_modifier: str | None,
    template_defs: tuple[str, ...] = (),
    source: str | None = None,
) -> PreparedRequest:
    """The request as the image service prepares it (check, explain and convert). With
    ``--template`` the source file is the template's ``$object$`` (named by its stem unless
    ``--object`` names it)."""
    from isrender.service import ImageService, SourceRecord

    registry = MacroRegistry.from_files(*macro_files) if macro_files else None
    path = Path(source) if source else None
    lookup = _templates(template_defs) if template_defs else None
    name = obj or (path.stem if lookup and path else "")
    record = SourceRecord(name, path, "", None, modifier or "", post_modifier or "")
    service = ImageService(macros=registry)
    return service.prepare(record, modifiers, strict=not lenient, answers=None, templates=lookup)


def _templates(definitions: tuple[str, ...]) -> TemplateLookup:
    """``--template NAME=BODY`` options as the lookup a catalog would give (the last wins)."""
    from isrender.macros.templates import Template

    found: dict[str, Template] = {}
    for definition in definitions:
        name, equals, body = definition.partition("=")
        if not equals or not name.strip():
            raise click.BadParameter(f"{definition!r} is not NAME=BODY", param_hint="'--template'")
        found[name.strip()] = Template(name.strip(), body)
    return found.get


def _service() -> ImageService:
    """The service convert and explain render with: a conversion tool's attributes, and the
    ``font_map`` setting (isrender.toml or ISRENDER_FONT_MAP) for text layers."""
    from isrender.config import Settings
    from isrender.render.attributes import CatalogAttributes
    from isrender.service import ImageService

    return ImageService(CatalogAttributes(font_map=Settings.load().font_map))


@_commands.command("check")
@click.argument("modifiers")
@_pipeline_options
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@reports_errors
def check_cmd(modifiers: str, as_json: bool, **pipeline: Any) -> None:
    """Check MODIFIERS: exit 0 when valid, 2 with the error, its position and a hint."""
    request = _prepare(modifiers, **pipeline).request
    if as_json:
        warnings = [w.message for w in request.warnings]
        _print_json({"valid": True, "effective": request.effective(), "warnings": warnings})
        return
    out.print("[green]ok[/] " + _escape(request.effective() or "(no commands)"))
    for warning in request.warnings:
        out.print(f"[yellow]warning:[/] {_escape(warning.message)} at {warning.position}")


@_commands.command("explain")
@click.argument("arguments", nargs=-1, required=True, metavar="[SRC] MODIFIERS")
@_pipeline_options
@click.option("--json", "as_json", is_flag=True, help="Print every stage as JSON.")
@reports_errors
def explain_cmd(arguments: tuple[str, ...], as_json: bool, **pipeline: Any) -> None:
    """Show every stage for MODIFIERS: syntax tree, expansion, bound request by scope, and,
    given a source image SRC, the render plan."""
    if len(arguments) > 2:
        raise click.UsageError("explain takes [SRC] MODIFIERS")
    source = arguments[0] if len(arguments) == 2 else None
    prepared = _prepare(arguments[-1], **pipeline, source=source)
    ast, flat, request = prepared.ast, prepared.flat, prepared.request
    render_plan = _plan_for(prepared) if source else None
    if as_json:
        data: dict[str, Any] = {
            "canonical": serialize(ast),
            "ast": ast_data(ast),
            "expanded": serialize(flat),
            "request": request_data(request),
        }
        if render_plan is not None:
            data["plan"] = [step.describe() for step in render_plan.steps]
            data["ignored"] = list(render_plan.ignored)
        _print_json(data)
        return
    stage = iter(range(1, 5)).__next__  # stages are numbered as shown: no gap without macros
    out.rule(f"{stage()}. syntax tree")
    out.print(_ast_tree(ast, "modifiers"))
    if flat is not ast:
        out.rule(f"{stage()}. expanded (Modifier + request with macros + PostModifier)")
        out.print(serialize(flat), markup=False)
    out.rule(f"{stage()}. bound request (last occurrence wins per scope)")
    out.print(_request_table(request))
    if request.overridden:
        lost = ", ".join(f"{b} ({_origin(b)})" for b in request.overridden)
        out.print("overridden: " + _escape(lost))
    if request.variables:
        out.print("variables: " + _escape(", ".join(f"${k}={v!r}" for k, v in request.variables)))
    for warning in request.warnings:
        out.print(f"[yellow]warning:[/] {_escape(warning.message)} at {warning.position}")
    out.print("effective: " + _escape(request.effective() or "(no commands)"))
    output = output_format(request)
    out.print(
        f"output: fmt={output.format} -> {output.media_type}, file extension {output.extension}"
    )
    if render_plan is not None:
        source_info = render_plan.source
        size = f"{source_info.width}x{source_info.height} {source_info.loader}"
        out.rule(f"{stage()}. render plan ({size})")
        out.print(render_plan.describe(), markup=False)
        for note in render_plan.ignored:
            out.print(f"[yellow]ignored:[/] {_escape(note)}")
        w, h = render_plan.reply_size
        out.print(f"reply: {w}x{h}")


def _plan_for(prepared: PreparedRequest) -> RenderPlan:
    return _service().plan_render(prepared).plan


@_commands.command("convert")
@click.argument("source", type=click.Path(dir_okay=False))
@click.argument("modifiers", default="")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(),
    help="Output file, or a directory (the name then comes from SOURCE and fmt).",
)
@click.option("--force", is_flag=True, help="Write even when OUTPUT's extension is another format.")
@_pipeline_options
@reports_errors
def convert_cmd(source: str, modifiers: str, output: str, force: bool, **pipeline: Any) -> None:
    """Render SOURCE with MODIFIERS and write the result to OUTPUT.

    An OUTPUT extension of another image format than the reply's (fmt=png into a.jpg) is
    refused with exit 2, before rendering, unless --force."""
    prepared = _prepare(modifiers, **pipeline, source=source)
    request = prepared.request
    target = Path(output)
    to_directory = target.is_dir() or output.endswith(("/", os.sep))
    if not to_directory and not force:
        _refuse_a_contradicting_extension(target, request)
    result = _service().render(prepared)
    if to_directory:
        target = target / (Path(source).stem + result.extension)
    _write_atomically(target, result.data)
    size = f"{len(result.data) / 1024:.1f} KB"
    summary = f"wrote {target} ({result.media_type}, {result.width}x{result.height}, {size})"
    out.print(summary, markup=False)


def _refuse_a_contradicting_extension(target: Path, request: ImageRequest) -> None:
    """An extension that names another known format would mislabel the bytes (a PNG in a.jpg);
    no extension, or one that names no format (.out), is the user's choice."""
    from isrender.commands.formats import FORMATS

    suffix = target.suffix.lower()
    meaning = {e: s.extension for s in FORMATS.values() for e in (s.extension, *s.other_extensions)}
    reply = output_format(request)
    if suffix in meaning and meaning[suffix] != reply.extension:
        raise click.BadParameter(
            f"{target.name} says {suffix}, but fmt={reply.format} writes {reply.extension} "
            f"({reply.media_type}): change the name or fmt=, or pass --force",
            param_hint="'-o'",
        )


def _write_atomically(target: Path, data: bytes) -> None:
    """Temp file in the same directory, then rename: never a half-written output."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _origin(bound: BoundCommand) -> str:
    return bound.origin.label if bound.origin else "request"


def _request_table(request: ImageRequest) -> Table:
    from rich.table import Table

    table = Table("scope", "command", "value", "typed value", "from", box=None)
    for scope, bound in iter_commands(request):
        shown = bound.written if bound.written == bound.name else f"{bound.written} ({bound.name})"
        typed = _escape(_short(value_data(bound.value)))
        table.add_row(scope, shown, _escape(bound.text), typed, _escape(_origin(bound)))
    return table


def _short(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False) if not isinstance(data, str) else data
    return text if len(text) <= 80 else text[:77] + "..."


# ---- commands -------------------------------------------------------------------------------


@_commands.command("commands")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@reports_errors
def commands_cmd(name: str | None, as_json: bool) -> None:
    """List every IS command, or describe NAME (from the same table binding uses)."""
    if name is None:
        specs = list(all_commands())
        if as_json:
            _print_json([command_data(s) for s in specs])
            return
        from rich.table import Table

        table = Table("command", "tag", "scope", "syntax", "summary", box=None)
        for spec in specs:
            table.add_row(
                spec.name, spec.tag.value, spec.scope.value, _escape(spec.syntax()), spec.summary
            )
        out.print(table)
        out.print(f"{len(specs)} commands; 'isrender commands NAME' for one of them")
        return
    found = lookup(name)
    if found is None:
        suggestion = closest(name, [s.name for s in all_commands()])
        hint = f"; did you mean '{suggestion}'?" if suggestion else ""
        raise IsRenderError(f"unknown command '{name}'{hint}")
    if as_json:
        _print_json(command_data(found))
        return
    _describe(found)


def _describe(spec: CommandSpec) -> None:
    data = command_data(spec)
    out.print(f"[bold]{spec.name}[/] \\[{spec.tag.value}]  {_escape(spec.syntax())}")
    out.print(spec.summary)
    out.print(f"scope: {spec.scope.value}", end="")
    if "in_comp" in data:
        out.print(f"; before any layer= it applies to: {data['in_comp']}", end="")
        out.print(f"; in effect layers: {'yes' if spec.in_effect else 'ignored'}", end="")
    out.print()
    out.print(f"rendered by: {spec.renders}")
    if "shares_slot_with" in data:
        out.print(f"shares its slot with: {data['shares_slot_with']} (the later one wins)")
    if spec.aliases:
        out.print("aliases: " + ", ".join(spec.aliases))
    if spec.empty:
        out.print("an empty value is allowed and has a meaning")
    from rich.table import Table

    table = Table("argument", "type", "optional", "default", box=None)
    for arg in data["arguments"]:
        default = arg.get("default")
        kind = " | ".join(arg["choices"]) if "choices" in arg else arg["type"]
        table.add_row(
            arg["name"],
            _escape(kind),
            "yes" if arg.get("optional") else "",
            "" if default is None else str(default),
        )
    out.print(table)
    if "formats" in data:
        formats = Table(
            "format", "extension", "media type", "alpha", "written", "exports", box=None
        )
        for row in data["formats"]:
            formats.add_row(
                row["name"],
                row["extension"],
                row["media_type"],
                *("yes" if row[k] else "" for k in ("alpha", "writable", "export")),
            )
        out.print(formats)


def register(main: click.Group) -> None:
    for command in _commands.commands.values():
        main.add_command(command)
