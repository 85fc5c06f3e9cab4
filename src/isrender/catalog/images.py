"""Catalog assets as ImageService sources: what ``/is/image/{company}/{asset}`` and
``isrender assets render`` both use, so an asset URL and the CLI give the same bytes.

Looks the object up (name, ``folder/name`` or handle; §1.1 forbids ``..``), applies the
company's presets and server macro files, the asset's Modifier/PostModifier, and the default
image of spec §7.3 (mode 0) when the asset is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from isrender.catalog.service import Catalog
from isrender.errors import SourceNotFoundError
from isrender.language import Command, ModifierString, serialize
from isrender.macros import MacroRegistry
from isrender.service import ImageService, PreparedRequest, SourceRecord

__all__ = ["CatalogImages"]


@dataclass
class CatalogImages:
    catalog: Catalog
    service: ImageService
    default_image: str = ""  # attribute::DefaultImage

    def prepare(
        self, company_ref: str, asset_ref: str, modifiers: str, strict: bool = False
    ) -> PreparedRequest:
        """The request for ``company/asset?modifiers`` (asset by name, folder/name or handle);
        a missing asset gets the default image for req=img, SourceNotFoundError otherwise."""
        record = self._record(company_ref, asset_ref)
        macros = None
        if record.scope is not None:
            macros = self.catalog.macro_registry(int(record.scope.removeprefix("c|")))
        prepared = self.service.prepare(record, modifiers, strict=strict, macros=macros)
        if record.path is None and prepared.req.type == "img":
            return self._default_image(company_ref, prepared, macros, strict)
        if record.path is None and prepared.req.type != "exists":
            raise SourceNotFoundError(f"unknown asset {company_ref}/{asset_ref}")
        return prepared

    def _default_image(
        self, company_ref: str, missing: PreparedRequest, macros: MacroRegistry | None,
        strict: bool,
    ) -> PreparedRequest:  # fmt: skip
        """§7.3, DefaultImageMode=0: the default image replaces the whole request; only
        wid, hei, fmt and qlt of the original are kept. ``defaultImage=`` wins over the
        ``default_image`` setting; an empty ``defaultImage=`` disables it."""
        unknown = f"unknown asset {company_ref}/{missing.source.name}"
        globals_ = missing.request.globals
        name = globals_.value("defaultImage") if "defaultImage" in globals_ else None
        name = self.default_image if name is None else str(name)
        if not name:
            raise SourceNotFoundError(unknown)
        record = self._record(company_ref, name)
        if record.path is None:
            raise SourceNotFoundError(f"{unknown}, and its default image {name!r} is missing")
        kept = ModifierString(tuple(
            node for node in missing.flat.nodes
            if isinstance(node, Command) and node.key in ("wid", "hei", "fmt", "qlt")
        ))  # fmt: skip
        prepared = self.service.prepare(record, serialize(kept), strict=strict, macros=macros)
        return replace(prepared, substitute_for=missing.source.name)

    def _record(self, company_ref: str, asset_ref: str) -> SourceRecord:
        """The asset's catalog record; an unknown one has no path (req=exists answers 0)."""
        if ".." in asset_ref.split("/"):
            raise SourceNotFoundError("'..' is not allowed in an object path (§1.1)")
        company = self.catalog.company(company_ref)
        if company is None:
            raise SourceNotFoundError(f"unknown company {company_ref!r}")
        row = self.catalog.served_asset(company.id, asset_ref)
        if row is None:
            return SourceRecord(asset_ref, None, "", f"c|{company.id}")
        return SourceRecord(
            row.name,
            self.catalog.original_path(row),
            row.sha256 or "",
            f"c|{company.id}",
            row.modifier,
            row.post_modifier,
        )
