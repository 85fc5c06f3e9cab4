"""The catalog version: one counter that every write to what the image server looks up bumps,
in the same transaction, so a server process can keep its lookups in memory and trust them
until the counter moves (catalog/lookups.py).

The bump is a session event, not a call in each write method: a write added later cannot
forget it. It runs as the transaction's last statement (``before_commit``), so the counter
row stays locked for the commit only, and as an upsert, so a database created from the models
(no row yet) and one upgraded by a migration behave alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker

from isrender.catalog.models import Asset, Company, CompanyAttribute, Folder, ImageFormat

__all__ = ["read_version", "track_catalog_writes"]

# What /is/image lookups read: a write to any of these must reach every server's cache.
SERVED = (Company, CompanyAttribute, Folder, Asset, ImageFormat)
_PENDING = "isrender_catalog_changed"
_BUMPED = "isrender_catalog_bumped"
_BUMP = text(
    "INSERT INTO catalog_version (id, version) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = catalog_version.version + 1"
)


def track_catalog_writes(
    sessions: sessionmaker[Session], listeners: list[Callable[[], None]] | None = None
) -> None:
    """Bump the catalog version in every transaction of ``sessions`` that writes SERVED rows;
    after such a commit, call ``listeners`` (this process's caches need not wait for a poll)."""
    from sqlalchemy import event

    def announce(session: Session) -> None:
        if session.info.pop(_BUMPED, False):
            for listener in listeners or ():
                listener()

    event.listen(sessions, "after_flush", _note_served_writes)
    event.listen(sessions, "before_commit", _bump_if_written)
    event.listen(sessions, "after_commit", announce)
    event.listen(sessions, "after_rollback", _forget)


def _note_served_writes(session: Session, _context: Any) -> None:
    # after_flush still sees what the flush wrote in new/dirty/deleted
    written = (*session.new, *session.deleted, *session.dirty)
    if any(isinstance(row, SERVED) for row in written):
        session.info[_PENDING] = True


def _bump_if_written(session: Session) -> None:
    session.flush()  # commit flushes only after this hook: let after_flush see every write
    if session.info.pop(_PENDING, False):
        session.connection().execute(_BUMP)
        session.info[_BUMPED] = True


def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_BUMPED, None)


def read_version(connection: Connection) -> int:
    """The current catalog version (0 before the first write)."""
    value = connection.execute(text("SELECT version FROM catalog_version WHERE id = 1")).scalar()
    return int(value or 0)
