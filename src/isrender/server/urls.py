"""Checks on the raw query string before it is parsed: request locking (§1.11) and signed URLs.

Both work on the query exactly as the client sent it (still %-encoded), because that is what
the client hashed or signed.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from isrender.errors import RequestRefusedError

__all__ = [
    "RequestRefusedError",
    "deobfuscate",
    "lock_hash",
    "sign",
    "strip_lock",
    "strip_signature",
]

_LOCK = re.compile(r"&([0-9A-Fa-f]{4})\Z")
_SIGNATURE = re.compile(r"(?:\A|&)sig=([0-9a-f]{64})\Z")


def lock_hash(query: str) -> str:
    """The 16-bit request-lock hash of §1.11, as four lowercase hex digits (D-15)."""
    h = 0
    for byte in query.encode("ascii", "replace"):
        h = (h * 131 + byte) & 0xFFFF
    return f"{h:04x}"


def strip_lock(query: str) -> str:
    """The query without its ``&xxxx`` lock suffix; refuses a missing or wrong one."""
    match = _LOCK.search(query)
    if match is None:
        raise RequestRefusedError("request refused: this server requires a request lock (&xxxx)")
    body = query[: match.start()]
    if match.group(1).lower() != lock_hash(body):
        raise RequestRefusedError("request refused: the request lock does not match")
    return body


def sign(key: str, path: str, query: str) -> str:
    """``sig`` for ``path?query``: HMAC-SHA256 over the decoded path and the raw query."""
    message = f"{path}?{query}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def strip_signature(key: str, path: str, query: str) -> str:
    """The query without its trailing ``sig=``; refuses a missing or wrong signature."""
    match = _SIGNATURE.search(query)
    if match is None:
        raise RequestRefusedError("request refused: this server requires a signed URL (&sig=)")
    body = query[: match.start()]
    if not hmac.compare_digest(match.group(1), sign(key, path, body)):
        raise RequestRefusedError("request refused: the URL signature does not match")
    return body


def deobfuscate(query: str) -> str:
    """The modifier string of an obfuscated request (standard base64 of it, §1.11)."""
    import base64
    import binascii
    from urllib.parse import unquote

    try:
        return base64.b64decode(unquote(query), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise RequestRefusedError("request refused: the request is not valid base64") from None
