"""What the playground and the preset editor show for a modifier string on an asset: the
``isrender check`` verdict (strict, with the caret and the hint) and the ``explain`` stages,
computed by the same code the image server uses (``CatalogImages.prepare``) plus the plan.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from isrender.catalog.images import CatalogImages
from isrender.errors import IsRenderError, ModifierError
from isrender.language import serialize
from isrender.render.formats import output_format
from isrender.request import iter_commands
from isrender.request.views import value_data
from isrender.service import PreparedRequest

__all__ = ["check", "error_data", "image_url"]

URL_SAFE = "!$&'()*+,-./:;=?@[]^_{|}~%"


def image_url(company: str, asset: str, modifiers: str) -> str:
    """The ``/is/image`` URL of ``company/asset?modifiers`` (the modifier string as typed)."""
    path = f"/is/image/{quote(company, safe='')}/{quote(asset, safe='/|')}"
    # as typed (the server decodes %xx itself); only what cannot stand in a URL is escaped
    query = quote(modifiers, safe=URL_SAFE)
    return f"{path}?{query}" if modifiers else path


def error_data(exc: IsRenderError) -> dict[str, Any]:
    data: dict[str, Any] = {"message": exc.public_message}
    if isinstance(exc, ModifierError):
        data.update(
            problem=exc.problem, hint=exc.hint, position=exc.at.position, length=exc.at.length,
            origin=exc.at.origin, source=exc.at.source, caret=exc.caret(),
        )  # fmt: skip
    return data


def check(images: CatalogImages, company: str, asset: str, modifiers: str) -> dict[str, Any]:
    """The verdict and every stage, as JSON-ready data; never raises for bad input."""
    data: dict[str, Any] = {"url": image_url(company, asset, modifiers), "modifiers": modifiers}
    try:
        prepared = images.prepare(company, asset, modifiers, strict=True)
    except ModifierError as exc:
        data.update(valid=False, error=error_data(exc), served=_served(images, company, asset,
                                                                         modifiers))  # fmt: skip
        return data
    except IsRenderError as exc:
        data.update(valid=False, error=error_data(exc), served=False)
        return data
    data.update(valid=True, served=True, **stages(prepared, images))
    return data


def _served(images: CatalogImages, company: str, asset: str, modifiers: str) -> bool:
    """Whether the image server (lenient: unknown commands ignored) still answers it."""
    try:
        images.prepare(company, asset, modifiers, strict=False)
    except IsRenderError:
        return False
    return True


def stages(prepared: PreparedRequest, images: CatalogImages) -> dict[str, Any]:
    request = prepared.request
    output = output_format(request)
    data: dict[str, Any] = {
        "expanded": serialize(prepared.flat),
        "effective": request.effective(),
        "bound": [
            {
                "scope": scope,
                "command": bound.written,
                "text": bound.text,
                "value": value_data(bound.value),
                "from": _origin(bound),
            }
            for scope, bound in iter_commands(request)
        ],
        "overridden": [f"{b} ({_origin(b)})" for b in request.overridden],
        "warnings": [w.message for w in request.warnings],
        "output": {
            "format": output.format,
            "media_type": output.media_type,
            "extension": output.extension,
        },
        "source": prepared.source.name,
    }
    data.update(_plan(prepared, images))
    return data


def _origin(bound: Any) -> str:
    return str(bound.origin.label) if bound.origin else "request"


def _plan(prepared: PreparedRequest, images: CatalogImages) -> dict[str, Any]:
    """The render plan on the asset's original (no pixels decoded: the header is enough)."""
    if prepared.source.path is None or prepared.req.type != "img":
        return {}
    try:  # the company's service: its DefaultPix, MaxPix, ...
        found = images.service_for(prepared).plan_render(prepared).plan
    except IsRenderError as exc:
        return {"plan_error": exc.public_message}
    width, height = found.reply_size
    return {
        "plan": [step.describe() for step in found.steps],
        "ignored": list(found.ignored),
        "reply": [width, height],
        "original": [found.source.width, found.source.height],
    }
