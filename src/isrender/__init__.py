"""isrender: the Image Serving modifier language and ExportJob, self-hosted, on libvips.

The public API (a contract; see DESIGN.md)::

    import isrender
    ast = isrender.parse("wid=300&fmt=png")       # ModifierString; ModifierSyntaxError
    req = isrender.bind(ast, strict=True)          # ImageRequest; ModifierError subclasses
    isrender.serialize(ast)                        # canonical text; parse(serialize(x)) == x
"""

from isrender.errors import (
    ConstraintError,
    InvalidEncodingError,
    InvalidValueError,
    IsRenderError,
    LayerNameError,
    ModifierError,
    ModifierSyntaxError,
    UnknownCommandError,
    UnknownMacroError,
)
from isrender.language import ModifierString, parse, serialize
from isrender.request import ImageRequest, bind

__version__ = "0.1.0"

__all__ = [
    "ConstraintError",
    "ImageRequest",
    "InvalidEncodingError",
    "InvalidValueError",
    "IsRenderError",
    "LayerNameError",
    "ModifierError",
    "ModifierString",
    "ModifierSyntaxError",
    "UnknownCommandError",
    "UnknownMacroError",
    "__version__",
    "bind",
    "parse",
    "serialize",
]
