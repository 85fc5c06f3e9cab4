"""Image formats (the company's presets, ``$name$`` macros): getImageFormats, saveImageFormat
and deleteImageFormat (production-system.md §1.8, §5.3)."""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations, and the
# ``Caller`` dependency is local to ``add_image_format_routes``, so they must be evaluated eagerly.

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response

from isrender.catalog import Operation
from isrender.catalog.handles import HandleKind, format_handle, parse_handle
from isrender.catalog.models import User
from isrender.errors import IpsFault
from isrender.server.api.context import ApiContext

__all__ = [
    "add_image_format_routes",
    "delete_format",
    "list_image_formats",
    "save_format",
    "update_format",
]


def list_image_formats(ctx: ApiContext, company: str, user: User) -> list[dict[str, str]]:
    found, _ = ctx.member(user, company, Operation.GET_IMAGE_FORMATS)
    return [{"imageFormatHandle": format_handle(p.company_id, p.id), "name": p.name,
             "urlModifier": p.url_modifier} for p in ctx.catalog.presets(found.id)]  # fmt: skip


def save_format(ctx: ApiContext, company: str, user: User, body: dict[str, Any]) -> dict[str, str]:
    """A new preset, or a new definition for the preset of that name."""
    found, _ = ctx.member(user, company, Operation.SAVE_IMAGE_FORMAT)
    name, modifier = body.get("name"), body.get("urlModifier")
    if not name or not isinstance(modifier, str):
        raise IpsFault(30002, "name and urlModifier are required")
    preset = ctx.catalog.save_preset(found.id, str(name), modifier)
    return {"imageFormatHandle": format_handle(preset.company_id, preset.id)}


def update_format(
    ctx: ApiContext, company: str, handle: str, user: User, body: dict[str, Any]
) -> dict[str, str]:
    found, _ = ctx.member(user, company, Operation.SAVE_IMAGE_FORMAT)
    modifier = body.get("urlModifier")
    if not isinstance(modifier, str):
        raise IpsFault(30002, "urlModifier is required")
    preset = ctx.catalog.save_preset(found.id, _preset_name(ctx, found.id, handle), modifier)
    return {"imageFormatHandle": format_handle(preset.company_id, preset.id)}


def delete_format(ctx: ApiContext, company: str, handle: str, user: User) -> None:
    found, _ = ctx.member(user, company, Operation.SAVE_IMAGE_FORMAT)
    ctx.catalog.delete_preset(found.id, _preset_name(ctx, found.id, handle))


def _preset_name(ctx: ApiContext, company_id: int, handle: str) -> str:
    """The name of the preset ``handle`` names: its handle (``if|<company>|<id>``, the syntax of
    catalog/handles.py; another company's handle names nothing here), or its name."""
    parsed = parse_handle(handle, HandleKind.IMAGE_FORMAT)
    wanted = parsed.id if parsed is not None and parsed.company == company_id else None
    for preset in ctx.catalog.presets(company_id):
        if preset.id == wanted or preset.name == handle:
            return preset.name
    raise IpsFault(30001, f"imageFormatHandle {handle!r} does not name a preset")


def add_image_format_routes(router: APIRouter, ctx: ApiContext) -> None:
    Caller = Annotated[User, Depends(ctx.caller)]
    Json = Annotated[dict[str, Any], Body()]

    @router.get("/companies/{company}/image-formats", summary="getImageFormats")
    def image_formats(company: str, user: Caller) -> list[dict[str, str]]:
        return list_image_formats(ctx, company, user)

    @router.post("/companies/{company}/image-formats", summary="saveImageFormat")
    def save_image_format(company: str, user: Caller, body: Json) -> dict[str, str]:
        return save_format(ctx, company, user, body)

    @router.put("/companies/{company}/image-formats/{handle}", summary="saveImageFormat (update)")
    def update_image_format(company: str, handle: str, user: Caller, body: Json) -> dict[str, str]:
        return update_format(ctx, company, handle, user, body)

    @router.delete("/companies/{company}/image-formats/{handle}", status_code=204,
                   summary="deleteImageFormat")  # fmt: skip
    def delete_image_format(company: str, handle: str, user: Caller) -> Response:
        delete_format(ctx, company, handle, user)
        return Response(status_code=204)
