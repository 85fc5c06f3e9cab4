"""``isrender macros list|show|check``: look into macro files the way expansion sees them."""

from __future__ import annotations

import sys

import click
from rich.table import Table

from isrender.cli.support import err, out
from isrender.errors import IsRenderError, closest
from isrender.macros import Macro, MacroRegistry

__all__ = ["register"]


_FILES = click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False)
)


def _load(files: tuple[str, ...]) -> MacroRegistry:
    try:
        return MacroRegistry.from_files(*files)
    except IsRenderError as exc:
        err.print(f"[bold red]error:[/] {exc.public_message}", markup=True)
        sys.exit(2)


def _status(macro: Macro) -> str:
    return "ok" if macro.valid else "[red]invalid[/]"


@click.group("macros")
def macros_group() -> None:
    """Macro definition files: list, show and check them."""


@macros_group.command("list")
@_FILES
def list_cmd(files: tuple[str, ...]) -> None:
    """List the macros of FILES in load order, with where each is defined."""
    registry = _load(files)
    table = Table("macro", "defined at", "status", "commands", "expansion", box=None)
    for macro in registry.default.values():
        expansion = macro.expansion() if macro.valid else ""
        short = expansion if len(expansion) <= 60 else expansion[:57] + "..."
        table.add_row(
            f"${macro.name}$",
            macro.where,
            _status(macro),
            str(macro.commands),
            short.replace("[", r"\["),
        )
    out.print(table)
    out.print(f"{len(registry)} macros, {len(registry.problems())} invalid")


@macros_group.command("show")
@click.argument("name")
@click.option(
    "--macros",
    "files",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Macro file; repeat for more.",
)
def show_cmd(name: str, files: tuple[str, ...]) -> None:
    """Show macro NAME: its definition and its full expansion."""
    registry = _load(files)
    macro = registry.get(name.strip("$"))
    if macro is None:
        suggestion = closest(name.strip("$"), registry.names())
        hint = f"; did you mean ${suggestion}$?" if suggestion else ""
        err.print(f"[bold red]error:[/] no macro ${name.strip('$')}${hint}")
        sys.exit(2)
    out.print(f"${macro.name}$  ({macro.where})")
    out.print("definition: " + macro.definition, markup=False)
    if macro.problem is not None:
        err.out(macro.problem.render())
        sys.exit(2)
    out.print("expansion:  " + macro.expansion(), markup=False)


@macros_group.command("check")
@_FILES
def check_cmd(files: tuple[str, ...]) -> None:
    """Check FILES: every invalid macro and warning with file and line; exit 2 on errors."""
    registry = _load(files)
    for warning in registry.warnings:
        out.print(f"[yellow]warning:[/] {warning}")
    problems = registry.problems()
    for problem in problems:
        err.print("[bold red]error:[/] ", end="")
        err.out(problem.render())
    out.print(f"{len(registry)} macros, {len(problems)} invalid, {len(registry.warnings)} warnings")
    if problems:
        sys.exit(2)


def register(main: click.Group) -> None:
    main.add_command(macros_group)
