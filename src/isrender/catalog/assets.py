"""Asset records of a company: creation without a file, look-up by handle, name or folder
path, the catalog Modifier / PostModifier, and the stored original."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from isrender.catalog.core import CatalogCore
from isrender.catalog.folders import folder_at, normal_folder
from isrender.catalog.handles import HandleKind, parse_handle
from isrender.catalog.models import Asset
from isrender.catalog.names import check_name, storable
from isrender.errors import CatalogError, IpsFault, ModifierError
from isrender.language import parse

__all__ = ["Assets"]


class Assets(CatalogCore):
    """The folders and assets part of ``Catalog``."""

    def add_asset(
        self, company_id: int, name: str, asset_type: str, folder: str = "",
        sub_type: str | None = None, **fields: object,
    ) -> Asset:  # fmt: skip
        """An asset record without a file (sets, views) or with ``fields`` set directly."""
        check_name("asset", name)
        with self.session() as s:
            target = folder_at(s, company_id, folder, create=True)
            asset = Asset(company_id=company_id, folder_id=target.id, name=name,
                          type=asset_type, sub_type=sub_type, **fields)  # fmt: skip
            s.add(asset)
        return asset

    def asset(self, company_id: int, ref: str) -> Asset | None:
        """An asset of this company by handle; anything else (malformed, absent, another
        company's) is None."""
        handle = parse_handle(ref, HandleKind.ASSET)
        if handle is None:
            return None
        with self.session() as s:
            asset = s.get(Asset, handle.id)
            return asset if asset is not None and asset.company_id == company_id else None

    def find_asset(self, company_id: int, ref: str) -> Asset | None:
        """An asset of this company by handle, ``name`` or ``folder/path/name``."""
        asset = self.asset(company_id, ref)
        if asset is None and storable(ref):
            folder, _, name = ref.rpartition("/")
            with self.session() as s:
                query = select(Asset).where(Asset.company_id == company_id, Asset.name == name)
                rows = s.scalars(query.order_by(Asset.id)).all()
            wanted = normal_folder(folder) if folder else None
            asset = next((a for a in rows if wanted is None or a.folder.path == wanted), None)
        return asset

    def served_asset(self, company_id: int, ref: str) -> Asset | None:
        """The asset an image URL names (§1.1 object); assets in the trash are not served."""
        asset = self.find_asset(company_id, ref)
        return asset if asset is not None and asset.trash_state == "NotInTrash" else None

    def assets(self, company_id: int) -> list[Asset]:
        with self.session() as s:
            query = select(Asset).where(Asset.company_id == company_id).order_by(Asset.id)
            return list(s.scalars(query).all())

    def original_path(self, asset: Asset) -> Path | None:
        """The stored original, or None when the asset has none (or it went missing)."""
        if not asset.sha256:
            return None
        path = self.files.path(asset.sha256)
        return path if path.is_file() else None

    def set_asset_modifiers(
        self, company_id: int, ref: str, modifier: str | None, post_modifier: str | None
    ) -> Asset:
        """The asset's catalog Modifier / PostModifier (checked: they must parse)."""
        for text in (modifier, post_modifier):
            if text:
                try:
                    parse(text)
                except ModifierError as exc:
                    raise IpsFault(30001, f"modifier: {exc.message}") from None
        asset = self.find_asset(company_id, ref)
        if asset is None:
            raise CatalogError(f"asset {ref!r} not found")
        with self.session() as s:
            row = s.get(Asset, asset.id)
            assert row is not None
            if modifier is not None:
                row.modifier = modifier
            if post_modifier is not None:
                row.post_modifier = post_modifier
        return self.asset(company_id, ref)  # type: ignore[return-value]
