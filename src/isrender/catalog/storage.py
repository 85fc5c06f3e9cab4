"""Stored originals: content-addressed files under the data directory, written atomically.

A file is kept as ``originals/<sha256[:2]>/<sha256>``; identical uploads share one file and an
export of ``fmt=orig`` reads exactly the bytes that were uploaded.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FileStore", "StoredFile"]


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    size: int


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> StoredFile:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{digest}.{os.getpid()}.part")
            try:
                temporary.write_bytes(data)
                os.replace(temporary, target)  # never a half-written original
            finally:
                temporary.unlink(missing_ok=True)
        return StoredFile(digest, len(data))

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()
