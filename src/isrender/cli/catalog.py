"""Catalog commands: ``catalog init``, ``company add``, ``user add``, ``upload``,
``assets list|show``, ``presets add|list``. They use the data directory of the settings
(``isrender.toml`` or ``ISRENDER_DATA_DIR``)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.table import Table

from isrender.catalog import Catalog, Role, asset_handle, company_handle, export_class
from isrender.catalog.handles import format_handle, user_handle
from isrender.catalog.names import check_folder_path
from isrender.catalog.service import OVERWRITE_MODES
from isrender.cli.support import catalog_settings, out, reports_errors
from isrender.config import Settings
from isrender.errors import IsRenderError, ModifierError, PasswordRequired

__all__ = ["register"]

F = TypeVar("F", bound=Callable[..., Any])
ROLES = [r.value for r in Role]


def password_for(email: str, password: str | None, *, confirm: bool = False) -> str:
    """``password``, else a prompt on the terminal; with no terminal, PasswordRequired (exit 2)
    instead of click's bare "Abort"."""
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise PasswordRequired(
            f"no password for {email} and no terminal to ask on: "
            "pass --password or set ISRENDER_PASSWORD"
        )
    prompted: str = click.prompt(f"password for {email}", hide_input=True,
                                 confirmation_prompt=confirm)  # fmt: skip
    return prompted


def _catalog() -> Catalog:
    """The existing catalog; none: CatalogMissing (only ``catalog init`` creates one)."""
    return Catalog(catalog_settings())


def _company_id(catalog: Catalog, ref: str) -> int:
    return catalog.require_company(ref).id


@click.group("catalog")
def catalog_group() -> None:
    """The catalog in the data directory."""


@catalog_group.command("init")
@reports_errors
def init_cmd() -> None:
    """Create the data directory and the catalog database (safe to run again)."""
    from isrender.migrations import head_revision

    catalog = Catalog(Settings.load())
    out.print(f"catalog ready in {catalog.settings.data_dir} (schema {head_revision()})",
              markup=False)  # fmt: skip


@catalog_group.command("upgrade")
@reports_errors
def upgrade_cmd() -> None:
    """Migrate the catalog database to this isrender's schema (back it up first)."""
    from isrender.catalog.service import database_engine
    from isrender.migrations import upgrade

    settings = Settings.load()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = database_engine(settings.database)
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    if before == after:
        out.print(f"catalog schema already at {after}", markup=False)
    else:
        out.print(f"catalog schema upgraded from {before or 'empty'} to {after}", markup=False)


@click.group("company")
def company_group() -> None:
    """Companies (tenants)."""


@company_group.command("add")
@click.argument("name")
@click.option("--root-path", default=None, help="Folder tree root (default: NAME/).")
@reports_errors
def company_add(name: str, root_path: str | None) -> None:
    company = _catalog().add_company(name, root_path)
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
    catalog = _catalog()
    company_id = _company_id(catalog, company)
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
    catalog = _catalog()
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


@click.group("user")
def user_group() -> None:
    """Users and their company memberships."""


@user_group.command("add")
@click.argument("email")
@click.option("--password", envvar="ISRENDER_PASSWORD", default=None,
              help="The new user's password (or ISRENDER_PASSWORD; else a prompt).")  # fmt: skip
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--role", type=click.Choice(ROLES), default=Role.IPS_USER.value, show_default=True)
@click.option("--company", "companies", multiple=True, help="Company name or handle; repeat.")
@reports_errors
def user_add(email: str, password: str | None, password_stdin: bool, role: str,
             companies: tuple[str, ...]) -> None:  # fmt: skip
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise PasswordRequired("--password-stdin: standard input holds no password")
    password = password_for(email, password, confirm=True)
    catalog = _catalog()
    memberships = tuple((_company_id(catalog, c), None) for c in companies)
    user = catalog.add_user(email, password, Role(role), memberships)
    out.print(f"{user_handle(user.id, user.email)}  {role}", markup=False)


@click.command("upload")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--company", required=True, help="Company name or handle.")
@click.option("--user", "email", required=True, help="Upload as this user (e-mail).")
@click.option("--password", envvar="ISRENDER_PASSWORD", default=None,
              help="The user's password (or ISRENDER_PASSWORD; else a prompt).")  # fmt: skip
@click.option("--folder", default="", help="Destination folder, relative to the company root.")
@click.option("--no-overwrite", is_flag=True, help="Skip files whose asset name exists.")
@reports_errors
def upload_cmd(paths: tuple[Path, ...], company: str, email: str, password: str | None,
               folder: str, no_overwrite: bool) -> None:  # fmt: skip
    """Upload files and directories (sub-folders kept) as assets, in one upload job.

    Files land in --folder (photos/shoe.jpg -> FOLDER/shoe); a directory keeps its own name
    beneath it, as cp -r does (photos/ -> FOLDER/photos/shoe): pass photos/*.jpg for the
    files alone."""
    from isrender.jobs import JobService, job_handle

    check_folder_path(folder)
    service = JobService(_catalog())
    caller = service.catalog.authenticate(email, password_for(email, password))
    job = service.upload(caller, company, list(paths), folder, overwrite=not no_overwrite)
    table = Table("result", "asset", "message", box=None)
    for entry in service.details(job.id):
        table.add_row(entry.log_type, entry.asset_handle or "", entry.message)
    out.print(table)
    out.print(f"{job_handle(job)}: {job.total} files, {job.errors} errors", markup=False)
    if job.errors:
        raise SystemExit(2)


@click.group("assets")
def assets_group() -> None:
    """Assets of a company."""


@assets_group.command("list")
@click.option("--company", required=True)
@reports_errors
def assets_list(company: str) -> None:
    catalog = _catalog()
    table = Table("handle", "name", "type", "folder", "file", "size", "export", box=None)
    for asset in catalog.assets(_company_id(catalog, company)):
        size = f"{asset.width}x{asset.height}" if asset.width else ""
        kind = export_class(asset.type, asset.sub_type).name
        row = (asset.name, asset.type, asset.folder.path, asset.file_name or "", size, kind)
        table.add_row(asset_handle(asset.id), *row)
    out.print(table)


@assets_group.command("show")
@click.argument("handle")
@click.option("--company", required=True)
@reports_errors
def assets_show(handle: str, company: str) -> None:
    catalog = _catalog()
    asset = catalog.asset(_company_id(catalog, company), handle)
    if asset is None:
        raise IsRenderError(f"asset {handle!r} not found")
    rows = {
        "handle": asset_handle(asset.id), "name": asset.name, "type": asset.type,
        "subType": asset.sub_type or "", "folder": asset.folder.path,
        "fileName": asset.file_name or "", "trashState": asset.trash_state,
        "size": f"{asset.width}x{asset.height}" if asset.width else "",
        "bytes": str(asset.file_size or ""), "sha256": asset.sha256 or "",
        "Modifier": asset.modifier, "PostModifier": asset.post_modifier,
        "export class": export_class(asset.type, asset.sub_type).name,
    }  # fmt: skip
    for key, value in rows.items():
        out.print(f"{key:>13}: {value}", markup=False)


@assets_group.command("set-modifier")
@click.argument("handle")
@click.option("--company", required=True)
@click.option("--modifier", default=None, help="Catalog Modifier: before the request.")
@click.option("--post-modifier", default=None, help="Catalog PostModifier: after the request.")
@reports_errors
def assets_set_modifier(
    handle: str, company: str, modifier: str | None, post_modifier: str | None
) -> None:
    """Set an asset's Modifier / PostModifier (applied around every conversion of it)."""
    catalog = _catalog()
    asset = catalog.set_asset_modifiers(_company_id(catalog, company), handle, modifier,
                                        post_modifier)  # fmt: skip
    out.print(f"{asset_handle(asset.id)}  Modifier {asset.modifier!r}  "
              f"PostModifier {asset.post_modifier!r}", markup=False)  # fmt: skip


@assets_group.command("render")
@click.argument("asset")
@click.argument("modifiers", default="")
@click.option("--company", required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="File to write (the reply of req=props/resolve/... is printed instead).",
)
@click.option("--strict/--lenient", default=False, show_default=True,
              help="Refuse unknown commands, or ignore them as the image server does.")  # fmt: skip
@reports_errors
def assets_render(asset: str, modifiers: str, company: str, output: Path, strict: bool) -> None:
    """Render a catalog ASSET (name, folder/name or handle) exactly as
    /is/image/COMPANY/ASSET?MODIFIERS serves it: presets, Modifier/PostModifier, default image."""
    from isrender.catalog.images import CatalogImages

    images = CatalogImages(Catalog(catalog_settings()))
    prepared = images.prepare(company, asset, modifiers, strict=strict)
    for warning in prepared.ignored:
        out.print(f"ignored: {warning}", markup=False)
    service = images.service_for(prepared)  # the company's attributes (DefaultPix, ...)
    if prepared.req.type != "img":
        out.print(service.reply(prepared).body, markup=False)
        return
    result = service.render(prepared)
    output.write_bytes(result.data)
    out.print(f"wrote {output}: {result.width}x{result.height} {result.media_type}, "
              f"{len(result.data):,} bytes", markup=False)  # fmt: skip


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
    catalog = _catalog()
    company_id = _company_id(catalog, company)
    if not allow_invalid:
        from isrender.language import parse
        from isrender.macros import expand
        from isrender.request import bind

        registry = catalog.macro_registry(company_id)
        try:
            flat = expand(parse(definition), registry, catalog=f"c|{company_id}")
        except ModifierError:
            flat = None  # save_preset refuses what does not parse or expand (30001)
        if flat is not None:
            bind(flat, strict=True)
    preset = catalog.save_preset(company_id, name, definition)
    out.print(f"{format_handle(preset.company_id, preset.id)}  ${name}$ = {definition}",
              markup=False)  # fmt: skip


@presets_group.command("list")
@click.option("--company", required=True)
@reports_errors
def presets_list(company: str) -> None:
    catalog = _catalog()
    for preset in catalog.presets(_company_id(catalog, company)):
        out.print(f"${preset.name}$  {preset.url_modifier}", markup=False)


def register(main: click.Group) -> None:
    for command in (catalog_group, company_group, user_group, upload_cmd, assets_group,
                    presets_group):  # fmt: skip
        main.add_command(command)
