"""The minimal SOAP endpoint (production-system §5.4) on a real uvicorn server: X59-X63 and a
SOAP client's submit / job-log round trip."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import httpx
import pytest

from isrender.server import create_app
from tests.catalog_fixture import Fixture
from tests.http_server import running

URL = "/scene7/services/IpsApiService"
NS = "http://www.scene7.com/IpsApi/xsd/2014-04-03"


@pytest.fixture(scope="module")
def base(ips_server: str) -> str:
    return ips_server


def envelope(body: str, auth: str = "") -> str:
    header = f"<soapenv:Header>{auth}</soapenv:Header>" if auth else ""
    return ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
            f"{header}<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>")  # fmt: skip


def auth_header(password: str = "secret", extra: str = "") -> str:
    return ('<authHeader xmlns="http://www.scene7.com/IpsApi/xsd">'
            f"<user>editor@acme.example</user><password>{password}</password>{extra}"
            "</authHeader>")  # fmt: skip


def submit_body(fx: Fixture, namespace: str = NS) -> str:
    return (f'<submitJobParam xmlns="{namespace}"><companyHandle> c|1 </companyHandle>'
            "<jobName>soap-export</jobName><exportJob>"
            f"<assetHandleArray><items>{fx.handle('#101')}</items></assetHandleArray>"
            "<fmt>convert</fmt><is_modifier>&amp;fmt=png</is_modifier><macro>$test$</macro>"
            "</exportJob></submitJobParam>")  # fmt: skip


SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


def post(base: str, xml: str) -> httpx.Response:
    return httpx.post(base + URL, content=xml.encode(), headers=SOAP_HEADERS)


def fault(reply: httpx.Response) -> tuple[int, str]:
    root = ET.fromstring(reply.content)
    code = next(e for e in root.iter() if e.tag.endswith("}code") or e.tag == "code")
    reason = next(e for e in root.iter() if e.tag.endswith("}reason"))
    return int(code.text or 0), reason.text or ""


def test_x59_no_credentials_is_http_500_fault_10000(base: str, fx: Fixture):
    reply = post(base, envelope(submit_body(fx)))
    assert reply.status_code == 500 and fault(reply)[0] == 10000
    assert reply.headers["content-type"] == "text/xml;charset=UTF-8"


def test_x60_x61_wrong_password_and_fault_http_status(base: str, fx: Fixture):
    reply = post(base, envelope(submit_body(fx), auth_header("wrong")))
    assert reply.status_code == 500 and fault(reply) == (10001, "Invalid username/password")
    extra = "<faultHttpStatusCode>200</faultHttpStatusCode>"
    reply = post(base, envelope(submit_body(fx), auth_header("wrong", extra)))
    assert reply.status_code == 200 and fault(reply)[0] == 10001


def test_x62_malformed_xml_is_30003(base: str):
    reply = post(base, "<soapenv:Envelope><unclosed>")
    assert reply.status_code == 500 and fault(reply)[0] == 30003


def test_x63_old_namespace_accepted_unless_strict(base: str, fx: Fixture):
    old = "http://www.scene7.com/IpsApi/xsd/2008-01-15"
    reply = post(base, envelope(submit_body(fx, old), auth_header()))
    assert reply.status_code == 200, reply.text
    assert f'xmlns="{old}"' in reply.text  # answered in the request's namespace
    strict = fx.catalog.settings.model_copy(update=dict(soap_strict_namespaces=True))
    with running(create_app(strict, fx.catalog)) as url:
        refused = post(url, envelope(submit_body(fx, old), auth_header()))
    assert refused.status_code == 500 and fault(refused)[0] == 30003


def test_submit_then_job_log_details_over_soap(base: str, fx: Fixture):
    reply = post(base, envelope(submit_body(fx), auth_header()))
    assert reply.status_code == 200, reply.text
    root = ET.fromstring(reply.content)
    handle = next(e.text for e in root.iter(f"{{{NS}}}jobHandle"))
    assert handle and handle.startswith("j|1||soap-export")
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        details = post(base, envelope(
            f'<getJobLogDetailsParam xmlns="{NS}"><companyHandle>c|1</companyHandle>'
            f"<jobHandle>{handle}</jobHandle><recordsPerPage>50</recordsPerPage>"
            "</getJobLogDetailsParam>", auth_header()))  # fmt: skip
        if "EndExport" in details.text:
            break
        time.sleep(0.1)
    assert details.status_code == 200 and "<getJobLogDetailsReturn" in details.text
    assert "fileToExport.tiff" in details.text  # the macro's fmt=tif won (§2.8.5)


def test_unimplemented_operation_and_basic_auth(base: str):
    body = f'<addCompanyParam xmlns="{NS}"><companyName>X</companyName></addCompanyParam>'
    reply = httpx.post(base + URL, content=envelope(body).encode(),
                       auth=httpx.BasicAuth("editor@acme.example", "secret"))  # fmt: skip
    assert reply.status_code == 500
    assert fault(reply) == (30000, "Operation addCompany is not implemented")
    assert "<faultcode>soapenv:Server</faultcode>" in reply.text
