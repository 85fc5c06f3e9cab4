"""``POST /scene7/services/IpsApiService``: a minimal SOAP endpoint (production-system §5.4).

It serves the same operations as the JSON RPC form (``api.IpsOperation``): the first body
child names the operation (``submitJobParam`` -> ``submitJob``); its XML becomes the JSON form
(``<items>`` wrappers -> arrays, ``xsi:nil`` -> absent, text trimmed) and the answer goes back
as ``<operationReturn>`` in the request's namespace. Faults are SOAP faults with the IPS fault
element in ``detail``, HTTP 500 unless ``authHeader/faultHttpStatusCode`` asks otherwise.
The WSDL is served by ``wsdl.py``; replies follow its element order (``in_schema_order``).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from xml.etree import ElementTree as ET  # the Element type only; parsing is defusedxml's
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from isrender.catalog import Catalog
from isrender.catalog.models import User
from isrender.errors import IpsFault, LoginThrottled
from isrender.server.api.context import IpsOperation
from isrender.server.api.views import normalize_input
from isrender.server.wsdl import BASE_NAMESPACE, in_schema_order

__all__ = ["soap_router"]

ENVELOPE = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
IPS_NAMESPACE = re.compile(r"http://www\.scene7\.com/IpsApi/xsd(?:/(\d{4}-\d{2}-\d{2})(?:-beta)?)?")
FIRST_EXPORT_NAMESPACE = "2012-02-14"  # exportJob exists from this schema version on
NUMBERS = {"numRows", "recordsPerPage", "resultsPage"}
MAX_BODY = 10 * 1024 * 1024
_DECIMAL = re.compile(r"[0-9]{1,18}")  # ASCII digits only, short enough for int() (no 5000 digits)
_FAULT_STRINGS = {"authenticationFault": "AuthenticationException",
                  "authorizationFault": "AuthorizationException",
                  "ipsApiFault": "IpsApiException"}  # fmt: skip


def soap_router(
    catalog: Catalog, operations: dict[str, IpsOperation], strict_namespaces: bool = False
) -> APIRouter:
    router = APIRouter(tags=["IPS SOAP"])

    @router.post("/scene7/services/IpsApiService", summary="IPS SOAP endpoint (§5.4)")
    async def soap(request: Request) -> Response:
        raw = await request.body()  # the catalog and jobs are synchronous: off the event loop
        address = request.client.host if request.client else ""
        authorization = request.headers.get("authorization", "")
        return await run_in_threadpool(handle, raw, authorization, address)

    def handle(raw: bytes, authorization: str, address: str = "") -> Response:
        namespace, status = "http://www.scene7.com/IpsApi/xsd", 500
        try:
            if len(raw) > MAX_BODY:
                raise IpsFault(30003, f"the SOAP request is larger than {MAX_BODY} bytes")
            envelope = _parse(raw)
            header = envelope.find(f"{{{ENVELOPE}}}Header")
            status = _fault_status(header)
            operation, namespace, param = _operation(envelope)
            user = _authenticate(catalog, header, authorization, address)
            if operation not in operations:
                raise IpsFault(30000, f"Operation {operation} is not implemented")
            body = _json_form(param)
            if "exportJob" in body and strict_namespaces and _before_export(namespace):
                raise IpsFault(30003, f"exportJob is not part of the namespace {namespace}")
            answer = in_schema_order(operation, operations[operation](user, normalize_input(body)))
            return _reply(f"<{operation}Return xmlns={_attr(namespace)}>{_xml(answer)}"
                          f"</{operation}Return>", 200)  # fmt: skip
        except IpsFault as fault:
            reply = _reply(_fault(fault), status)
            if isinstance(fault, LoginThrottled):
                reply.headers["Retry-After"] = str(fault.retry_after)
            return reply

    return router


def _parse(raw: bytes) -> ET.Element:
    """defusedxml: no DTDs, no entity expansion (billion laughs), no external references."""
    try:
        envelope: ET.Element = SafeET.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException:
        raise IpsFault(30003, "DTDs and entities are not accepted in SOAP requests") from None
    except ET.ParseError as exc:
        raise IpsFault(30003, f"the request is not well-formed XML: {exc}") from None
    if envelope.tag != f"{{{ENVELOPE}}}Envelope":
        raise IpsFault(30003, "the request is not a SOAP 1.1 envelope")
    return envelope


def _operation(envelope: ET.Element) -> tuple[str, str, ET.Element]:
    body = envelope.find(f"{{{ENVELOPE}}}Body")
    first = next(iter(body), None) if body is not None else None
    if first is None:
        raise IpsFault(30003, "the SOAP body holds no operation element")
    namespace, local = first.tag[1:].partition("}")[::2] if "}" in first.tag else ("", first.tag)
    if not IPS_NAMESPACE.fullmatch(namespace):
        raise IpsFault(30003, f"{local} is not in an IpsApi namespace ({namespace or 'none'})")
    if not local.endswith("Param"):
        raise IpsFault(30003, f"{local} is not an IPS operation element (…Param)")
    return local.removesuffix("Param"), namespace, first


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _header_value(header: ET.Element | None, *names: str) -> str:
    """The text of the first header element (any namespace) with one of ``names``."""
    if header is None:
        return ""
    for element in header.iter():
        if _local(element.tag) in names and element.text:
            return element.text.strip()
    return ""


def _fault_status(header: ET.Element | None) -> int:
    value = _header_value(header, "faultHttpStatusCode")
    return int(value) if _DECIMAL.fullmatch(value) and 200 <= int(value) <= 599 else 500


def _authenticate(
    catalog: Catalog, header: ET.Element | None, authorization: str, address: str = ""
) -> User:
    """authHeader (any IpsApi namespace), legacy AuthUser/AuthPassword, then HTTP Basic."""
    user, password = _header_value(header, "user"), _header_value(header, "password")
    if not user:
        user, password = _header_value(header, "AuthUser"), _header_value(header, "AuthPassword")
    scheme, _, credentials = authorization.partition(" ")
    if not user and scheme.lower() == "basic" and credentials:
        try:
            user, _, password = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise IpsFault(10001, "Invalid username/password") from None
    if not user:
        raise IpsFault(10000, "the request could not be authenticated: no credentials")
    return catalog.authenticate(user, password, address)


def _json_form(element: ET.Element) -> Any:
    """XML -> the JSON form of §5.3: ``<items>`` lists, nested objects, trimmed text."""
    children = [c for c in element if c.get(XSI_NIL) != "true"]
    if not children:
        text = (element.text or "").strip()
        return int(text) if _local(element.tag) in NUMBERS and _DECIMAL.fullmatch(text) else text
    if all(_local(c.tag) == "items" for c in children):
        return [_json_form(c) for c in children]
    return {_local(c.tag): _json_form(c) for c in children}


def _before_export(namespace: str) -> bool:
    match = IPS_NAMESPACE.fullmatch(namespace)
    version = match.group(1) if match else None
    return version is not None and version < FIRST_EXPORT_NAMESPACE


def _xml(value: Any) -> str:
    """The JSON form back to XML: dict keys in their order, lists as ``<items>``."""
    if isinstance(value, dict):
        return "".join(f"<{k}>{_xml(v)}</{k}>" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return "".join(f"<items>{_xml(v)}</items>" for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _attr(value: str) -> str:
    return '"' + escape(value, {'"': "&quot;"}) + '"'


def _fault(fault: IpsFault) -> str:
    """The fault element stays in the base namespace whatever the request's (§5.1), as the
    WSDL declares it."""
    code = "soapenv:Server" if fault.code == 30000 else "soapenv:Client"
    return (
        f"<soapenv:Fault><faultcode>{code}</faultcode>"
        f"<faultstring>{_FAULT_STRINGS[fault.fault]}</faultstring><detail>"
        f"<{fault.fault} xmlns={_attr(BASE_NAMESPACE)}><code>{fault.code}</code>"
        f"<reason>{escape(fault.reason)}</reason></{fault.fault}></detail></soapenv:Fault>"
    )


def _reply(body: str, status: int) -> Response:
    envelope = (f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv='
                f'"{ENVELOPE}"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>')  # fmt: skip
    return Response(envelope, status, media_type="text/xml;charset=UTF-8")
