"""``isrender assets list|show|set-modifier|render``: the assets of a company, and rendering
one exactly as the image server serves it."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from isrender.catalog import asset_handle, export_class
from isrender.cli.common import existing_catalog, require_company_id
from isrender.cli.support import out, reports_errors
from isrender.errors import IsRenderError

__all__ = ["register"]


@click.group("assets")
def assets_group() -> None:
    """Assets of a company."""


@assets_group.command("list")
@click.option("--company", required=True)
@reports_errors
def assets_list(company: str) -> None:
    catalog = existing_catalog()
    table = Table("handle", "name", "type", "folder", "file", "size", "export", box=None)
    for asset in catalog.assets(require_company_id(catalog, company)):
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
    catalog = existing_catalog()
    asset = catalog.asset(require_company_id(catalog, company), handle)
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
    catalog = existing_catalog()
    asset = catalog.set_asset_modifiers(require_company_id(catalog, company), handle, modifier,
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

    images = CatalogImages(existing_catalog())
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


def register(main: click.Group) -> None:
    main.add_command(assets_group)
