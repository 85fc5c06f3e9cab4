"""isrender: the Image Serving modifier language and ExportJob, self-hosted, on libvips.

The public API (a contract; see DESIGN.md)::

    import isrender
    ast = isrender.parse("wid=300&$pdp$")          # ModifierString; ModifierSyntaxError
    reg = isrender.MacroRegistry.from_files("macros.toml")  # also .tsv (IS format)
    flat = isrender.expand(ast, macros=reg)        # no MacroRefs left; Modifier/PostModifier
    req = isrender.bind(flat, strict=True)         # ImageRequest; ModifierError subclasses
    res = isrender.render("photo.jpg", "wid=300&fmt=png", macros=reg)  # RenderResult
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

_LAZY = {
    # Rendering loads libvips; parsing, binding and planning must not (DESIGN.md).
    "render": ("isrender.render", ""),  # the package is callable: isrender.service.render
    "RenderResult": ("isrender.render.vips.renderer", "RenderResult"),
    "CatalogAttributes": ("isrender.render.attributes", "CatalogAttributes"),
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        loaded = importlib.import_module(module)
        return getattr(loaded, attribute) if attribute else loaded
    raise AttributeError(f"module 'isrender' has no attribute {name!r}")


__all__ = [  # noqa: RUF022 - the lazy names first
    "CatalogAttributes",
    "RenderResult",
    "render",
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
