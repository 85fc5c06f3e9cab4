"""The command table: every IS command, its arguments, scope and priority tag (spec §5, §6)."""

# Importing the command modules runs their @command decorators: this fills the table.
from isrender.commands import filters, layers, output, request, source, text, view  # noqa: F401
from isrender.commands.args import ArgProblem, ConstraintProblem
from isrender.commands.colors import Color, ColorSpace
from isrender.commands.registry import (
    CommandSpec,
    InComp,
    Scope,
    Tag,
    all_commands,
    all_names,
    lookup,
)

__all__ = [
    "ArgProblem",
    "Color",
    "ColorSpace",
    "CommandSpec",
    "ConstraintProblem",
    "InComp",
    "Scope",
    "Tag",
    "all_commands",
    "all_names",
    "lookup",
]
