"""``/api/ips/v1``: the IPS JSON API of production-system.md §5.3 (resource aliases), one module
per resource; this module assembles them into one router.

Every handler authenticates (Basic, or a bearer token from ``POST /tokens``), resolves the
company from the path and checks the caller's role list before touching anything
(``context.py``); faults are answered as ``{"fault": {...}}`` with the status §5.3 gives
(``views.fault_response``). Handlers are plain functions, so FastAPI runs them in its thread
pool (SQLite and file I/O). ``models.py`` and ``openapi.py`` type the OpenAPI document.
"""

# No ``from __future__ import annotations``: FastAPI reads the handler's annotations, and the
# ``Caller`` dependency is local to ``api_router``, so they must be evaluated eagerly.

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from isrender.catalog.models import User
from isrender.jobs import JobService
from isrender.server.api.attributes import add_attribute_routes
from isrender.server.api.context import PREFIX, ApiContext, IpsOperation
from isrender.server.api.image_formats import add_image_format_routes
from isrender.server.api.job_logs import add_job_log_routes
from isrender.server.api.jobs import add_job_routes
from isrender.server.api.outputs import add_output_routes
from isrender.server.api.rpc import add_rpc_route, rpc_operations
from isrender.server.api.templates import add_template_routes
from isrender.server.api.uploads import add_upload_routes
from isrender.server.idempotency import SharedIdempotencyKeys
from isrender.server.tokens import Signer

__all__ = ["IpsOperation", "api_router"]

TOKEN_LIFETIME = 3600.0  # bearer tokens, seconds
# In registration order, which is matching order: ``jobs/active`` before ``jobs/{job}``.
RESOURCES = (
    add_job_routes,
    add_job_log_routes,
    add_output_routes,
    add_image_format_routes,
    add_template_routes,
    add_attribute_routes,
    add_upload_routes,
)


def api_router(service: JobService, signer: Signer) -> tuple[APIRouter, dict[str, IpsOperation]]:
    """The JSON API router, and its operations by IPS name (the SOAP endpoint serves them too)."""
    ctx = ApiContext(service, signer, SharedIdempotencyKeys(service.catalog))
    router = APIRouter(prefix=PREFIX, tags=["IPS JSON API"])
    Caller = Annotated[User, Depends(ctx.caller)]

    @router.post("/tokens", summary="Issue a bearer token for Basic credentials")
    def issue_token(user: Caller) -> dict[str, Any]:
        token, expires = signer.issue(f"user:{user.id}", TOKEN_LIFETIME)
        return {"token": token, "expires": expires.isoformat()}

    for add_routes in RESOURCES:
        add_routes(router, ctx)
    operations = rpc_operations(ctx)
    add_rpc_route(router, ctx, operations)
    return router, operations
