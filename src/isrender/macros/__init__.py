"""Macros (§3): ``$name$`` presets, their definition files, and expansion.

``files`` reads definition files (TOML, IS-format TSV); ``definitions`` loads them into
ready-made node lists (D-21); ``registry`` holds the definitions and expands a parsed
request. Imports point down: language, then errors.
"""

from isrender.macros.registry import (
    ExpansionLimits,
    Macro,
    MacroRegistry,
    expand,
    export_modifiers,
)

__all__ = ["ExpansionLimits", "Macro", "MacroRegistry", "expand", "export_modifiers"]
