"""The one mapping from an exception to what the client gets, for the FastAPI exception
handlers and for the Image Serving fast path (image.py ``ImageFastPath``), so both answer an
error the same way: an IsRenderError's status and public message as text/plain, never
cacheable; a database that cannot be reached, 503; anything else, a logged 500 with no detail.
"""

from __future__ import annotations

import logging

from fastapi.responses import PlainTextResponse
from sqlalchemy.exc import OperationalError

from isrender.errors import IsRenderError, ServiceUnavailable

__all__ = ["NO_STORE", "error_reply"]

log = logging.getLogger("isrender.server")
NO_STORE = {"Cache-Control": "no-store"}  # error responses are never cacheable (§7.1)


def error_reply(exc: Exception) -> PlainTextResponse:
    """The reply for ``exc`` (IpsFault, answered as JSON by the API, is not for this)."""
    if isinstance(exc, OperationalError):
        log.error("database unreachable: %s", exc.orig)
        exc = ServiceUnavailable("database", "database_url")
    if isinstance(exc, IsRenderError):
        headers = dict(NO_STORE)
        if exc.http_status == 503:
            headers["Retry-After"] = "1"
        return PlainTextResponse(exc.public_message + "\n", exc.http_status, headers)
    log.exception("internal error", exc_info=exc)
    return PlainTextResponse("internal error\n", 500, NO_STORE)
