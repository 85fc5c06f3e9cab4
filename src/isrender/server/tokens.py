"""Signed, expiring tokens: bearer tokens (``POST /tokens``) and download links (§5.3).

A token is ``<base64url subject>.<expiry>.<HMAC-SHA256>``: nothing is stored, and any server
process with the same key accepts it. The key is ``url_signing_key`` when set, else a random key
per process (tokens then end with the process; clients log in again after a restart).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime

from isrender.errors import IsRenderError

__all__ = ["ExpiredToken", "InvalidToken", "Signer"]


class InvalidToken(IsRenderError):
    http_status = 403


class ExpiredToken(IsRenderError):
    http_status = 410


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
