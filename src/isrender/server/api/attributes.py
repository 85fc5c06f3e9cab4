"""A company's catalog attributes (isrender's own resource, for administrators): what every URL
of the company renders with, and where each value comes from (the company or the server)."""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations, and the
# ``Caller`` dependency is local to ``add_attribute_routes``, so they must be evaluated eagerly.

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from isrender.catalog import Operation
from isrender.catalog.attribute_store import company_attributes, set_company_attributes
from isrender.catalog.models import Company, User
from isrender.errors import IpsFault
from isrender.render.attributes import effective_texts
from isrender.server.api.context import ApiContext

__all__ = ["add_attribute_routes", "attribute_view"]


def attribute_view(ctx: ApiContext, found: Company) -> dict[str, Any]:
    own = company_attributes(ctx.catalog, found.id)
    texts = effective_texts(own, ctx.catalog.settings)
    return {"companyHandle": f"c|{found.id}", "attributes": {
        name: {"value": text, "source": "company" if name in own else "server"}
        for name, text in texts.items()
    }}  # fmt: skip


def add_attribute_routes(router: APIRouter, ctx: ApiContext) -> None:
    Caller = Annotated[User, Depends(ctx.caller)]

    @router.get("/companies/{company}/attributes", summary="Catalog attributes (admins)")
    def get_attributes(company: str, user: Caller) -> dict[str, Any]:
        found, _ = ctx.member(user, company, Operation.CATALOG_ATTRIBUTES)
        return attribute_view(ctx, found)

    @router.put("/companies/{company}/attributes", summary="Set catalog attributes (admins)")
    def put_attributes(
        company: str, user: Caller, body: Annotated[dict[str, Any], Body()]
    ) -> dict[str, Any]:
        found, _ = ctx.member(user, company, Operation.CATALOG_ATTRIBUTES)
        changes = body.get("attributes")
        if not isinstance(changes, dict) or not all(
            isinstance(v, str | None) for v in changes.values()
        ):
            raise IpsFault(30002, "attributes: an object of name -> text (or null) is required")
        set_company_attributes(ctx.catalog, found.id, changes)
        return attribute_view(ctx, found)
