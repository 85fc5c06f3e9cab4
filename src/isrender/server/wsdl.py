"""The WSDL of the SOAP endpoint, generated from ``api/models.py`` (the schema the JSON API's
OpenAPI document uses too, so the two transports cannot drift apart, §5.3).

Served at ``GET /scene7/services/IpsApiService?wsdl`` (the 2014-04-03 namespace) and
``GET /scene7/webservice/IpsApi[-<version>].wsdl`` (§5.4; ``?serviceUrl=`` rewrites the
address). It covers the operations the endpoint implements (``api/models.py: OPERATIONS``), the
``authHeader`` SOAP header and the three fault elements. ``in_schema_order`` puts a reply in
the schema's element order and writes dates as ``xsd:dateTime`` with offset and milliseconds
(§5.4 item 6), so a generated client reads every reply.
"""

from __future__ import annotations

import types
import typing
from datetime import datetime
from functools import cache
from typing import Any, Literal
from xml.sax.saxutils import quoteattr

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel

from isrender.server.api.models import OPERATIONS

__all__ = ["BASE_NAMESPACE", "in_schema_order", "wsdl_document", "wsdl_router"]

BASE_NAMESPACE = "http://www.scene7.com/IpsApi/xsd"
DEFAULT_VERSION = "2014-04-03"
VERSIONS = ("2014-04-03", "2013-02-15", "2012-02-14")  # plus the unversioned namespace
SERVICE_PATH = "/scene7/services/IpsApiService"
OPTIONAL = ' minOccurs="0"'
FAULTS = ("authenticationFault", "authorizationFault", "ipsApiFault")
_SCALARS: dict[Any, str] = {str: "xsd:string", int: "xsd:int", bool: "xsd:boolean",
                            datetime: "xsd:dateTime"}  # fmt: skip
_HEADER_FIELDS = (("user", "xsd:string", 1), ("password", "xsd:string", 1),
                  ("locale", "xsd:string", 0), ("appName", "xsd:string", 0),
                  ("appVersion", "xsd:string", 0), ("gzipResponse", "xsd:boolean", 0),
                  ("faultHttpStatusCode", "xsd:int", 0))  # fmt: skip


def namespace_of(version: str | None) -> str:
    return f"{BASE_NAMESPACE}/{version}" if version else BASE_NAMESPACE


# ---- types -------------------------------------------------------------------------------


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the type without ``None``, whether ``None`` was allowed)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else str), len(args) < len(typing.get_args(annotation))
    return annotation, False


def _array_name(field: str, item: Any) -> str:
    if isinstance(item, type) and issubclass(item, BaseModel):
        return f"{item.__name__}Array"
    return "HandleArray" if field.endswith(("HandleArray", "Handles")) else "StringArray"


def _xsd_type(field: str, annotation: Any, found: dict[str, str]) -> str:
    """The XSD type of a field; complex and array types are added to ``found`` by name."""
    if typing.get_origin(annotation) is list:
        item = typing.get_args(annotation)[0]
        name = _array_name(field, item)
        if name not in found:
            found[name] = ""  # placeholder first: recursion stops here
            item_type = _xsd_type("items", item, found)
            found[name] = (f'<xsd:complexType name="{name}"><xsd:sequence><xsd:element '
                           f'name="items" type="{item_type}" minOccurs="0" maxOccurs="unbounded"/>'
                           "</xsd:sequence></xsd:complexType>")  # fmt: skip
        return f"tns:{name}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        _complex_type(annotation, found)
        return f"tns:{annotation.__name__}"
    if typing.get_origin(annotation) is Literal:
        return "xsd:string"
    return _SCALARS[annotation]


def _complex_type(model: type[BaseModel], found: dict[str, str]) -> None:
    name = model.__name__
    if name in found:
        return
    found[name] = ""
    elements = []
    for field, info in model.model_fields.items():
        annotation, optional = _unwrap(info.annotation)
        kind = _xsd_type(field, annotation, found)
        least = OPTIONAL if optional or not info.is_required() else ""
        elements.append(f'<xsd:element name="{field}" type="{kind}"{least}/>')
    found[name] = (f'<xsd:complexType name="{name}"><xsd:sequence>{"".join(elements)}'
                   "</xsd:sequence></xsd:complexType>")  # fmt: skip


def _operation_schema(namespace: str) -> str:
    found: dict[str, str] = {}
    elements = []
    for operation, (param, answer) in OPERATIONS.items():
        for suffix, model in (("Param", param), ("Return", answer)):
            _complex_type(model, found)
            elements.append(
                f'<xsd:element name="{operation}{suffix}" type="tns:{model.__name__}"/>'
            )
    return (f'<xsd:schema targetNamespace="{namespace}" elementFormDefault="qualified" '
            f'xmlns:tns="{namespace}">{"".join(found.values())}{"".join(elements)}'
            "</xsd:schema>")  # fmt: skip


def _base_schema_content() -> str:
    header = "".join(
        f'<xsd:element name="{name}" type="{kind}"{"" if needed else OPTIONAL}/>'
        for name, kind, needed in _HEADER_FIELDS
    )
    faults = "".join(f'<xsd:element name="{f}" type="base:FaultType"/>' for f in FAULTS)
    return (f'<xsd:complexType name="AuthHeader"><xsd:sequence>{header}</xsd:sequence>'
            '</xsd:complexType><xsd:element name="authHeader" type="base:AuthHeader"/>'
            '<xsd:complexType name="FaultType"><xsd:sequence><xsd:element name="code" '
            'type="xsd:int"/><xsd:element name="reason" type="xsd:string"/></xsd:sequence>'
            f"</xsd:complexType>{faults}")  # fmt: skip


def _types(namespace: str) -> str:
    operations = _operation_schema(namespace)
    base = (f'<xsd:schema targetNamespace="{BASE_NAMESPACE}" elementFormDefault="qualified" '
            f'xmlns:base="{BASE_NAMESPACE}">{_base_schema_content()}</xsd:schema>')  # fmt: skip
    if namespace == BASE_NAMESPACE:  # one schema: the header and faults join the operations
        shared = _base_schema_content().replace("base:", "tns:")
        return operations.replace("</xsd:schema>", shared + "</xsd:schema>")
    return base + operations


# ---- the WSDL document -------------------------------------------------------------------


def _messages() -> str:
    parts = ['<wsdl:message name="authHeader"><wsdl:part name="authHeader" '
             'element="base:authHeader"/></wsdl:message>']  # fmt: skip
    parts += [f'<wsdl:message name="{f}"><wsdl:part name="fault" element="base:{f}"/>'
              "</wsdl:message>" for f in FAULTS]  # fmt: skip
    for operation in OPERATIONS:
        for suffix in ("Param", "Return"):
            parts.append(f'<wsdl:message name="{operation}{suffix}"><wsdl:part name="parameters" '
                         f'element="tns:{operation}{suffix}"/></wsdl:message>')  # fmt: skip
    return "".join(parts)


def _port_type() -> str:
    faults = "".join(f'<wsdl:fault name="{f}" message="tns:{f}"/>' for f in FAULTS)
    operations = "".join(
        f'<wsdl:operation name="{op}"><wsdl:input message="tns:{op}Param"/>'
        f'<wsdl:output message="tns:{op}Return"/>{faults}</wsdl:operation>'
        for op in OPERATIONS
    )
    return f'<wsdl:portType name="IpsApiPortType">{operations}</wsdl:portType>'


def _binding() -> str:
    faults = "".join(f'<wsdl:fault name="{f}"><soap:fault name="{f}" use="literal"/></wsdl:fault>'
                     for f in FAULTS)  # fmt: skip
    operations = "".join(
        f'<wsdl:operation name="{op}"><soap:operation soapAction="{op}"/><wsdl:input>'
        '<soap:header message="tns:authHeader" part="authHeader" use="literal"/>'
        '<soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/>'
        f"</wsdl:output>{faults}</wsdl:operation>"
        for op in OPERATIONS
    )
    return ('<wsdl:binding name="IpsApiSoapBinding" type="tns:IpsApiPortType"><soap:binding '
            'style="document" transport="http://schemas.xmlsoap.org/soap/http"/>'
            f"{operations}</wsdl:binding>")  # fmt: skip


@cache
def _body(namespace: str) -> str:
    return (f"<wsdl:types>{_types(namespace)}</wsdl:types>{_messages()}{_port_type()}"
            f"{_binding()}")  # fmt: skip


def wsdl_document(namespace: str, address: str) -> str:
    """The WSDL for one IpsApi namespace, with the service at ``address``."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<wsdl:definitions name="IpsApi" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
        'xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        f'xmlns:tns="{namespace}" xmlns:base="{BASE_NAMESPACE}" targetNamespace="{namespace}">'
        f'{_body(namespace)}<wsdl:service name="IpsApiService"><wsdl:port name="IpsApiSoapPort" '
        f'binding="tns:IpsApiSoapBinding"><soap:address location={quoteattr(address)}/>'
        "</wsdl:port></wsdl:service></wsdl:definitions>"
    )


# ---- replies in schema order -------------------------------------------------------------


def _xsd_datetime(value: object) -> object:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return value
    return (moment if moment.tzinfo else moment.astimezone()).isoformat(timespec="milliseconds")


def _ordered(model: type[BaseModel], value: dict[str, Any]) -> dict[str, Any]:
    ordered: dict[str, Any] = {}
    for field, info in model.model_fields.items():
        if field in value:
            ordered[field] = _convert(_unwrap(info.annotation)[0], value[field])
    # keys the schema does not know stay (last): a test validating replies then catches them
    return {**ordered, **{k: v for k, v in value.items() if k not in ordered}}


def _convert(annotation: Any, value: Any) -> Any:
    if typing.get_origin(annotation) is list and isinstance(value, list):
        item = typing.get_args(annotation)[0]
        return [_convert(item, v) for v in value]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _ordered(annotation, value) if isinstance(value, dict) else value
    return _xsd_datetime(value) if annotation is datetime else value


def in_schema_order(operation: str, answer: dict[str, Any]) -> dict[str, Any]:
    """``answer`` with its elements in the Return type's sequence order, dates as xsd."""
    if operation not in OPERATIONS:
        return answer
    return _ordered(OPERATIONS[operation][1], answer)


# ---- routes ------------------------------------------------------------------------------


def wsdl_router() -> APIRouter:
    router = APIRouter(tags=["IPS SOAP"])

    def reply(request: Request, version: str | None) -> Response:
        address = request.query_params.get("serviceUrl") or str(
            request.url.replace(path=SERVICE_PATH, query="")
        )
        document = wsdl_document(namespace_of(version), address)
        return Response(document, media_type="text/xml;charset=UTF-8")

    @router.get(SERVICE_PATH, summary="The WSDL (?wsdl), for SOAP client generators")
    def service_wsdl(request: Request) -> Response:
        if "wsdl" not in request.query_params:
            return PlainTextResponse("SOAP requests are POSTs; the WSDL is at ?wsdl\n", 400)
        return reply(request, DEFAULT_VERSION)

    @router.get("/scene7/webservice/{name}", summary="IpsApi[-version].wsdl (§5.4)")
    def named_wsdl(name: str, request: Request) -> Response:
        version = name.removeprefix("IpsApi").removeprefix("-").removesuffix(".wsdl")
        if not name.endswith(".wsdl") or (version and version not in VERSIONS):
            known = ", ".join(f"IpsApi-{v}.wsdl" for v in VERSIONS)
            return PlainTextResponse(f"no WSDL {name!r}; served: IpsApi.wsdl, {known}\n", 404)
        return reply(request, version or None)

    return router
