"""The IPS JSON API (/api/ips/v1) against a real uvicorn server on 127.0.0.1 (issue 6).

Runs on the §6.1 fixture: Acme (c|1) with its users (password ``secret``) and assets, Globex
with ``#201``.
"""

from __future__ import annotations

import io
import time
import zipfile
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from isrender.server import create_app
from tests.catalog_fixture import Fixture
from tests.http_server import running

API = "/api/ips/v1"


@pytest.fixture(scope="module")
def base(ips_server: str) -> str:
    return ips_server + API


def auth(alias: str, password: str = "secret") -> httpx.BasicAuth:
    emails = {"editor": "editor@acme.example", "viewer": "viewer@acme.example",
              "outsider": "outsider@globex.example", "cadmin": "cadmin@acme.example",
              "contrib": "contrib@acme.example"}  # fmt: skip
    return httpx.BasicAuth(emails[alias], password)


def submit(base: str, who: str, assets: list[str], **export: Any) -> httpx.Response:
    body = {"jobName": "api-export", "exportJob": {"assetHandleArray": assets, **export}}
    return httpx.post(f"{base}/companies/{quote('c|1', safe='')}/jobs", json=body, auth=auth(who))


def wait_done(base: str, location: str, who: str = "editor") -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        view: dict[str, Any] = httpx.get(base.removesuffix(API) + location, auth=auth(who)).json()
        if view["state"] == "Done":
            return view
        time.sleep(0.1)
    raise AssertionError("the job did not finish")


def test_submit_poll_and_download_the_zip(base: str, fx: Fixture):
    reply = submit(base, "editor", [fx.handle("#101"), fx.handle("#103")], fmt="convert",
                   is_modifier="&fmt=png", macro="$test$")  # fmt: skip
    assert reply.status_code == 202, reply.text
    handle = reply.json()["jobHandle"]
    location = reply.headers["location"]
    assert location.endswith(quote(handle, safe=""))
    view = wait_done(base, location)
    assert view["outcome"] == "Succeeded" and view["fileSuccessCount"] == 2
    outputs = httpx.get(f"{base.removesuffix(API)}{location}/outputs", auth=auth("editor")).json()
    assert sorted(o["path"] for o in outputs) == [
        "products/SHOE.tiff",
        "products/fileToExport.tiff",
    ]
    package = httpx.get(f"{base.removesuffix(API)}{location}/outputs.zip", auth=auth("editor"))
    assert package.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(package.content)).namelist()
    assert "products/fileToExport.tiff" in names and "manifest.json" in names
    one = outputs[0]
    full = httpx.get(base.removesuffix(API) + one["url"], auth=auth("editor"))
    assert len(full.content) == one["bytes"]
    part = httpx.get(base.removesuffix(API) + one["url"], auth=auth("editor"),
                     headers={"Range": "bytes=0-9"})  # fmt: skip
    assert part.status_code == 206 and part.content == full.content[:10]
    signed = httpx.get(base.removesuffix(API) + one["downloadUrl"])  # no credentials needed
    assert signed.status_code == 200 and signed.content == full.content
    link = one["downloadUrl"]
    forged = httpx.get(base.removesuffix(API) + link[:-1] + ("1" if link[-1] == "0" else "0"))
    assert forged.status_code == 403


def test_expired_download_link_answers_410(fx: Fixture):
    from isrender.server.tokens import Signer

    settings = fx.catalog.settings.model_copy(update=dict(secret_key="shared-key"))
    expired, _ = Signer("shared-key").issue("output:1:products/x.tiff", -1)
    with running(create_app(settings, fx.catalog)) as url:
        reply = httpx.get(f"{url}{API}/downloads/{expired}")
    assert reply.status_code == 410 and "expired" in reply.text


def test_job_logs_are_paged(base: str, fx: Fixture):
    reply = submit(base, "editor", [fx.handle("#101"), "a|999999", fx.handle("#106")], fmt="orig")
    view = wait_done(base, reply.headers["location"])
    assert view["outcome"] == "PartiallyFailed"
    handle = quote(reply.json()["jobHandle"], safe="")
    logs = httpx.get(f"{base}/companies/c%7C1/job-logs/{handle}", auth=auth("editor"),
                     params={"recordsPerPage": 2, "resultsPage": 1}).json()  # fmt: skip
    assert len(logs["details"]) == 2 and logs["detailTotalRows"] >= 4
    errors = httpx.get(f"{base}/companies/c%7C1/job-logs/{handle}", auth=auth("editor"),
                       params={"logType": ["ExportError"]}).json()  # fmt: skip
    assert {e["assetHandle"] for e in errors["details"]} >= {"a|999999", fx.handle("#106")}
    assert all("code" in e for e in errors["details"])


@pytest.mark.parametrize(
    ("who", "password", "company", "status", "code"),
    [
        ("editor", "wrong", "c|1", 401, 10001),  # wrong password
        ("viewer", "secret", "c|1", 403, 20003),  # portal user may not submit
        ("outsider", "secret", "c|1", 403, 20006),  # not a member of Acme
        ("editor", "secret", "c|999", 403, 20000),  # no such company
    ],
)
def test_submit_authorization_faults(base: str, fx: Fixture, who: str, password: str,
                                     company: str, status: int, code: int):  # fmt: skip
    body = {"jobName": "x", "exportJob": {"assetHandleArray": [fx.handle("#101")], "fmt": "orig"}}
    url = f"{base}/companies/{quote(company, safe='')}/jobs"
    reply = httpx.post(url, json=body, auth=auth(who, password))
    assert reply.status_code == status
    fault = reply.json()["fault"]
    assert fault["code"] == code and fault["name"] and fault["reason"]
    if status == 401:
        assert reply.headers["www-authenticate"] == 'Basic realm="IPS"'


def test_other_companys_asset_is_a_per_file_error(base: str, fx: Fixture):
    reply = submit(base, "editor", [fx.handle("#201")], fmt="orig")
    assert reply.status_code == 202
    view = wait_done(base, reply.headers["location"])
    assert view["outcome"] == "Failed" and view["fileErrorCount"] == 1


def test_no_credentials_bad_parameters_and_unknown_jobs(base: str, fx: Fixture):
    none = httpx.get(f"{base}/companies/c%7C1/jobs/active")
    assert none.status_code == 401 and none.json()["fault"]["code"] == 10000
    bad = submit(base, "editor", [fx.handle("#101")], fmt="convert", is_modifier="&fmt=m3u8")
    assert bad.status_code == 400 and bad.json()["fault"]["code"] == 30001
    no_fmt = submit(base, "editor", [fx.handle("#101")])
    assert no_fmt.json()["fault"] == {
        "type": "ipsApiFault", "code": 30002, "name": "IPS_API_FAULT_CODE_MISSING_PARAMETER",
        "reason": "exportJob/fmt is required", "parameter": "exportJob/fmt",
    }  # fmt: skip
    missing = httpx.get(f"{base}/companies/c%7C1/jobs/j%7C1%7C%7Cnope%7C99999", auth=auth("editor"))
    assert missing.status_code == 404 and missing.json()["fault"]["code"] == 30001
    stop = httpx.post(f"{base}/companies/c%7C1/jobs/j%7C1%7C%7Cnope%7C99999/stop",
                      auth=auth("editor"))  # fmt: skip
    assert stop.status_code == 404


def test_bearer_token_and_job_control(base: str, fx: Fixture):
    token = httpx.post(f"{base}/tokens", auth=auth("editor")).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    body = {"jobName": "nightly", "execSchedule": "0 0 2 * * ?",
            "exportJob": {"assetHandleArray": [fx.handle("#101")], "fmt": "orig"}}  # fmt: skip
    reply = httpx.post(f"{base}/companies/c%7C1/jobs", json=body, headers=bearer)
    assert reply.status_code == 202, reply.text
    handle = reply.json()["jobHandle"]
    assert isinstance(httpx.get(f"{base}/jobs/active", headers=bearer).json(), list)
    scheduled = httpx.get(f"{base}/companies/c%7C1/jobs/scheduled", headers=bearer).json()
    assert handle in [j["jobHandle"] for j in scheduled]
    url = f"{base}/companies/c%7C1/jobs/{quote(handle, safe='')}"
    assert httpx.post(f"{url}/pause", headers=bearer).status_code == 204
    assert httpx.get(url, headers=bearer).json()["triggerState"] == "Paused"
    assert httpx.delete(url, headers=bearer).status_code == 204
    forged = {"Authorization": f"Bearer {token[:-1]}{'1' if token[-1] == '0' else '0'}"}
    assert httpx.get(url, headers=forged).json()["fault"]["code"] == 10001


def test_image_formats_and_openapi(base: str, fx: Fixture):
    formats = httpx.get(f"{base}/companies/c%7C1/image-formats", auth=auth("editor")).json()
    assert {"test", "thumb"} <= {f["name"] for f in formats}
    saved = httpx.post(f"{base}/companies/c%7C1/image-formats", auth=auth("editor"),
                       json={"name": "hero", "urlModifier": "wid=1600&fmt=webp"})  # fmt: skip
    assert saved.status_code == 200
    assert saved.json()["imageFormatHandle"].startswith(f"if|{fx.acme}|")
    invalid = httpx.post(f"{base}/companies/c%7C1/image-formats", auth=auth("editor"),
                         json={"name": "bad", "urlModifier": "wid=300&$$"})  # fmt: skip
    assert invalid.status_code == 400 and invalid.json()["fault"]["code"] == 30001
    handle = quote(saved.json()["imageFormatHandle"], safe="")
    updated = httpx.put(f"{base}/companies/c%7C1/image-formats/{handle}", auth=auth("editor"),
                        json={"urlModifier": "wid=1200&fmt=webp"})  # fmt: skip
    assert updated.json() == saved.json()
    names = {f["name"]: f for f in httpx.get(f"{base}/companies/c%7C1/image-formats",
                                             auth=auth("editor")).json()}  # fmt: skip
    assert names["hero"]["urlModifier"] == "wid=1200&fmt=webp"
    gone = httpx.delete(f"{base}/companies/c%7C1/image-formats/hero", auth=auth("editor"))
    assert gone.status_code == 204
    again = httpx.delete(f"{base}/companies/c%7C1/image-formats/hero", auth=auth("editor"))
    assert again.status_code == 400 and again.json()["fault"]["code"] == 30001
    viewer = httpx.post(f"{base}/companies/c%7C1/image-formats", auth=auth("viewer"),
                        json={"name": "v", "urlModifier": "wid=1"})  # fmt: skip
    assert viewer.status_code == 403 and viewer.json()["fault"]["code"] == 20003
    schema = httpx.get(f"{base}/openapi.json").json()
    assert f"{API}/companies/{{company}}/jobs" in schema["paths"]
    assert httpx.get(f"{base}/docs").status_code == 200


@pytest.mark.parametrize(
    ("written", "status"),
    [
        ("if|{acme}|{id}", 200),  # the handle getImageFormats emits (catalog/handles.py)
        ("edge", 200),  # the preset's name
        ("f|{id}", 400),  # the old form: a folder handle's syntax names no preset
        ("if|{globex}|{id}", 400),  # another company's handle names nothing here
        ("if|{acme}|{id}|x", 400),  # not a handle
        ("if|{acme}", 400),
    ],
)
def test_an_image_format_is_named_by_its_handle_or_its_name(
    base: str, fx: Fixture, written: str, status: int
):
    url = f"{base}/companies/c%7C1/image-formats"
    saved = httpx.post(url, auth=auth("editor"), json={"name": "edge", "urlModifier": "wid=10"})
    handle = saved.json()["imageFormatHandle"]
    preset_id = int(handle.rpartition("|")[2])
    assert handle == f"if|{fx.acme}|{preset_id}"
    listed = httpx.get(url, auth=auth("editor")).json()
    assert {"imageFormatHandle": handle, "name": "edge", "urlModifier": "wid=10"} in listed
    named = quote(written.format(acme=fx.acme, globex=fx.globex, id=preset_id), safe="")
    reply = httpx.put(f"{url}/{named}", auth=auth("editor"), json={"urlModifier": "wid=20"})
    assert reply.status_code == status, reply.text
    if status == 200:
        assert reply.json() == {"imageFormatHandle": handle}
    else:
        assert reply.json()["fault"]["code"] == 30001
    body = {"companyHandle": "c|1", "imageFormatHandle": handle}
    deleted = httpx.post(f"{base}/ops/deleteImageFormat", json=body, auth=auth("editor"))
    assert deleted.status_code == 200 and deleted.json() == {}
    assert "edge" not in {f["name"] for f in httpx.get(url, auth=auth("editor")).json()}


def test_multipart_upload_then_serve_the_image(base: str, fx: Fixture, tmp_path):
    from tests.render_fixtures import gradient

    gradient(320, 200).write_to_file(str(tmp_path / "banner.png"))
    files = [("files", ("banner.png", (tmp_path / "banner.png").read_bytes(), "image/png"))]
    params = {"uploadParams": '{"jobName": "api-upload", "destFolder": "web"}'}
    reply = httpx.post(f"{base}/companies/c%7C1/uploads", auth=auth("editor"), files=files,
                       data=params)  # fmt: skip
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["state"] == "Done" and body["fileSuccessCount"] == 1 and body["assetHandles"]
    image = httpx.get(f"{base.removesuffix(API)}/is/image/Acme/web/banner?wid=160&fmt=png")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    viewer = httpx.post(f"{base}/companies/c%7C1/uploads", auth=auth("viewer"), files=files)
    assert viewer.status_code == 403 and viewer.json()["fault"]["code"] == 20003
    bad = httpx.post(f"{base}/companies/c%7C1/uploads", auth=auth("editor"), files=files,
                     data={"uploadParams": "{nope"})  # fmt: skip
    assert bad.status_code == 400 and bad.json()["fault"]["code"] == 30003


def test_idempotency_key_returns_the_first_job(base: str, fx: Fixture):
    body = {"jobName": "once", "exportJob": {"assetHandleArray": [fx.handle("#101")],
                                             "fmt": "orig"}}  # fmt: skip
    url = f"{base}/companies/c%7C1/jobs"
    key = {"Idempotency-Key": "k-123"}
    first = httpx.post(url, json=body, auth=auth("editor"), headers=key)
    again = httpx.post(url, json=body, auth=auth("editor"), headers=key)
    assert first.status_code == again.status_code == 202
    assert first.json()["jobHandle"] == again.json()["jobHandle"]
    other = httpx.post(url, json={**body, "jobName": "twice"}, auth=auth("editor"), headers=key)
    assert other.status_code == 400 and "Idempotency-Key" in other.json()["fault"]["reason"]
    fresh = httpx.post(url, json=body, auth=auth("editor"))
    assert fresh.json()["jobHandle"] != first.json()["jobHandle"]
    wait_done(base, first.headers["location"])
    wait_done(base, fresh.headers["location"])


def test_job_logs_list_and_asset_job_logs(base: str, fx: Fixture):
    reply = submit(base, "editor", [fx.handle("#102")], fmt="orig")
    wait_done(base, reply.headers["location"])
    handle = reply.json()["jobHandle"]
    logs = httpx.get(f"{base}/companies/c%7C1/job-logs", auth=auth("editor"),
                     params={"numRows": 1, "sortDirection": "Descending"}).json()  # fmt: skip
    assert [j["jobHandle"] for j in logs] == [handle]
    editor_id = fx.users["editor"]
    mine = httpx.get(f"{base}/companies/c%7C1/job-logs", auth=auth("editor"),
                     params={"userHandle": f"u|{editor_id}|"}).json()  # fmt: skip
    assert mine and all(j["submitUserHandle"] == f"u|{editor_id}|" for j in mine)
    asset = quote(fx.handle("#102"), safe="")
    entries = httpx.get(f"{base}/companies/c%7C1/assets/{asset}/job-logs",
                        auth=auth("editor")).json()  # fmt: skip
    assert any(e["jobHandle"] == handle and e["logType"] == "ExportSuccess" for e in entries)
    bad = httpx.get(f"{base}/companies/c%7C1/job-logs", auth=auth("editor"),
                    params={"sortDirection": "sideways"})  # fmt: skip
    assert bad.status_code == 400 and bad.json()["fault"]["code"] == 30001
    assert bad.json()["fault"]["parameter"] == "sortDirection"
    by_errors = httpx.get(f"{base}/companies/c%7C1/job-logs", auth=auth("editor"),
                          params={"sortBy": "FileErrorCount"}).json()  # fmt: skip
    counts = [j["fileErrorCount"] for j in by_errors]
    assert counts == sorted(counts, reverse=True)
    too_many = httpx.get(f"{base}/companies/c%7C1/job-logs", auth=auth("editor"),
                         params={"numRows": 1001})  # fmt: skip
    assert too_many.status_code == 400 and too_many.json()["fault"]["parameter"] == "numRows"


@pytest.mark.parametrize(
    ("who", "target", "code"),
    [
        ("editor", "cadmin", 20004),  # only admins may submit for another user
        ("cadmin", "outsider", 20007),  # the target is not a member of Acme
    ],
)
def test_submit_on_behalf_faults(base: str, fx: Fixture, who: str, target: str, code: int):
    """§1.4.4 (3): the userHandle target must be a member, and only admins may name one."""
    body = {"jobName": "x", "userHandle": f"u|{fx.users[target]}|",
            "exportJob": {"assetHandleArray": [fx.handle("#101")], "fmt": "orig"}}  # fmt: skip
    reply = httpx.post(f"{base}/companies/c%7C1/jobs", json=body, auth=auth(who))
    assert reply.status_code == 403 and reply.json()["fault"]["code"] == code


def test_read_permission_is_checked_per_file(base: str, fx: Fixture):
    """§1.4.4 (5): a portal contributor reads Acme/public/ only; the rest are per-file 20009."""
    reply = submit(base, "contrib", [fx.handle("#111"), fx.handle("#101")], fmt="orig")
    assert reply.status_code == 202, reply.text
    view = wait_done(base, reply.headers["location"], who="contrib")
    assert view["fileSuccessCount"] == 1 and view["fileErrorCount"] == 1
    handle = quote(reply.json()["jobHandle"], safe="")
    errors = httpx.get(f"{base}/companies/c%7C1/job-logs/{handle}", auth=auth("contrib"),
                       params={"logType": "ExportError"}).json()["details"]  # fmt: skip
    assert [(e["assetHandle"], e["code"]) for e in errors] == [(fx.handle("#101"), 20009)]


def test_canonical_rpc_form(base: str, fx: Fixture):
    """POST /ops/{operationName} with the JSON form of <op>Param (§5.3): wrapped arrays and
    nulls accepted on input; the same handlers as the resource aliases."""
    ops = f"{base}/ops"
    wrapped = {"items": [fx.handle("#101")]}
    body = {"companyHandle": "c|1", "jobName": "rpc", "description": None,
            "exportJob": {"assetHandleArray": wrapped, "fmt": "orig"}}  # fmt: skip
    handle = httpx.post(f"{ops}/submitJob", json=body, auth=auth("editor")).json()["jobHandle"]
    wait_done(base, f"{API}/companies/c%7C1/jobs/{quote(handle, safe='')}")
    details = httpx.post(f"{ops}/getJobLogDetails", auth=auth("editor"), json={
        "companyHandle": "c|1", "jobHandle": handle, "logTypeArray": {"items": ["ExportSuccess"]},
    }).json()["jobLogArray"]  # fmt: skip
    assert [d["logType"] for d in details[0]["details"]] == ["ExportSuccess"]
    logs = httpx.post(f"{ops}/getJobLogs", json={"companyHandle": "c|1", "numRows": 1},
                      auth=auth("editor")).json()  # fmt: skip
    assert logs["jobLogArray"][0]["jobHandle"] == handle
    active = httpx.post(f"{ops}/getActiveJobs", json={}, auth=auth("editor")).json()
    assert "jobArray" in active
    formats = httpx.post(f"{ops}/getImageFormats", json={"companyHandle": "c|1"},
                         auth=auth("editor")).json()["imageFormatArray"]  # fmt: skip
    assert "test" in {f["name"] for f in formats}
    stop = httpx.post(f"{ops}/stopJob", json={"companyHandle": "c|1", "jobHandle": "j|1||x|99999"},
                      auth=auth("editor"))  # fmt: skip
    assert stop.status_code == 404 and stop.json()["fault"]["code"] == 30001
    missing = httpx.post(f"{ops}/stopJob", json={"companyHandle": "c|1"}, auth=auth("editor"))
    assert missing.json()["fault"] == {
        "type": "ipsApiFault", "code": 30002, "name": "IPS_API_FAULT_CODE_MISSING_PARAMETER",
        "reason": "jobHandle is required", "parameter": "jobHandle",
    }  # fmt: skip
    unknown = httpx.post(f"{ops}/addCompany", json={}, auth=auth("editor"))
    assert unknown.status_code == 500 and unknown.json()["fault"]["code"] == 30000
    assert "submitJob" in unknown.json()["fault"]["reason"]


@pytest.mark.parametrize(
    ("header", "locale"), [("de-DE,de;q=0.9", "de-DE"), ("fr", "fr"), ("*", ""), (None, "")]
)
def test_accept_language_selects_the_locale(fx: Fixture, header: str | None, locale: str):
    from isrender.server.api.views import with_locale

    assert with_locale({}, header).get("locale", "") == locale
    assert with_locale({"locale": "ja-JP"}, header)["locale"] == "ja-JP"  # the body wins


def test_accept_language_reaches_the_job(base: str, fx: Fixture):
    body = {"jobName": "localized", "exportJob": {"assetHandleArray": [fx.handle("#101")],
                                                  "fmt": "orig"}}  # fmt: skip
    reply = httpx.post(f"{base}/companies/c%7C1/jobs", json=body, auth=auth("editor"),
                       headers={"Accept-Language": "de-DE,de;q=0.9"})  # fmt: skip
    view = wait_done(base, reply.headers["location"])
    assert view["locale"] == "de-DE"
