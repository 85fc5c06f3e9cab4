"""Web UI sessions and CSRF: a signed cookie naming the user and a per-session nonce.

The cookie is a ``Signer`` token (``ui:<user id>:<nonce>``), HttpOnly, SameSite=Lax, limited
to ``/ui``; nothing is stored server-side, so any process with the same ``secret_key``
accepts it. User 0 is the anonymous session the login form itself runs in, so the login POST
is CSRF-checked too. The CSRF token is a second signed token of the same nonce: a form or a
script call from another session (or another site) cannot produce it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import Request, Response

from isrender.catalog import Catalog
from isrender.catalog.models import User
from isrender.errors import UiCsrfRejected, UiLoginRequired
from isrender.server.tokens import ExpiredToken, InvalidToken, Signer

__all__ = ["COOKIE", "CSRF_HEADER", "Sessions", "UiSession"]

COOKIE = "isrender_ui"
CSRF_HEADER = "X-CSRF-Token"  # script calls send the token here; forms send the field "csrf"
LIFETIME = 8 * 3600.0  # a working day; then log in again
ANONYMOUS = 0


@dataclass(frozen=True)
class UiSession:
    user: User | None  # None: the anonymous session of the login page
    nonce: str
    csrf: str


class Sessions:
    def __init__(self, catalog: Catalog, key: str) -> None:
        self.catalog = catalog
        self._signer = Signer(key)

    def start(self, response: Response, request: Request, user_id: int) -> UiSession:
        """A fresh session (a new nonce: logging in never keeps the anonymous one)."""
        nonce = secrets.token_urlsafe(18)
        token, _ = self._signer.issue(f"ui:{user_id}:{nonce}", LIFETIME)
        response.set_cookie(
            COOKIE, token, max_age=int(LIFETIME), path="/ui", httponly=True, samesite="lax",
            secure=request.url.scheme == "https",
        )  # fmt: skip
        user = self.catalog.user(f"u|{user_id}|") if user_id != ANONYMOUS else None
        return UiSession(user, nonce, self._csrf(nonce))

    def end(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/ui")

    def open(self, request: Request) -> UiSession | None:
        """The request's session, or None (no cookie, forged, expired, user gone)."""
        token = request.cookies.get(COOKIE, "")
        try:
            subject = self._signer.open(token)
        except (InvalidToken, ExpiredToken):
            return None
        kind, _, rest = subject.partition(":")
        user_id, _, nonce = rest.partition(":")
        if kind != "ui" or not user_id.isdigit() or not nonce:
            return None
        if int(user_id) == ANONYMOUS:
            return UiSession(None, nonce, self._csrf(nonce))
        user = self.catalog.user(f"u|{user_id}|")
        if user is None or not user.is_valid:
            return None
        return UiSession(user, nonce, self._csrf(nonce))

    def user(self, request: Request) -> tuple[User, UiSession]:
        """The logged-in user, or UiLoginRequired (pages redirect to the login form)."""
        session = self.open(request)
        if session is None or session.user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise UiLoginRequired(target)
        return session.user, session

    def check_csrf(self, session: UiSession, sent: str | None) -> None:
        try:
            genuine = bool(sent) and self._signer.open(sent or "") == f"csrf:{session.nonce}"
        except (InvalidToken, ExpiredToken):
            genuine = False
        if not genuine:
            raise UiCsrfRejected()

    def _csrf(self, nonce: str) -> str:
        token, _ = self._signer.issue(f"csrf:{nonce}", LIFETIME)
        return token
