"""Passwords: scrypt from the standard library, and a decoy hash so that unknown users cost the
same work as known ones."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets

__all__ = ["decoy_hash", "hash_password", "verify_password"]

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    encoded = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return "scrypt$" + "$".join(encoded)


@functools.cache
def decoy_hash() -> str:
    """A hash no password matches: unknown users get the same scrypt work as known ones, so
    the answer time does not tell whether an account exists."""
    return hash_password(secrets.token_hex(16))


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), dklen=len(expected), **_SCRYPT
        )
    except ValueError:
        return False
    return scheme == "scrypt" and hmac.compare_digest(actual, expected)
