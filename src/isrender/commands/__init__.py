"""The command table: every IS command, its arguments, scope and priority tag (spec §5, §6)."""

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

# Importing the command modules runs their @command decorators: this fills the table.
from isrender.commands import filters, layers, output, request, source, text, view  # noqa: E402, F401, I001

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
