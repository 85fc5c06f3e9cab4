"""The OpenAPI document of ``/api/ips/v1``: typed bodies from ``models.py`` and the two
security schemes (HTTP Basic, and bearer tokens from ``POST /tokens``).

Handlers take and return plain JSON (see ``models.py`` for why); this module puts the models
in the document by (method, path), since route objects are not stable API across FastAPI
versions. ``test_api_docs.py`` fails when a JSON operation has no typed body here, so a
new route cannot slip in untyped.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from isrender.server.api import models as m

__all__ = ["PUBLIC", "REQUEST_BODIES", "RESPONSES", "install_openapi"]

B = "/api/ips/v1"
C = f"{B}/companies/{{company}}"
# (method, path) -> request body model
REQUEST_BODIES: dict[tuple[str, str], type[BaseModel] | tuple[type[BaseModel], ...]] = {
    ("post", f"{C}/jobs"): m.SubmitJobBody,
    ("post", f"{C}/image-formats"): m.ImageFormatBody,
    ("put", f"{C}/image-formats/{{handle}}"): m.ImageFormatUpdate,
    ("put", f"{C}/attributes"): m.CompanyAttributesUpdate,
    ("post", f"{C}/templates"): m.TemplateBody,
    ("post", f"{B}/ops/{{operation}}"): tuple(dict.fromkeys(p for p, _ in m.OPERATIONS.values())),
}
# (method, path) -> (status, model, is a list); None: a file, not JSON
RESPONSES: dict[tuple[str, str], tuple[int, Any, bool]] = {
    ("post", f"{B}/tokens"): (200, m.Token, False),
    ("post", f"{C}/jobs"): (202, m.SubmitJobReturn, False),
    ("get", f"{C}/job-logs"): (200, m.JobView, True),
    ("get", f"{C}/assets/{{asset}}/job-logs"): (200, m.AssetJobLog, True),
    ("get", f"{C}/jobs/active"): (200, m.JobView, True),
    ("get", f"{B}/jobs/active"): (200, m.JobView, True),
    ("get", f"{C}/jobs/scheduled"): (200, m.JobView, True),
    ("get", f"{C}/jobs/{{job}}"): (200, m.JobView, False),
    ("get", f"{C}/job-logs/{{job}}"): (200, m.JobLogDetails, False),
    ("get", f"{C}/jobs/{{job}}/outputs"): (200, m.OutputFile, True),
    ("get", f"{C}/image-formats"): (200, m.ImageFormat, True),
    ("post", f"{C}/image-formats"): (200, m.ImageFormatHandle, False),
    ("put", f"{C}/image-formats/{{handle}}"): (200, m.ImageFormatHandle, False),
    ("get", f"{C}/attributes"): (200, m.CompanyAttributes, False),
    ("put", f"{C}/attributes"): (200, m.CompanyAttributes, False),
    ("post", f"{C}/uploads"): (201, m.UploadReturn, False),
    ("get", f"{C}/templates"): (200, m.TemplateView, True),
    ("post", f"{C}/templates"): (200, m.TemplateHandle, False),
    ("post", f"{B}/ops/{{operation}}"): (
        200,
        tuple(dict.fromkeys(r for _, r in m.OPERATIONS.values())),
        False,
    ),
    ("get", f"{B}/downloads/{{token}}"): (200, None, False),
    ("get", f"{C}/jobs/{{job}}/outputs.zip"): (200, None, False),
    ("get", f"{C}/jobs/{{job}}/outputs/{{path}}"): (200, None, False),
}
PUBLIC = {("get", f"{B}/downloads/{{token}}")}
SECURITY_SCHEMES = {
    "basicAuth": {"type": "http", "scheme": "basic", "description": "IPS e-mail and password"},
    "bearerAuth": {"type": "http", "scheme": "bearer",
                   "description": "A token from POST /api/ips/v1/tokens (1 h)"},
}  # fmt: skip
FAULTS = {"400": "Invalid or missing parameter (30001-30003)", "401": "Not authenticated (100xx)",
          "403": "Not authorized (200xx)", "404": "Unknown job (30001)"}  # fmt: skip
_MODELS: tuple[type[BaseModel], ...] = (
    m.SubmitJobBody, m.ImageFormatBody, m.ImageFormatUpdate, m.Token, m.AssetJobLog,
    m.JobLogDetails, m.OutputFile, m.ImageFormat, m.ImageFormatHandle, m.UploadReturn,
    m.CompanyAttributes, m.CompanyAttributesUpdate, m.TemplateBody, m.TemplateView,
    m.TemplateHandle,
    m.FAULT_MODEL, *(p for p, _ in m.OPERATIONS.values()), *(r for _, r in m.OPERATIONS.values()),
)  # fmt: skip


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _schema(model: Any, many: bool = False) -> dict[str, Any]:
    if isinstance(model, tuple):
        return {"oneOf": [_ref(each) for each in model]}
    return {"type": "array", "items": _ref(model)} if many else _ref(model)


def _secured(key: tuple[str, str]) -> bool:
    """Every API operation authenticates, except signed-link downloads (the link is the key);
    test_api_docs.py calls each one without credentials to hold this true."""
    return key[1].startswith(B) and key not in PUBLIC


def _type_operation(key: tuple[str, str], operation: dict[str, Any], secured: bool) -> None:
    if key in REQUEST_BODIES:
        content = {"application/json": {"schema": _schema(REQUEST_BODIES[key])}}
        operation["requestBody"] = {"required": True, "content": content}
    if key in RESPONSES:
        status, model, many = RESPONSES[key]
        responses = operation.setdefault("responses", {})
        if str(status) != "200":
            responses.pop("200", None)
        media = "application/octet-stream" if model is None else "application/json"
        schema = {"type": "string", "format": "binary"} if model is None else _schema(model, many)
        responses[str(status)] = {"description": "OK", "content": {media: {"schema": schema}}}
    if secured:
        operation["security"] = [{"basicAuth": []}, {"bearerAuth": []}]
    if key[1].startswith(B):
        responses = operation.setdefault("responses", {})
        responses.pop("422", None)  # validation errors are answered as IPS faults (400)
        for code, text in FAULTS.items():
            content = {"application/json": {"schema": _ref(m.FAULT_MODEL)}}
            responses.setdefault(code, {"description": text, "content": content})


def typed_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, routes=app.routes,
                         description=app.description)  # fmt: skip
    _, definitions = models_json_schema(
        [(model, "validation") for model in _MODELS],
        ref_template="#/components/schemas/{model}",
    )
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {}).update(definitions.get("$defs", {}))
    components["securitySchemes"] = SECURITY_SCHEMES
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            _type_operation((method, path), operation, _secured((method, path)))
    app.openapi_schema = schema
    return schema


def install_openapi(app: FastAPI) -> None:
    """Serve the typed document at the app's ``openapi_url``."""

    def openapi() -> dict[str, Any]:
        return typed_openapi(app)

    app.openapi = openapi  # type: ignore[method-assign]
