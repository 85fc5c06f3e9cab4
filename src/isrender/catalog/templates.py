"""Compositing templates in the catalog: assets of type ``Template`` whose Modifier is the body.

IPS stores a template as a virtual asset (production-system.md §1.5.2: ``Template``, no file
of its own) and IS reads its body from ``catalog::Modifier`` (image-serving.md §3.5), so a
template is an Asset row with ``type="Template"``, no original, and the body in ``modifier``;
presets, by contrast, are ImageFormat rows. Templates belong to one company: ``template=`` in a
request of another company does not find them (§1.1 of the production spec: "not found").

A reference is what ``template=`` carries: ``frame``, ``folder/frame``, a handle ``a|12``, or
``cat/frame`` where ``cat`` is the company's name or root folder (IS ``rootId/objId``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy import select

from isrender.catalog.models import Asset, Company, Permission
from isrender.catalog.names import check_name
from isrender.catalog.service import Catalog
from isrender.errors import CatalogError, IpsFault, ModifierError
from isrender.macros.templates import Template, TemplateLookup, check_body

__all__ = [
    "TEMPLATE_TYPE",
    "delete_template",
    "find_template",
    "save_template",
    "template_lookup",
    "templates",
]

TEMPLATE_TYPE = "Template"  # the IPS asset type (asset_types.py: virtual, renderable)

T = TypeVar("T")
Cache = Callable[[Hashable, Callable[[], T]], T]  # CatalogLookups.cached


def save_template(catalog: Catalog, company_id: int, name: str, body: str,
                  folder: str = "") -> Asset:  # fmt: skip
    """Create the template ``name`` or replace its body. The body must parse, may use
    ``template=`` only inside nested requests (D-47), and its macros must exist (30001)."""
    check_name("asset", name)
    try:
        check_body(Template(name, body), catalog.macro_registry(company_id), f"c|{company_id}")
    except ModifierError as exc:
        raise IpsFault(30001, f"template {name!r}: {exc.message}") from None
    with catalog.session() as s:
        rows = s.scalars(select(Asset).where(Asset.company_id == company_id, Asset.name == name))
        existing = next(iter(rows), None)
        if existing is not None and existing.type != TEMPLATE_TYPE:
            raise CatalogError(f"an asset named {name!r} exists and is not a template "
                               f"(type {existing.type})")  # fmt: skip
        if existing is not None:
            existing.modifier = body
            existing.trash_state = "NotInTrash"
            return existing
    return catalog.add_asset(company_id, name, TEMPLATE_TYPE, folder, modifier=body)


def templates(catalog: Catalog, company_id: int) -> list[Asset]:
    """The company's templates (not in the trash), by id."""
    with catalog.session() as s:
        query = select(Asset).where(
            Asset.company_id == company_id,
            Asset.type == TEMPLATE_TYPE,
            Asset.trash_state == "NotInTrash",
        )
        return list(s.scalars(query.order_by(Asset.id)).all())


def find_template(catalog: Catalog, company_id: int, ref: str) -> Asset | None:
    """The company's template ``ref`` names, or None (absent, in the trash, not a template)."""
    asset = catalog.served_asset(company_id, ref)
    if asset is None and "/" in ref:
        root, _, rest = ref.partition("/")
        if root in _root_ids(catalog, company_id):
            asset = catalog.served_asset(company_id, rest)
    return asset if asset is not None and asset.type == TEMPLATE_TYPE else None


def delete_template(catalog: Catalog, company_id: int, ref: str) -> Asset:
    """Remove a template (it has no file); CatalogError when ``ref`` names none."""
    found = find_template(catalog, company_id, ref)
    if found is None:
        raise CatalogError(f"no template {ref!r}")
    with catalog.session() as s:
        if s.scalar(select(Asset.id).where(Asset.owner_id == found.id)) is not None:
            raise CatalogError(f"template {found.name!r} has derived assets; delete them first")
        for permission in s.scalars(select(Permission).where(Permission.asset_id == found.id)):
            s.delete(permission)
        row = s.get(Asset, found.id)
        if row is not None:
            s.delete(row)
    return found


def template_lookup(catalog: Catalog, company_id: int, cache: Cache[object] | None = None
                    ) -> TemplateLookup:  # fmt: skip
    """What ImageService.prepare needs to expand ``template=`` for this company; with
    ``cache`` (the image server's CatalogLookups.cached) each reference is read once until
    the catalog changes."""

    def load(ref: str) -> Template | None:
        asset = find_template(catalog, company_id, ref)
        return None if asset is None else Template(asset.name, asset.modifier)

    def lookup(ref: str) -> Template | None:
        if cache is None:
            return load(ref)
        found = cache(("template", company_id, ref), lambda: load(ref))
        return found if isinstance(found, Template) else None

    return lookup


def _root_ids(catalog: Catalog, company_id: int) -> set[str]:
    """What may stand before ``/`` for this company's catalog: its name and root folder."""
    with catalog.session() as s:
        company = s.get(Company, company_id)
        if company is None:
            return set()
        return {company.name, company.root_path.strip("/")}
