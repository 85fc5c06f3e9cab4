"""What every UI route shares: the services, the templates, and the error page.

Pages are Jinja2 templates rendered on the server (autoescaped); a route that hits an IPS fault
or another public error answers an HTML page with the fault's status and message, never JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from isrender.catalog import Catalog
from isrender.catalog.images import CatalogImages
from isrender.catalog.models import User
from isrender.errors import IpsFault, IsRenderError, UiCsrfRejected, UiLoginRequired
from isrender.jobs import JobService
from isrender.server.ui.session import Sessions, UiSession

__all__ = ["Ui", "guarded", "see_other"]

HERE = Path(__file__).parent
F = TypeVar("F", bound=Callable[..., Any])
# Pages never leave the server: scripts, styles, images and form targets are same-origin.
CSP = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass
class Ui:
    """The services a UI route calls; ``operations`` are the JSON API's own (IPS names)."""

    catalog: Catalog
    images: CatalogImages
    jobs: JobService
    operations: dict[str, Callable[[User, dict[str, Any]], dict[str, Any]]]
    sessions: Sessions

    def __post_init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    def page(
        self, name: str, session: UiSession, status: int = 200, **context: Any
    ) -> HTMLResponse:
        html = self.env.get_template(name).render(user=session.user, csrf=session.csrf, **context)
        return HTMLResponse(html, status, headers=SECURITY_HEADERS)

    def call(self, operation: str, user: User, **body: Any) -> dict[str, Any]:
        """An IPS operation exactly as the JSON API runs it (same checks, same faults)."""
        return self.operations[operation](user, body)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, 303, headers={"Cache-Control": "no-store"})


def guarded(ui: Ui) -> Callable[[F], F]:
    """Turn public errors of a page route into an HTML error page with their status."""

    def decorate(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except (UiLoginRequired, UiCsrfRejected):
                raise  # answered by the app's handlers (redirect / 403)
            except IsRenderError as exc:
                request: Request = kwargs["request"]
                session = ui.sessions.open(request) or UiSession(None, "", "")
                message = exc.reason if isinstance(exc, IpsFault) else exc.public_message
                return ui.page("error.html", session, exc.http_status, title="Error",
                               message=message, active="")  # fmt: skip

        return wrapper  # type: ignore[return-value]

    return decorate
