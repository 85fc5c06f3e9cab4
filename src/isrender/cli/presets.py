"""``isrender presets add|list``: company image presets (ImageFormat), invoked as ``$name$``
macros."""

from __future__ import annotations

import contextlib

import click

from isrender.catalog.handles import format_handle
from isrender.cli.common import existing_catalog, require_company_id
from isrender.cli.support import out, reports_errors
from isrender.errors import (
    InvalidEncodingError,
    LimitExceededError,
    MacroDefinitionError,
    ModifierSyntaxError,
    UnknownMacroError,
)

__all__ = ["register"]

# What parsing and expanding raise (binding raises the other ModifierErrors).
_UNEXPANDABLE = (ModifierSyntaxError, InvalidEncodingError, UnknownMacroError,
                 MacroDefinitionError, LimitExceededError)  # fmt: skip


@click.group("presets")
def presets_group() -> None:
    """Company image presets (ImageFormat), invoked as $name$ macros."""


@presets_group.command("add")
@click.argument("name")
@click.argument("definition")
@click.option("--company", required=True)
@click.option(
    "--allow-invalid",
    is_flag=True,
    help="Store a definition whose values do not bind (wid=abc); refused otherwise.",
)
@reports_errors
def presets_add(name: str, definition: str, company: str, allow_invalid: bool) -> None:
    """Create or replace a preset. Its values are checked as a strict request would read them
    (through the company's other presets), so a typo never replaces a working preset."""
    catalog = existing_catalog()
    company_id = require_company_id(catalog, company)
    if not allow_invalid:
        from isrender.service import ImageService, SourceRecord

        registry = catalog.macro_registry(company_id)
        record = SourceRecord("", None, "", f"c|{company_id}")
        with contextlib.suppress(*_UNEXPANDABLE):  # save_preset refuses them itself (30001)
            ImageService(macros=registry).prepare(record, definition, strict=True, answers=None)
    preset = catalog.save_preset(company_id, name, definition)
    out.print(f"{format_handle(preset.company_id, preset.id)}  ${name}$ = {definition}",
              markup=False)  # fmt: skip


@presets_group.command("list")
@click.option("--company", required=True)
@reports_errors
def presets_list(company: str) -> None:
    catalog = existing_catalog()
    for preset in catalog.presets(require_company_id(catalog, company)):
        out.print(f"${preset.name}$  {preset.url_modifier}", markup=False)


def register(main: click.Group) -> None:
    main.add_command(presets_group)
