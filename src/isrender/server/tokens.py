"""Signed, expiring tokens: bearer tokens (``POST /tokens``) and download links (§5.3).

A token is ``<base64url subject>.<expiry>.<HMAC-SHA256>``: nothing is stored, and any server
process with the same key accepts it. The key is the ``secret_key`` setting, or when that is
empty ``data_dir/secret_key``, generated once (``shared_secret_key``): every process and machine
sharing the data directory signs with the same key, and tokens survive restarts.
(``url_signing_key`` is another key: the one users sign image URLs with.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

from isrender.config import ConfigError
from isrender.errors import ExpiredToken, InvalidToken

__all__ = ["ExpiredToken", "InvalidToken", "Signer", "shared_secret_key"]

SECRET_KEY_FILE = "secret_key"


class Signer:
    def __init__(self, key: str = "") -> None:
        self._key = (key or secrets.token_hex(32)).encode()

    def issue(self, subject: str, lifetime: float) -> tuple[str, datetime]:
        expires = int(time.time() + lifetime)
        encoded = base64.urlsafe_b64encode(subject.encode()).decode().rstrip("=")
        body = f"{encoded}.{expires}"
        return f"{body}.{self._mac(body)}", datetime.fromtimestamp(expires, UTC)

    def open(self, token: str) -> str:
        """The subject of a genuine token; InvalidToken if forged, ExpiredToken if late."""
        body, _, mac = token.rpartition(".")
        encoded, _, expires = body.partition(".")
        if not expires.isdigit() or not hmac.compare_digest(mac, self._mac(body)):
            raise InvalidToken("invalid or forged token")
        if int(expires) < time.time():
            raise ExpiredToken("the link or token has expired")
        try:
            return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidToken("invalid or forged token") from None

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()


def shared_secret_key(data_dir: Path) -> str:
    """``data_dir/secret_key``, created on first use (mode 0600). The key is written to a
    private temporary file (O_EXCL) and linked into place, which fails if the name exists: of
    processes racing, one wins and the others read the winner's complete key."""
    path = data_dir / SECRET_KEY_FILE
    if not path.exists():
        try:
            _create_key_file(path)
        except OSError as exc:
            raise ConfigError(f"cannot create {path} ({exc.strerror}): set secret_key") from None
    try:
        key = path.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if len(key) < 32:
        raise ConfigError(f"{path} holds no usable key: delete it, or set secret_key")
    return key


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.link(draft, path)  # fails if the name exists: never overwrites another's key
    except FileExistsError:
        pass  # another process won the race: use its key
    finally:
        draft.unlink(missing_ok=True)
