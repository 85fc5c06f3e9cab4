"""``isrender templates add|list|show|delete``: a company's compositing templates, the catalog
records ``template=`` names (catalog/templates.py; expansion: macros/templates.py)."""

from __future__ import annotations

import click
from rich.table import Column, Table

from isrender.catalog import Catalog, asset_handle
from isrender.catalog.templates import delete_template, find_template, save_template, templates
from isrender.cli.support import catalog_settings, out, reports_errors
from isrender.errors import CatalogError

__all__ = ["register"]

_COMPANY = click.option("--company", required=True, help="Company name or handle.")


def _catalog_and_company(company: str) -> tuple[Catalog, int]:
    catalog = Catalog(catalog_settings())
    return catalog, catalog.require_company(company).id


@click.group("templates")
def templates_group() -> None:
    """Compositing templates (assets of type Template), used as template=NAME."""


@templates_group.command("add")
@click.argument("name")
@click.argument("body")
@_COMPANY
@click.option("--folder", default="", help="Folder of a new template (default: the root).")
@click.option(
    "--allow-invalid",
    is_flag=True,
    help="Store a body whose values do not bind (wid=abc); refused otherwise.",
)
@reports_errors
def templates_add(name: str, body: str, company: str, folder: str, allow_invalid: bool) -> None:
    """Create template NAME, or replace its BODY (a layered modifier string that places the
    request's object with src=$object$). The body is checked as a strict request would read
    it, through the company's presets, so a typo never replaces a working template."""
    from isrender.macros.templates import Template, check_body
    from isrender.request import bind

    catalog, company_id = _catalog_and_company(company)
    registry = catalog.macro_registry(company_id)
    expanded = check_body(Template(name, body), registry, f"c|{company_id}")
    if not allow_invalid:
        bind(expanded, strict=True, object="object")
    asset = save_template(catalog, company_id, name, body, folder)
    out.print(f"{asset_handle(asset.id)}  {name} = {body}", markup=False)


@templates_group.command("list")
@_COMPANY
@reports_errors
def templates_list(company: str) -> None:
    """The company's templates: handle, name, folder and body."""
    catalog, company_id = _catalog_and_company(company)
    table = Table("handle", "name", "folder", Column("body", overflow="fold"), box=None)
    for asset in templates(catalog, company_id):
        table.add_row(asset_handle(asset.id), asset.name, asset.folder.path, asset.modifier)
    out.print(table)


@templates_group.command("show")
@click.argument("name")
@_COMPANY
@click.option("--object", "obj", default="object", show_default=True,
              help="The request path's object, as $object$ in the bound layers.")  # fmt: skip
@reports_errors
def templates_show(name: str, company: str, obj: str) -> None:
    """A template's body, its macros expanded, and its layers as a request for OBJECT with
    no other commands binds them."""
    from isrender.language import serialize
    from isrender.macros.templates import Template, check_body
    from isrender.request import bind
    from isrender.request.bind import iter_commands

    catalog, company_id = _catalog_and_company(company)
    asset = find_template(catalog, company_id, name)
    if asset is None:
        raise CatalogError(f"no template {name!r} in {company}")
    registry = catalog.macro_registry(company_id)
    expanded = check_body(Template(asset.name, asset.modifier), registry, f"c|{company_id}")
    out.print(f"{asset_handle(asset.id)}  {asset.name}  folder {asset.folder.path or '/'}",
              markup=False)  # fmt: skip
    out.print(f"body:     {asset.modifier}", markup=False)
    out.print(f"expanded: {serialize(expanded)}", markup=False)
    request = bind(expanded, strict=False, object=obj)
    for scope, bound in iter_commands(request):
        out.print(f"  {scope:<6} {bound.name}={bound.text}", markup=False)
    defaults = ", ".join(f"${k}={v}" for k, v in request.variables if k != "object")
    out.print(f"variables: {defaults or '(none defined)'}", markup=False)


@templates_group.command("delete")
@click.argument("name")
@_COMPANY
@reports_errors
def templates_delete(name: str, company: str) -> None:
    """Delete template NAME (requests naming it then fail with 'unknown template')."""
    catalog, company_id = _catalog_and_company(company)
    asset = delete_template(catalog, company_id, name)
    out.print(f"deleted {asset_handle(asset.id)}  {asset.name}", markup=False)


def register(main: click.Group) -> None:
    main.add_command(templates_group)
