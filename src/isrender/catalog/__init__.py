"""The asset catalog: companies, users, roles, folders, assets, presets (production-system §1)."""

from isrender.catalog.asset_types import ExportClass, detect_type, export_class
from isrender.catalog.handles import HandleKind, asset_handle, company_handle, parse_handle
from isrender.catalog.roles import Operation, Role, allowed
from isrender.catalog.service import Catalog, CatalogError, UploadEntry

__all__ = [
    "Catalog",
    "CatalogError",
    "ExportClass",
    "HandleKind",
    "Operation",
    "Role",
    "UploadEntry",
    "allowed",
    "asset_handle",
    "company_handle",
    "detect_type",
    "export_class",
    "parse_handle",
]
