"""``isrender catalog init|upgrade``: the catalog database in the data directory of the
settings (``isrender.toml`` or ``ISRENDER_DATA_DIR``)."""

from __future__ import annotations

import click

from isrender.catalog import Catalog
from isrender.cli.support import out, reports_errors
from isrender.config import Settings

__all__ = ["register"]


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


def register(main: click.Group) -> None:
    main.add_command(catalog_group)
