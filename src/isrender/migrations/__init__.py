"""Schema migrations (Alembic), packaged with isrender: no ``alembic.ini`` at run time.

``prepare(engine)`` runs whenever a Catalog opens its database: an empty database gets the
schema at head (``create_all`` plus a stamp: fast), a database made before migrations existed
(tables but no ``alembic_version``) is stamped ``0001_baseline``, and the caller learns the
current and head revisions. ``upgrade(engine)`` (``isrender catalog upgrade``) runs the chain.
Both hold a lock while they look and act, so processes starting together agree.
How to add a revision: ``versions/README.md``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, MetaData, inspect

__all__ = ["BASELINE", "SchemaStatus", "alembic_config", "head_revision", "prepare",
           "target_metadata", "upgrade"]  # fmt: skip

BASELINE = "0001_baseline"
_HERE = Path(__file__).resolve().parent
_BASELINE_TABLES = {"companies", "users", "assets", "jobs"}  # any of them: a pre-0001 catalog
_LOCK_ID = 0x15EE_0001  # PostgreSQL advisory lock key: one schema check or upgrade at a time


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    current: str | None
    head: str
    known: bool  # False: the database is at a revision this isrender does not have (newer)

    @property
    def ready(self) -> bool:
        return self.current == self.head


def target_metadata() -> MetaData:
    """Every table of the catalog database (catalog and jobs share one metadata)."""
    import isrender.jobs.models  # noqa: F401  (registers the job tables)
    from isrender.catalog.models import Base

    return Base.metadata


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration, built here (no alembic.ini), running on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.set_main_option("file_template", "%%(rev)s")  # new revisions: versions/<rev id>.py
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(_HERE), version_locations=[str(_HERE / "versions")])


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None, "the migration chain has one head"
    return head


def _lock(connection: Connection) -> None:
    """Serialise schema work across processes until the transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_ID})")
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, before anyone looks


def _current(connection: Connection) -> str | None:
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is None and _BASELINE_TABLES & set(inspect(connection).get_table_names()):
        command.stamp(alembic_config(connection), BASELINE)  # tables made before migrations existed
        return BASELINE
    return revision


def _status(current: str | None) -> SchemaStatus:
    try:
        known = current is None or _scripts().get_revision(current) is not None
    except CommandError:
        known = False
    return SchemaStatus(current, head_revision(), known)


def prepare(engine: Engine) -> SchemaStatus:
    """Create the schema at head in an empty database; report where any other one stands."""
    with engine.connect() as connection:  # the usual case, and a read-only database: no lock
        if MigrationContext.configure(connection).get_current_revision() == head_revision():
            return _status(head_revision())
    with engine.begin() as connection:
        _lock(connection)
        current = _current(connection)
        if current is None:
            target_metadata().create_all(connection)
            command.stamp(alembic_config(connection), "head")
            current = head_revision()
    return _status(current)


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Upgrade to head; returns the revisions before and after."""
    with engine.begin() as connection:
        _lock(connection)
        before = _current(connection)
        status = _status(before)
        if not status.known:
            from isrender.catalog.service import CatalogError

            raise CatalogError(
                f"the catalog database is at schema revision {before}, which this isrender "
                f"does not know (its newest is {status.head}): upgrade isrender"
            )
        command.upgrade(alembic_config(connection), "head")
    return before, status.head
