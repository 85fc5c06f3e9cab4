"""Catalog lookups cached per server process, trusted until the catalog version moves.

Every write to companies, folders, assets, presets or attributes bumps ``catalog_version`` in
its own transaction (catalog/versioning.py), from any process: the CLI, a job worker, another
server. A process reads that one row at most once per ``catalog_poll_interval`` (0.5 s) and
drops everything it cached when it moved (or when a server-wide macro file or the font map
changed). So a change is served by every request that starts ``catalog_poll_interval`` after
its commit (plus the one tiny query's time); with 0, every lookup checks.

A load that raced with a change is not kept: entries are stored only if no change was seen
while they loaded. The cache is an LRU of ``max_entries``, so unknown names cannot grow it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from isrender.catalog.service import Catalog
from isrender.catalog.versioning import read_version

__all__ = ["CatalogLookups"]

T = TypeVar("T")
_ABSENT = object()


class CatalogLookups:
    def __init__(self, catalog: Catalog, poll_interval: float, max_entries: int = 4096) -> None:
        self.catalog = catalog
        self.poll_interval = max(0.0, poll_interval)
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self._stamp: tuple[int, ...] | None = None  # catalog version + macro file times
        self._generation = 0  # bumped whenever the entries are dropped
        self._next_check = 0.0
        catalog.change_listeners.append(self.expire)

    def cached(self, key: Hashable, load: Callable[[], T]) -> T:
        """The value under ``key``, loaded (and kept) when absent; ``load`` may return None."""
        self._check_catalog()
        with self._lock:
            value = self._entries.get(key, _ABSENT)
            if value is not _ABSENT:
                self._entries.move_to_end(key)
                return value  # type: ignore[return-value]
            generation = self._generation
        loaded = load()
        with self._lock:
            if generation == self._generation:
                self._entries[key] = loaded
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return loaded

    def peek(self, key: Hashable) -> object | None:
        """The value under ``key`` if it is in memory and still trusted, else None; never
        touches the database (the event loop may call it)."""
        with self._lock:
            if time.monotonic() >= self._next_check:
                return None
            value = self._entries.get(key, _ABSENT)
        return None if value is _ABSENT else value

    def expire(self) -> None:
        """This process wrote to the catalog: check the version at the next lookup."""
        with self._lock:
            self._next_check = 0.0

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def _check_catalog(self) -> None:
        """At most once per poll interval: one small query; a change drops every entry."""
        now = time.monotonic()
        with self._lock:
            if now < self._next_check:
                return
            self._next_check = now + self.poll_interval
        stamp = self._read_stamp()
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                self._entries.clear()
                self._generation += 1

    def _read_stamp(self) -> tuple[int, ...]:
        with self.catalog.engine.connect() as connection:
            version = read_version(connection)
        settings = self.catalog.settings
        files = [*settings.macro_files, *([settings.font_map] if settings.font_map else [])]
        return (version, *(p.stat().st_mtime_ns if p.exists() else 0 for p in files))
