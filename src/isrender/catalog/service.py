"""Catalog: companies, users, roles, folders, assets and presets over one database and one
file store (production-system.md §1). Every lookup is scoped to a company: an object of another
company is "not found", indistinguishable from an absent one (§1.1).

``Catalog`` is assembled from one part per responsibility, all on ``CatalogCore`` (core.py:
engine, sessions, file store): ``Accounts`` (companies, users, authentication), ``Permissions``
(groups, Read permissions), ``Assets`` (folders and asset records), ``Uploads`` and ``Presets``
(ImageFormat as macros). This module opens the database and checks its schema first; it also
re-exports the names other packages import from ``isrender.catalog.service``.
"""

from __future__ import annotations

from sqlalchemy import Engine

from isrender.catalog.accounts import OVERWRITE_MODES, Accounts
from isrender.catalog.assets import Assets
from isrender.catalog.core import database_engine
from isrender.catalog.passwords import hash_password, verify_password
from isrender.catalog.permissions import Permissions
from isrender.catalog.presets import Presets
from isrender.catalog.upload import UploadEntry, Uploads, free_name
from isrender.config import Settings
from isrender.errors import CatalogError

__all__ = [
    "OVERWRITE_MODES",
    "Catalog",
    "CatalogError",
    "UploadEntry",
    "database_engine",
    "free_name",
    "hash_password",
    "verify_password",
]


def _require_current_schema(engine: Engine) -> None:
    """An empty database gets the schema at head; one behind head must be upgraded first."""
    from isrender.migrations import prepare  # alembic loads only when a catalog opens

    status = prepare(engine)
    if not status.known:
        raise CatalogError(
            f"the catalog database is at schema revision {status.current}, newer than this "
            f"isrender knows ({status.head}): upgrade isrender"
        )
    if not status.ready:
        raise CatalogError(
            f"the catalog database is at schema revision {status.current}; this isrender needs "
            f"{status.head}: run `isrender catalog upgrade` (back up the database first)"
        )


class Catalog(Accounts, Permissions, Assets, Uploads, Presets):
    """The catalog in ``settings.data_dir`` (or ``settings.database_url``), its schema current."""

    def __init__(self, settings: Settings) -> None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = database_engine(settings.database)
        _require_current_schema(engine)
        super().__init__(settings, engine)
