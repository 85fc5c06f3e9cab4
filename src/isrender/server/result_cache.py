"""The result cache: rendered image replies on disk, keyed by their ETag, bounded (LRU).

- **Key.** The ETag of a reply is made from the source's version (its content hash and its
  company's render attributes: catalog/images.py) and the bound effective request (presets,
  Modifier and PostModifier expanded). So a re-upload, a preset, Modifier or attribute change
  gives new keys, and the old entries simply age out. The isrender version is in the key too.
- **Files.** ``<dir>/<2 hex>/<64 hex>``: the media type, a newline, the bytes. Written to a
  temporary name and renamed into place, so a reader (in any process sharing the directory)
  sees a whole entry or none; a file that vanishes while read is a miss.
- **Bound.** ``result_cache_mb``. Each process counts what it writes on top of the size it
  last measured; past the bound it scans the directory and deletes the least recently used
  files (a hit touches its file's mtime, at most once a second) down to 90 %. Several
  processes evict concurrently without harm (a file already gone is skipped). Between
  scans, with N processes writing, the directory can exceed the bound by at most N times the
  10 % headroom. A reply larger than 1/8 of the bound is not kept.
- **Requests.** ``cache=...,off`` (or ``cache=off``) neither reads nor writes the cache;
  ``update`` renders again and replaces the entry (spec §cache).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from isrender import __version__
from isrender.config import Settings
from isrender.service import PreparedRequest

__all__ = ["CachedReply", "ResultCache"]

log = logging.getLogger("isrender.server.result_cache")
EVICT_TO = 0.9  # an eviction leaves the cache at this fraction of its bound
RESCAN_SECONDS = 30.0  # re-measure at least this often while writing (other processes write too)
# a hit marks its entry used when the mark is older: the LRU's grain. A URL hit a thousand
# times a second is touched once; eviction order stays true to the second, even when the
# cache turns over within a minute.
TOUCH_SECONDS = 1.0


@dataclass(frozen=True)
class CachedReply:
    data: bytes
    media_type: str


class ResultCache:
    def __init__(
        self, directory: Path, max_bytes: int, on_lookup: Callable[[str], None] | None = None
    ) -> None:
        self.directory = directory
        self._root = os.fspath(directory)  # paths as strings: pathlib cost more than the read
        self.max_bytes = max_bytes
        self.on_lookup = on_lookup  # called with "hit" or "miss" (the metrics counter)
        self._lock = threading.Lock()
        self._evicting = threading.Lock()
        self._size = self._measure()
        self._last_scan = time.monotonic()

    @classmethod
    def from_settings(
        cls, settings: Settings, on_lookup: Callable[[str], None] | None = None
    ) -> ResultCache | None:
        """The cache the settings ask for, or None when ``result_cache_mb`` is 0."""
        if settings.result_cache_mb <= 0:
            return None
        directory = Path(settings.result_cache_dir or settings.data_dir / "cache")
        return cls(directory, settings.result_cache_mb * 1024 * 1024, on_lookup)

    # ---- requests ---------------------------------------------------------------------------

    @staticmethod
    def policy(prepared: PreparedRequest) -> str:
        """The server part of ``cache=``: on (default), off or update (validate reads as on:
        entries never go stale, their keys change instead)."""
        cache = prepared.request.globals.value("cache")
        server = getattr(cache, "server", None) or getattr(cache, "client", None) or "on"
        return server if server in ("off", "update") else "on"

    @staticmethod
    def key(etag: str) -> str:
        return hashlib.sha256(f"isrender {__version__}\n{etag}".encode()).hexdigest()

    def get(self, key: str, max_size: int | None = None) -> CachedReply | None:
        """The entry, or None; a hit marks the entry as recently used. With ``max_size``
        (the event loop's quick look) a larger entry is left for a pool thread to read, and
        an absent one is not counted as a miss (the thread's lookup counts it)."""
        path = self._path(key)
        try:
            with open(path, "rb") as file:
                stat = os.fstat(file.fileno())
                if max_size is not None and stat.st_size > max_size:
                    return None
                blob = file.read()
            if time.time() - stat.st_mtime > TOUCH_SECONDS:
                os.utime(path)  # LRU by mtime: a hit is a use
        except OSError:  # absent, or evicted by another process meanwhile
            if max_size is None:
                self._count("miss")
            return None
        media_type, newline, data = blob.partition(b"\n")
        if not newline:
            self._count("miss")
            return None
        self._count("hit")
        return CachedReply(data, media_type.decode("ascii", "replace"))

    def put(self, key: str, data: bytes, media_type: str) -> None:
        """Store an entry (atomically); a full disk or any I/O error only skips caching."""
        if len(data) > self.max_bytes // 8:
            return
        path = self._path(key)
        folder = os.path.dirname(path)
        try:
            os.makedirs(folder, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=folder, prefix=".part-")
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(media_type.encode("ascii", "replace") + b"\n" + data)
                os.replace(temp, path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
                raise
        except OSError as exc:
            log.warning("result cache: cannot store an entry: %s", exc.strerror)
            return
        with self._lock:
            self._size += len(data) + len(media_type) + 1
            due = self._size > self.max_bytes or time.monotonic() - self._last_scan > RESCAN_SECONDS
        if due:
            self._evict()

    # ---- size and eviction ------------------------------------------------------------------

    def _path(self, key: str) -> str:
        return f"{self._root}/{key[:2]}/{key}"

    def _count(self, result: str) -> None:
        if self.on_lookup is not None:
            self.on_lookup(result)

    def _entries(self) -> list[tuple[float, int, Path]]:
        """Every entry as (mtime, size, path); files that vanish meanwhile are skipped."""
        found: list[tuple[float, int, Path]] = []
        try:
            shards = [d for d in os.scandir(self.directory) if d.is_dir()]
        except OSError:
            return found
        for shard in shards:
            try:
                files = list(os.scandir(shard.path))
            except OSError:
                continue
            for entry in files:
                try:
                    stat = entry.stat()
                except OSError:
                    continue
                found.append((stat.st_mtime, stat.st_size, Path(entry.path)))
        return found

    def _measure(self) -> int:
        return sum(size for _mtime, size, _path in self._entries())

    def _evict(self) -> None:
        """Down to EVICT_TO of the bound, least recently used first; one thread at a time."""
        if not self._evicting.acquire(blocking=False):
            return
        try:
            entries = sorted(self._entries())
            total = sum(size for _mtime, size, _path in entries)
            for _mtime, size, path in entries:
                if total <= self.max_bytes * EVICT_TO:
                    break
                path.unlink(missing_ok=True)
                total -= size
            with self._lock:
                self._size, self._last_scan = total, time.monotonic()
        finally:
            self._evicting.release()
