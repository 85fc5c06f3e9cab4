"""The WSDL (§5.4) on a real uvicorn server: a zeep client generated from it submits an
ExportJob and reads its logs, and every reply validates against the WSDL's own schema."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from lxml import etree

from tests.catalog_fixture import Fixture

zeep = pytest.importorskip("zeep", reason="zeep (a dev dependency) generates the SOAP client")

SERVICE = "/scene7/services/IpsApiService"
NS = "http://www.scene7.com/IpsApi/xsd/2014-04-03"
XSD = "http://www.w3.org/2001/XMLSchema"
AUTH = {"user": "editor@acme.example", "password": "secret"}


@pytest.fixture(scope="module")
def history() -> Any:
    from zeep.plugins import HistoryPlugin

    return HistoryPlugin(maxlen=50)


@pytest.fixture(scope="module")
def client(ips_server: str, history: Any) -> Any:
    return zeep.Client(f"{ips_server}{SERVICE}?wsdl", plugins=[history])


@pytest.fixture(scope="module")
def schema(ips_server: str) -> etree.XMLSchema:
    """The operations schema of the served WSDL, as lxml's validator."""
    wsdl = etree.fromstring(httpx.get(f"{ips_server}{SERVICE}?wsdl").content)
    for candidate in wsdl.iter(f"{{{XSD}}}schema"):
        if candidate.get("targetNamespace") == NS:
            return etree.XMLSchema(etree.fromstring(etree.tostring(candidate)))
    raise AssertionError(f"no schema for {NS} in the WSDL")


def last_return(history: Any) -> etree._Element:
    """The ``<operation>Return`` element of the last reply, as received."""
    body = history.last_received["envelope"].find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    return body[0]


def test_zeep_round_trip_submit_then_job_logs(client: Any, history: Any, schema: Any, fx: Fixture):
    service, headers = client.service, {"authHeader": AUTH}
    handle = service.submitJob(
        companyHandle="c|1", jobName="zeep-export", _soapheaders=headers,
        exportJob={"assetHandleArray": {"items": [fx.handle("#101")]}, "fmt": "convert",
                   "is_modifier": "&fmt=png", "macro": "$test$"},
    )  # fmt: skip
    schema.assertValid(last_return(history))
    assert handle.startswith("j|1||zeep-export")
    deadline = time.monotonic() + 60
    while True:
        logs = service.getJobLogDetails(companyHandle="c|1", jobHandle=handle,
                                        recordsPerPage=50, _soapheaders=headers)  # fmt: skip
        job = logs[0]  # zeep unwraps the one-element Return and the <items> array
        if job["state"] == "Done" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    schema.assertValid(last_return(history))  # element order, types: what zeep relies on
    assert job["state"] == "Done" and job["outcome"] == "Succeeded"
    types = [d["logType"] for d in job["details"]["items"]]
    assert types[0] == "BeginExport" and types[-1] == "EndExport" and "ExportSuccess" in types
    assert any("fileToExport.tiff" in d["message"] for d in job["details"]["items"])
    assert job["submitted"].tzinfo is not None  # xsd:dateTime with an offset (§5.4 item 6)


@pytest.mark.parametrize(
    ("operation", "arguments"),
    [
        ("getJobLogs", {"companyHandle": "c|1", "numRows": 5}),
        ("getActiveJobs", {"companyHandle": "c|1"}),
        ("getScheduledJobs", {"companyHandle": "c|1"}),
        ("getImageFormats", {"companyHandle": "c|1"}),
        ("getAssetJobLogs", {"companyHandle": "c|1", "assetHandle": "#101"}),
    ],
)
def test_every_read_operation_validates(client: Any, history: Any, schema: Any, fx: Fixture,
                                        operation: str, arguments: dict[str, Any]):  # fmt: skip
    if arguments.get("assetHandle") == "#101":
        arguments = {**arguments, "assetHandle": fx.handle("#101")}
    getattr(client.service, operation)(**arguments, _soapheaders={"authHeader": AUTH})
    schema.assertValid(last_return(history))


def test_faults_arrive_as_zeep_faults(client: Any):
    with pytest.raises(zeep.exceptions.Fault) as caught:
        client.service.getImageFormats(
            companyHandle="c|1", _soapheaders={"authHeader": {**AUTH, "password": "wrong"}}
        )
    assert caught.value.message == "AuthenticationException"
    code = caught.value.detail.find(".//{http://www.scene7.com/IpsApi/xsd}code")
    assert code is not None and code.text == "10001"


@pytest.mark.parametrize(
    ("path", "status", "namespace"),
    [
        (f"{SERVICE}?wsdl", 200, NS),
        ("/scene7/webservice/IpsApi.wsdl", 200, "http://www.scene7.com/IpsApi/xsd"),
        ("/scene7/webservice/IpsApi-2012-02-14.wsdl", 200, "http://www.scene7.com/IpsApi/xsd/2012-02-14"),
        ("/scene7/webservice/IpsApi-1999-01-01.wsdl", 404, None),
        (SERVICE, 400, None),  # a GET without ?wsdl
    ],
)  # fmt: skip
def test_wsdl_urls(ips_server: str, path: str, status: int, namespace: str | None):
    reply = httpx.get(ips_server + path)
    assert reply.status_code == status
    if namespace:
        root = etree.fromstring(reply.content)
        assert root.get("targetNamespace") == namespace
        address = root.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
        assert address is not None and address.get("location") == ips_server + SERVICE


def test_service_url_rewrites_the_address(ips_server: str):
    proxy = "https://proxy.example/scene7/services/IpsApiService"
    reply = httpx.get(f"{ips_server}{SERVICE}", params={"wsdl": "", "serviceUrl": proxy})
    root = etree.fromstring(reply.content)
    address = root.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address is not None and address.get("location") == proxy


def test_unversioned_wsdl_is_a_working_client(ips_server: str):
    """One schema holds operations, header and faults when the namespaces coincide."""
    old = zeep.Client(f"{ips_server}/scene7/webservice/IpsApi.wsdl")
    formats = old.service.getImageFormats(companyHandle="c|1", _soapheaders={"authHeader": AUTH})
    assert {"test", "thumb"} <= {f["name"] for f in formats}
