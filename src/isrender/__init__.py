"""isrender: the Image Serving modifier language and ExportJob, self-hosted, on libvips.

The public API (a contract; see DESIGN.md)::

    import isrender
    ast = isrender.parse("wid=300&$pdp$")          # ModifierString; ModifierSyntaxError
    reg = isrender.MacroRegistry.from_files("macros.toml")  # also .tsv (IS format)
    flat = isrender.expand(ast, macros=reg)        # no MacroRefs left; Modifier/PostModifier
    req = isrender.bind(flat, strict=True)         # ImageRequest; ModifierError subclasses
    isrender.serialize(ast)                        # canonical text; parse(serialize(x)) == x
"""

from isrender.errors import (
    ConstraintError,
    InvalidEncodingError,
    InvalidValueError,
    IsRenderError,
    LayerNameError,
    LimitExceededError,
    MacroDefinitionError,
    ModifierError,
    ModifierSyntaxError,
    UnknownCommandError,
    UnknownMacroError,
)
from isrender.language import ModifierString, parse, serialize
from isrender.macros import ExpansionLimits, MacroRegistry, expand, export_modifiers
from isrender.request import ImageRequest, bind

__version__ = "0.1.0"

__all__ = [
    "ConstraintError",
    "ExpansionLimits",
    "ImageRequest",
    "InvalidEncodingError",
    "InvalidValueError",
    "IsRenderError",
    "LayerNameError",
    "LimitExceededError",
    "MacroDefinitionError",
    "MacroRegistry",
    "ModifierError",
    "ModifierString",
    "ModifierSyntaxError",
    "UnknownCommandError",
    "UnknownMacroError",
    "__version__",
    "bind",
    "expand",
    "export_modifiers",
    "parse",
    "serialize",
]
