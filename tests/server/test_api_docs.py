"""API docs offline and the typed OpenAPI document, against a real uvicorn server: the docs
pages and every asset they reference come from this server, nothing names another host, the
document declares Basic and bearer security and typed bodies, and real replies fit them."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from pydantic import BaseModel, TypeAdapter

from isrender.server.api import models as m
from isrender.server.api.openapi import PUBLIC, REQUEST_BODIES, RESPONSES
from isrender.server.apidocs import ASSETS_DIR
from tests.catalog_fixture import Fixture

API = "/api/ips/v1"
EDITOR = httpx.BasicAuth("editor@acme.example", "secret")
PAGES = (f"{API}/docs", f"{API}/redoc")
URL = re.compile(r"""https?://[^\s"'<>)]+""")


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [v for k, v in attrs if k in ("src", "href", "spec-url") and v]


def references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.found


def other_hosts(text: str, base: str) -> list[str]:
    return [u for u in URL.findall(text) if urlsplit(u).netloc != urlsplit(base).netloc]


# ---- offline docs ------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_docs_page_and_every_asset_are_local(ips_server: str, page: str):
    reply = httpx.get(ips_server + page)
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/html")
    policy = reply.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "http" not in policy  # no other host allowed
    assert other_hosts(reply.text, ips_server) == []
    assets = references(reply.text)
    assert any(a.endswith(".js") for a in assets)
    for ref in assets:
        url = urljoin(ips_server + page, ref)
        assert urlsplit(url).netloc == urlsplit(ips_server).netloc, ref
        asset = httpx.get(url)
        assert asset.status_code == 200, ref
        if url.endswith("-init.js"):  # our own code
            assert other_hosts(asset.text, ips_server) == [], ref
        if url.endswith(".css"):  # what a stylesheet fetches: inline data only
            css = re.findall(r"url\(\s*['\"]?([^'\")]+)", asset.text)
            assert css and all(u.startswith("data:") for u in css), ref


def test_vendored_files_match_their_pinned_sums():
    note = (ASSETS_DIR / "VERSION").read_text()
    sums = re.findall(r"^([0-9a-f]{64})  (\S+)$", note, re.MULTILINE)
    assert len(sums) >= 9
    for digest, name in sums:
        assert hashlib.sha256((ASSETS_DIR / name).read_bytes()).hexdigest() == digest, name
    for licence in ("swagger-ui-dist/LICENSE", "swagger-ui-dist/NOTICE", "redoc/LICENSE"):
        assert (ASSETS_DIR / licence).is_file()


@pytest.mark.parametrize(
    ("asset", "status"),
    [("swagger-ui-dist/swagger-ui.css", 200), ("../ops.py", 404), ("swagger.html", 404),
     ("redoc/nope.js", 404), ("%2e%2e/%2e%2e/config.py", 404)],
)  # fmt: skip
def test_only_vendored_assets_are_served(ips_server: str, asset: str, status: int):
    reply = httpx.get(f"{ips_server}{API}/docs-assets/{asset}")
    assert reply.status_code == status


@pytest.mark.parametrize(("page", "rendered"), [(PAGES[0], "opblock"), (PAGES[1], "submitJob")])
def test_docs_render_in_a_browser_without_network(ips_server: str, page: str, rendered: str):
    """Headless Chromium, every host but 127.0.0.1 unresolvable: the page still renders."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        from tests.services import service_absent

        service_absent("chromium is not installed")
    assert browser is not None
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
               "--virtual-time-budget=15000", "--host-resolver-rules=MAP * ~NOTFOUND, "
               "EXCLUDE 127.0.0.1", ips_server + page]  # fmt: skip
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120).stdout
    assert rendered in dom


# ---- the OpenAPI document ----------------------------------------------------------------


@pytest.fixture(scope="module")
def document(ips_server: str) -> dict[str, Any]:
    schema: dict[str, Any] = httpx.get(f"{ips_server}{API}/openapi.json").json()
    return schema


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in document["paths"].items()
            for method, op in item.items() if path.startswith(API)]  # fmt: skip


def test_security_schemes(document: dict[str, Any]):
    schemes = document["components"]["securitySchemes"]
    assert schemes["basicAuth"] == {**schemes["basicAuth"], "type": "http", "scheme": "basic"}
    assert schemes["bearerAuth"]["scheme"] == "bearer"


def test_every_json_operation_is_typed(document: dict[str, Any]):
    for method, path, op in operations(document):
        if "requestBody" in op:
            content = op["requestBody"]["content"]
            schema = next(iter(content.values()))["schema"]
            assert "$ref" in schema or "oneOf" in schema or "multipart/form-data" in content, path
            assert (method, path) in REQUEST_BODIES or "multipart/form-data" in content, path
        ok = [code for code in op["responses"] if code.startswith("2")]
        assert ok, path
        if ok != ["204"]:
            assert (method, path) in RESPONSES, f"{method} {path} has no typed reply"
    submit = document["paths"][f"{API}/companies/{{company}}/jobs"]["post"]
    body = submit["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/SubmitJobBody"}
    export = document["components"]["schemas"]["ExportJob"]
    assert export["properties"]["fmt"]["enum"] == ["orig", "convert"]


def test_secured_operations_refuse_no_credentials(ips_server: str, document: dict[str, Any]):
    for method, path, op in operations(document):
        url = ips_server + re.sub(r"\{[^}]+\}", "x", path)
        reply = httpx.request(method.upper(), url, json={} if "requestBody" in op else None)
        if (method, path) in PUBLIC:
            assert "security" not in op and reply.status_code != 401, path
        else:
            assert op["security"] == [{"basicAuth": []}, {"bearerAuth": []}], path
            assert reply.status_code == 401 and reply.json()["fault"]["code"] == 10000, path


# ---- real replies fit the models ---------------------------------------------------------


def fits(model: Any, data: Any) -> None:
    TypeAdapter(model).validate_python(data, strict=False)


def test_replies_validate_against_the_models(ips_server: str, fx: Fixture):
    base, c = ips_server + API, f"{ips_server}{API}/companies/c%7C1"
    fits(m.Token, httpx.post(f"{base}/tokens", auth=EDITOR).json())
    body = {"jobName": "typed", "exportJob": {"assetHandleArray": [fx.handle("#101"), "a|999999"],
                                              "fmt": "orig"}}  # fmt: skip
    submitted = httpx.post(f"{c}/jobs", json=body, auth=EDITOR)
    fits(m.SubmitJobReturn, submitted.json())
    handle = submitted.json()["jobHandle"].replace("|", "%7C")
    deadline = time.monotonic() + 60
    while (view := httpx.get(f"{c}/jobs/{handle}", auth=EDITOR).json())["state"] != "Done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    fits(m.JobView, view)
    replies: list[tuple[Any, str]] = [
        (m.JobLogDetails, f"{c}/job-logs/{handle}"), (list[m.JobView], f"{c}/job-logs"),
        (list[m.OutputFile], f"{c}/jobs/{handle}/outputs"),
        (list[m.ImageFormat], f"{c}/image-formats"),
        (list[m.AssetJobLog], f"{c}/assets/{fx.handle('#101').replace('|', '%7C')}/job-logs"),
        (list[m.JobView], f"{c}/jobs/active"), (m.FaultReply, f"{c}/jobs/j%7C1%7C%7Cno%7C99999"),
    ]  # fmt: skip
    for model, url in replies:
        fits(model, httpx.get(url, auth=EDITOR).json())
    for operation, (param, answer) in m.OPERATIONS.items():
        if answer is m.EmptyReturn or operation == "submitJob":
            continue
        args = {
            "companyHandle": "c|1",
            "jobHandle": submitted.json()["jobHandle"],
            "assetHandle": fx.handle("#101"),
            "name": "typed",
            "urlModifier": "wid=10",
        }
        sent = {k: v for k, v in args.items() if k in param.model_fields}
        reply = httpx.post(f"{base}/ops/{operation}", json=sent, auth=EDITOR)
        assert reply.status_code == 200, (operation, reply.text)
        fits(answer, reply.json())


def test_models_refuse_unknown_fields():
    with pytest.raises(ValueError):
        m.JobView.model_validate({"jobHandle": "j|1||x|1", "surprise": 1})
    assert issubclass(m.JobView, BaseModel)
