"""``isrender company add|set|show``: companies (tenants), their overwriteMode and the catalog
attributes the image server applies to their URLs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from isrender.catalog import Catalog, company_handle
from isrender.catalog.accounts import OVERWRITE_MODES
from isrender.cli.common import existing_catalog, require_company_id
from isrender.cli.support import out, reports_errors

__all__ = ["register"]

F = TypeVar("F", bound=Callable[..., Any])


@click.group("company")
def company_group() -> None:
    """Companies (tenants)."""


@company_group.command("add")
@click.argument("name")
@click.option("--root-path", default=None, help="Folder tree root (default: NAME/).")
@reports_errors
def company_add(name: str, root_path: str | None) -> None:
    company = existing_catalog().add_company(name, root_path)
    out.print(f"{company_handle(company.id)}  {company.name}  root {company.root_path}")


def _attribute_options(command: F) -> F:
    """One option per catalog attribute (attributes.py ATTRIBUTES: the one table)."""
    from isrender.render.attributes import ATTRIBUTES

    for spec in reversed(ATTRIBUTES):
        flag = "--" + spec.setting.replace("_", "-")
        command = click.option(flag, spec.setting, default=None, metavar="VALUE",
                               help=f"{spec.name}: {spec.form}.")(command)  # fmt: skip
    return command


@company_group.command("set")
@click.argument("company")
@click.option("--overwrite-mode", type=click.Choice(list(OVERWRITE_MODES)),
              help="How uploads replace existing assets.")  # fmt: skip
@_attribute_options
@click.option("--reset", "resets", multiple=True, metavar="ATTRIBUTE",
              help="Back to the server-wide setting (e.g. --reset MaxPix); repeat.")  # fmt: skip
@reports_errors
def company_set(company: str, overwrite_mode: str | None, resets: tuple[str, ...],
                **values: str | None) -> None:  # fmt: skip
    """Company settings (overwriteMode) and catalog attributes (spec §4.2) the image server
    applies to the company's URLs; unset attributes follow the server-wide settings."""
    from isrender.catalog.attribute_store import set_company_attributes
    from isrender.render.attributes import ATTRIBUTES

    changes: dict[str, str | None] = {name: None for name in resets}
    changes.update({s.name: values[s.setting] for s in ATTRIBUTES if values[s.setting] is not None})
    if overwrite_mode is None and not changes:
        raise click.UsageError("nothing to set: give --overwrite-mode, an attribute or --reset")
    catalog = existing_catalog()
    company_id = require_company_id(catalog, company)
    if changes:
        set_company_attributes(catalog, company_id, changes)
        _print_attributes(catalog, company_id)
    if overwrite_mode is not None:
        catalog.set_overwrite_mode(company_id, overwrite_mode)
        out.print(f"{company}: overwriteMode {overwrite_mode}", markup=False)


@company_group.command("show")
@click.argument("company")
@reports_errors
def company_show(company: str) -> None:
    """The company's catalog attributes: its own, or the server-wide setting's (marked)."""
    catalog = existing_catalog()
    row = catalog.require_company(company)
    out.print(f"{company_handle(row.id)}  {row.name}  root {row.root_path}  "
              f"overwriteMode {row.overwrite_mode}", markup=False)  # fmt: skip
    _print_attributes(catalog, row.id)


def _print_attributes(catalog: Catalog, company_id: int) -> None:
    from isrender.catalog.attribute_store import company_attributes
    from isrender.render.attributes import effective_texts

    own = company_attributes(catalog, company_id)
    for name, text in effective_texts(own, catalog.settings).items():
        origin = "" if name in own else "  (server setting)"
        out.print(f"{name}={text}{origin}", markup=False)


def register(main: click.Group) -> None:
    main.add_command(company_group)
