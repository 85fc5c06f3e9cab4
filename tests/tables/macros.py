"""Spec §3.8 worked examples and §8.10-8.11 macro, catalog-modifier and ExportJob examples.

The fixture is spec §0.5: the macro file tests/fixtures/spec-macros.tsv and the catalog ``cat``
records below. Each row: (id, modifiers, catalog record or None, expected), with ``expected``
the effective list in the spec's notation, or an error class.
"""

from __future__ import annotations

from isrender.errors import (
    InvalidValueError,
    MacroDefinitionError,
    ModifierError,
    UnknownMacroError,
)

# catalog::Id -> (Modifier, PostModifier), spec §0.5
RECORDS = {
    "shoe": ("wid=300&qlt=70&op_sharpen=1", "qlt=95"),
    "boot": ("$view$", None),
}

VIEW = "fmt=jpeg qlt=85 bgc=200,200,200 align=-1,-1"

ROWS: list[tuple[str, str, str | None, str | type[ModifierError]]] = [
    # §3.8 worked examples
    ("3.8-1", "$view$&wid=480", None, f"G{{wid=480 {VIEW}}} C{{op_usm=5,2}}"),
    ("3.8-2", "wid=480&$view$", None, f"G{{wid=240 {VIEW}}} C{{op_usm=5,2}}"),
    ("3.8-3", "$pdp$", None, f"G{{wid=240 hei=240 {VIEW}}} C{{op_usm=5,2}}"),
    (
        "3.8-4",
        "$pdp$&align=0,0",
        None,
        "G{wid=240 hei=240 fmt=jpeg qlt=85 bgc=200,200,200 align=0,0} C{op_usm=5,2}",
    ),
    ("3.8-5", "$q=75&$webpq$", None, "G{fmt=webp qlt=75}"),
    ("3.8-6", "$webpq$", None, InvalidValueError),
    ("3.8-7", "$webpq$&$q=75", None, "G{fmt=webp qlt=75}"),
    ("3.8-8", "$c=00ff00&$red$", None, "C{op_colorize=ff0000}"),
    ("3.8-9", "$red$&$c=00ff00", None, "C{op_colorize=00ff00}"),
    ("3.8-10", "qlt=60&wid=500", "shoe", "G{wid=500 qlt=95} C{op_sharpen=1}"),
    ("3.8-11", "wid=480", "boot", f"G{{wid=480 {VIEW}}} C{{op_usm=5,2}}"),
    (
        "3.8-12",
        "$view$",
        "shoe",
        "G{wid=240 qlt=95 fmt=jpeg bgc=200,200,200 align=-1,-1} C{op_sharpen=1 op_usm=5,2}",
    ),
    ("3.8-14", "$early$", None, MacroDefinitionError),
    ("3.8-15", "$nosuch$", None, UnknownMacroError),
    # §8.10 command macros
    ("E-154", "$view$", None, f"G{{wid=240 {VIEW}}} C{{op_usm=5,2}}"),
    ("E-155", "$view$&wid=480", None, f"G{{wid=480 {VIEW}}} C{{op_usm=5,2}}"),
    ("E-156", "wid=480&$view$", None, f"G{{wid=240 {VIEW}}} C{{op_usm=5,2}}"),
    ("E-157", "$VIEW$&Wid=480", None, f"G{{wid=480 {VIEW}}} C{{op_usm=5,2}}"),
    ("E-158", "$pdp$", None, f"G{{wid=240 hei=240 {VIEW}}} C{{op_usm=5,2}}"),
    ("E-159", "$thumb$", None, "G{wid=100 hei=100 fit=crop fmt=png}"),
    ("E-160", "$thumb$&fit=fit", None, "G{wid=100 hei=100 fit=fit fmt=png}"),
    ("E-161", "$q=75&$webpq$", None, "G{fmt=webp qlt=75}"),
    ("E-162", "$webpq$", None, InvalidValueError),
    ("E-163", "$webpq$&$q=75", None, "G{fmt=webp qlt=75}"),
    ("E-164", "$q90$&$webpq$", None, "G{fmt=webp qlt=90}"),
    ("E-165", "$c=00ff00&$red$", None, "C{op_colorize=ff0000}"),
    ("E-166", "$red$&$c=00ff00", None, "C{op_colorize=00ff00}"),
    ("E-167", "$nosuch$", None, UnknownMacroError),
    ("E-168", "$early$", None, MacroDefinitionError),
    ("E-169", "$late$", None, "G{hei=10}"),
    ("E-170", "wid=$view$", None, InvalidValueError),
    # §8.11 catalog modifiers
    ("E-171", "", "shoe", "G{wid=300 qlt=95} C{op_sharpen=1}"),
    ("E-172", "wid=500&qlt=60", "shoe", "G{wid=500 qlt=95} C{op_sharpen=1}"),
    ("E-173", "qlt=60&wid=500", "shoe", "G{wid=500 qlt=95} C{op_sharpen=1}"),
    ("E-174", "wid=480", "boot", f"G{{wid=480 {VIEW}}} C{{op_usm=5,2}}"),
    (
        "E-175",
        "$view$",
        "shoe",
        "G{wid=240 qlt=95 fmt=jpeg bgc=200,200,200 align=-1,-1} C{op_sharpen=1 op_usm=5,2}",
    ),
]

# §8.11 ExportJob rows and the seed example: (id, is_modifier, macro, expected fmt, extension)
EXPORTS: list[tuple[str, str, str | None, str, str, str]] = [
    ("E-178", "&fmt=png", "$tiff$", "G{fmt=tif,,lzw}", "tif", ".tiff"),
    ("E-179", "wid=1000&fmt=png", "view", f"G{{wid=240 {VIEW}}} C{{op_usm=5,2}}", "jpeg", ".jpg"),
    ("E-180", "scl=1&fmt=tif,,lzw", None, "G{scl=1 fmt=tif,,lzw}", "tif", ".tiff"),
    ("seed", "&fmt=png", "$test$", "G{fmt=tif}", "tif", ".tiff"),
    ("D-23", "&fmt=png", "test", "G{fmt=tif}", "tif", ".tiff"),
]
