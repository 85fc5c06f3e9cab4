"""Compositing templates (assets of type Template, catalog/templates.py): list, create or
replace, delete. IPS creates them with ``createTemplate`` (an asset with ``urlModifier``); the
resource alias follows the image-formats pattern. Creating and deleting need the upload role
list (a template is an asset); listing the asset-reading one."""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations, and the
# ``Caller`` dependency is local to ``add_template_routes``, so they must be evaluated eagerly.

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response

from isrender.catalog import Operation, asset_handle
from isrender.catalog.models import User
from isrender.catalog.templates import delete_template, save_template, templates
from isrender.errors import CatalogError, IpsFault
from isrender.server.api.context import ApiContext

__all__ = ["add_template_routes", "list_templates", "remove_template", "store_template"]


def list_templates(ctx: ApiContext, company: str, user: User) -> list[dict[str, str]]:
    found, _ = ctx.member(user, company, Operation.GET_ASSETS)
    return [{"assetHandle": asset_handle(t.id), "name": t.name, "folder": t.folder.path,
             "urlModifier": t.modifier} for t in templates(ctx.catalog, found.id)]  # fmt: skip


def store_template(ctx: ApiContext, company: str, user: User, body: dict[str, Any]
                   ) -> dict[str, str]:  # fmt: skip
    """A new template, or a new body for the template of that name."""
    found, _ = ctx.member(user, company, Operation.UPLOAD)
    name, modifier, folder = body.get("name"), body.get("urlModifier"), body.get("folder", "")
    if not name or not isinstance(name, str) or not isinstance(modifier, str):
        raise IpsFault(30002, "name and urlModifier are required")
    if not isinstance(folder, str):
        raise IpsFault(30001, "folder: a folder path relative to the company root")
    try:
        asset = save_template(ctx.catalog, found.id, name, modifier, folder)
    except CatalogError as exc:
        raise IpsFault(30001, exc.message) from None
    return {"assetHandle": asset_handle(asset.id)}


def remove_template(ctx: ApiContext, company: str, template: str, user: User) -> None:
    found, _ = ctx.member(user, company, Operation.UPLOAD)
    try:
        delete_template(ctx.catalog, found.id, template)
    except CatalogError as exc:
        raise IpsFault(30001, exc.message) from None


def add_template_routes(router: APIRouter, ctx: ApiContext) -> None:
    Caller = Annotated[User, Depends(ctx.caller)]
    Json = Annotated[dict[str, Any], Body()]

    @router.get("/companies/{company}/templates", summary="Compositing templates")
    def get_templates(company: str, user: Caller) -> list[dict[str, str]]:
        return list_templates(ctx, company, user)

    @router.post("/companies/{company}/templates", summary="createTemplate (or replace a body)")
    def post_template(company: str, user: Caller, body: Json) -> dict[str, str]:
        return store_template(ctx, company, user, body)

    @router.delete("/companies/{company}/templates/{template}", status_code=204,
                   summary="Delete a template")  # fmt: skip
    def delete(company: str, template: str, user: Caller) -> Response:
        remove_template(ctx, company, template, user)
        return Response(status_code=204)
