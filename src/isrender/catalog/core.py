"""The catalog's foundation: the database engine, sessions and the file store that every part
of ``Catalog`` (accounts, permissions, assets, uploads, presets) works through.

``CatalogCore`` takes an engine whose schema is already current: ``Catalog`` (service.py)
checks the schema before it builds one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from isrender.catalog.storage import FileStore
from isrender.catalog.throttle import LoginThrottle, ThrottleLimits
from isrender.catalog.versioning import track_catalog_writes
from isrender.config import Settings
from isrender.errors import CatalogError
from isrender.macros import MacroRegistry

__all__ = ["CatalogCore", "database_engine"]


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL lets readers work during a job's writes; NORMAL sync keeps per-entry commits cheap
    while staying crash-safe (a crash loses at most the last commits, never consistency)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def database_engine(url: str) -> Engine:
    """The engine for ``database_url``: ``postgresql://`` means psycopg 3 (the ``[postgres]``
    extra), not SQLAlchemy's default psycopg2; SQLite connections get their pragmas."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise CatalogError("database_url is not a URL like postgresql://user@host/db") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        engine = create_engine(parsed, pool_pre_ping=parsed.get_backend_name() == "postgresql")
    except ModuleNotFoundError as exc:  # the driver of the URL's database is not installed
        postgres = parsed.drivername.startswith("postgres")
        extra = " (pip install 'isrender[postgres]')" if postgres else ""
        raise CatalogError(f"database_url needs the {exc.name} module{extra}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class CatalogCore:
    """Sessions on one database, the originals' file store and the state the parts share."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # servers' cached lookups follow every write: at once in this process, by polling the
        # catalog version in the others
        self.change_listeners: list[Callable[[], None]] = []
        track_catalog_writes(self._sessions, self.change_listeners)
        self.files = FileStore(settings.originals_dir)
        self._base_macros: MacroRegistry | None = None
        self._base_stamp: tuple[int, ...] = ()
        self.logins = LoginThrottle(ThrottleLimits(
            settings.login_failures_per_account, settings.login_failures_per_address,
            settings.login_failure_window, settings.login_lockout_seconds,
        ))  # fmt: skip

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        """Close the pooled database connections (the catalog reconnects if used again)."""
        self.engine.dispose()
