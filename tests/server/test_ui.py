"""The web UI over HTTP against a real uvicorn server: sessions, CSRF, authorization parity with
the JSON API, and pages that reference nothing outside the server. (The browser tests are in
test_ui_browser.py.)"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote

import httpx
import pytest

PAGES = ["/ui/playground", "/ui/assets", "/ui/presets", "/ui/jobs"]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def login(ui_server: str, email: str) -> tuple[httpx.Client, str]:
    """A client logged in as ``email`` through the login form, and its CSRF token."""
    client = httpx.Client(base_url=ui_server)
    form = client.get("/ui/login")
    token = CSRF.search(form.text)
    assert token, form.text
    reply = client.post("/ui/login", data={"username": email, "password": "secret",
                                           "csrf": token.group(1), "next": "/ui/jobs"})  # fmt: skip
    assert reply.status_code == 303 and reply.headers["location"] == "/ui/jobs", reply.text
    page = client.get("/ui/jobs")
    found = CSRF.search(page.text)
    assert found, page.text
    return client, found.group(1)


@pytest.mark.parametrize("path", [*PAGES, "/ui/jobs/j%7C1%7C%7Cx%7C1", "/ui/assets?folder=x"])
def test_a_page_without_a_session_redirects_to_login(ui_server: str, path: str) -> None:
    reply = httpx.get(ui_server + path)
    assert reply.status_code == 303
    where, _, query = reply.headers["location"].partition("?")
    assert where == "/ui/login" and parse_qs(query)["next"] == [unquote(path)]


def test_the_api_of_the_ui_answers_401_json_without_a_session(ui_server: str) -> None:
    reply = httpx.get(ui_server + "/ui/api/check", params={"asset": "Acme/shoe", "mods": "wid=1"})
    assert reply.status_code == 401 and "log in" in reply.json()["error"]["message"]


def test_root_redirects_to_login_or_playground(ui_server: str) -> None:
    assert httpx.get(ui_server + "/ui/").headers["location"] == "/ui/login"
    client, _ = login(ui_server, "editor@acme.example")
    assert client.get("/ui/").headers["location"] == "/ui/playground"


def test_the_session_cookie_is_httponly_and_samesite(ui_server: str) -> None:
    cookie = httpx.get(ui_server + "/ui/login").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/ui" in cookie


@pytest.mark.parametrize(
    ("csrf", "status"),
    [("", 403), ("forged.123.abc", 403), ("from-another-session", 403), ("genuine", 303)],
)
def test_every_form_post_checks_the_sessions_csrf_token(
    ui_server: str, csrf: str, status: int
) -> None:
    client, token = login(ui_server, "editor@acme.example")
    if csrf == "from-another-session":
        _, csrf = login(ui_server, "cadmin@acme.example")
    sent = token if csrf == "genuine" else csrf
    reply = client.post("/ui/presets", data={"company": "Acme", "name": "csrfcheck",
                                             "urlModifier": "wid=10", "csrf": sent})  # fmt: skip
    assert reply.status_code == status, reply.text
    if status == 403:
        assert "CSRF" in reply.text


def test_a_forged_login_form_is_refused(ui_server: str) -> None:
    client = httpx.Client(base_url=ui_server)
    client.get("/ui/login")
    reply = client.post("/ui/login", data={"username": "editor@acme.example",
                                           "password": "secret", "csrf": "x"})  # fmt: skip
    assert reply.status_code == 403


def test_a_wrong_password_is_refused_on_the_form(ui_server: str) -> None:
    client = httpx.Client(base_url=ui_server)
    token = CSRF.search(client.get("/ui/login").text)
    assert token
    form = {"username": "editor@acme.example", "password": "wrong", "csrf": token.group(1)}
    reply = client.post("/ui/login", data=form)
    assert reply.status_code == 401 and "Invalid username/password" in reply.text


# A UI action is allowed exactly when the same user's API call is: (user, UI request, API request)
PARITY = [
    ("viewer@acme.example", ("POST", "/ui/jobs", {"company": "Acme", "name": "v",
     "fmt": "orig", "asset": "a|1"}), ("POST", "/companies/Acme/jobs", {"jobName": "v",
     "exportJob": {"assetHandleArray": ["a|1"], "fmt": "orig"}})),
    ("viewer@acme.example", ("POST", "/ui/presets", {"company": "Acme", "name": "p",
     "urlModifier": "wid=1"}), ("POST", "/companies/Acme/image-formats", {"name": "p",
     "urlModifier": "wid=1"})),
    ("outsider@globex.example", ("GET", "/ui/jobs?company=Acme", None),
     ("GET", "/companies/Acme/job-logs", None)),
    ("outsider@globex.example", ("GET", "/ui/presets?company=Acme", None),
     ("GET", "/companies/Acme/image-formats", None)),
    ("editor@acme.example", ("GET", "/ui/presets?company=Acme", None),
     ("GET", "/companies/Acme/image-formats", None)),
    ("contrib@acme.example", ("POST", "/ui/presets", {"company": "Acme", "name": "c",
     "urlModifier": "wid=1"}), ("POST", "/companies/Acme/image-formats", {"name": "c",
     "urlModifier": "wid=1"})),
]  # fmt: skip


@pytest.mark.parametrize(("email", "ui", "api"), PARITY)
def test_ui_actions_are_allowed_exactly_when_the_api_allows_them(
    ui_server: str, email: str, ui: tuple[str, str, dict[str, str] | None],
    api: tuple[str, str, dict[str, object] | None],
) -> None:  # fmt: skip
    client, token = login(ui_server, email)
    method, path, form = ui
    reply = client.request(method, path, data={**form, "csrf": token} if form else None)
    api_reply = httpx.request(api[0], f"{ui_server}/api/ips/v1{api[1]}", json=api[2],
                              auth=(email, "secret"))  # fmt: skip
    ui_allowed = reply.status_code in (200, 303)
    api_allowed = api_reply.status_code < 300
    assert ui_allowed == api_allowed, (reply.status_code, api_reply.status_code, reply.text)
    if not ui_allowed:
        assert reply.status_code == api_reply.status_code == 403


@pytest.mark.parametrize("path", ["/ui/login", *PAGES, "/ui/assets?asset=a|2",
                                  "/ui/presets?edit=thumb"])  # fmt: skip
def test_no_page_references_anything_outside_the_server(ui_server: str, path: str) -> None:
    client = httpx.Client(base_url=ui_server)
    if path != "/ui/login":  # the login page is for a client without a session
        client, _ = login(ui_server, "editor@acme.example")
    html = client.get(path).text
    references = re.findall(r'(?:src|href|action)="([^"]*)"', html)
    references += re.findall(r"url\(([^)]*)\)", html)
    assert references
    outside = [r for r in references if re.match(r"^(?:[a-z]+:)?//", r, re.I)]
    assert not outside, outside
    assert "@import" not in html and "fonts.googleapis" not in html


def test_static_files_reference_nothing_outside_the_server() -> None:
    static = Path(__file__).parents[2] / "src" / "isrender" / "server" / "ui" / "static"
    for file in static.iterdir():
        text = file.read_text("utf-8")
        assert not re.search(r"https?://|@import|url\(\s*['\"]?//", text), file.name


@pytest.mark.parametrize(
    ("mods", "valid", "position", "hint"),
    [
        ("wid=300&hei=200", True, None, None),
        ("wid=300&wdi=3", False, 8, "did you mean 'wid'?"),
        ("qlt=80,2", False, 7, None),
        ("$thumb$&fmt=png", True, None, None),
        ("$nosuch$", False, 0, None),
    ],
)
def test_the_check_endpoint_gives_the_position_and_hint_of_isrender_check(
    ui_server: str, mods: str, valid: bool, position: int | None, hint: str | None
) -> None:
    client, _ = login(ui_server, "editor@acme.example")
    data = client.get("/ui/api/check", params={"asset": "Acme/shoe", "mods": mods}).json()
    assert data["valid"] is valid, data
    if valid:
        assert data["expanded"] and data["plan"] and data["url"].startswith("/is/image/Acme/shoe")
    else:
        assert data["error"]["position"] == position, data
        assert data["error"]["caret"].splitlines()[1].index("^") == position
        if hint:
            assert data["error"]["hint"] == hint


def test_a_scheduled_export_is_paused_resumed_and_deleted_from_its_page(ui_server: str) -> None:
    client, token = login(ui_server, "editor@acme.example")
    reply = client.post("/ui/jobs", data={
        "company": "Acme", "name": "nightly", "fmt": "orig", "asset": "a|1", "email": "None",
        "when": "schedule", "schedule": "0 0 2 * * ?", "csrf": token})  # fmt: skip
    assert reply.status_code == 303, reply.text
    page = reply.headers["location"]
    assert "(Normal)" in client.get(page).text
    for action, shown in (("pause", "(Paused)"), ("resume", "(Normal)")):
        assert client.post(f"{page}/{action}", data={"csrf": token}).status_code == 303
        assert shown in client.get(page).text
    assert client.post(f"{page}/delete", data={"csrf": token}).status_code == 303
    assert 'id="job-controls"' not in client.get(page).text  # nothing left to control
    assert client.post(f"{page}/explode", data={"csrf": token}).status_code == 400


@pytest.mark.parametrize(
    ("form", "message"),
    [({"fmt": "convert"}, "is_modifier or macro required"),
     ({"fmt": "orig", "name": ""}, "jobName is required"),
     ({"fmt": "orig", "when": "schedule", "schedule": "every day"}, "execSchedule"),
     ({"fmt": "orig", "when": "at", "at": "tomorrow"}, "execTime")],
)  # fmt: skip
def test_a_refused_export_shows_the_api_fault_on_the_form(
    ui_server: str, form: dict[str, str], message: str
) -> None:
    client, token = login(ui_server, "editor@acme.example")
    data = {"company": "Acme", "name": "x", "asset": "a|1", "csrf": token, **form}
    reply = client.post("/ui/jobs", data=data)
    assert reply.status_code == 400 and message in reply.text, reply.text


def test_the_log_table_filters_by_type_and_pages(ui_server: str) -> None:
    client, token = login(ui_server, "editor@acme.example")
    reply = client.post("/ui/jobs", data={"company": "Acme", "name": "log", "fmt": "orig",
                                          "asset": ["a|1", "a|2"], "csrf": token})  # fmt: skip
    page = reply.headers["location"]
    deadline = time.monotonic() + 20
    while "Done" not in client.get(page).text and time.monotonic() < deadline:
        time.sleep(0.2)
    everything = client.get(page).text
    assert "ExportSuccess" in everything and "BeginExport" in everything
    only = client.get(page, params={"type": "ExportSuccess"}).text
    table = only.split('id="log"')[1]
    assert table.count('<td class="nowrap">ExportSuccess</td>') == 2
    assert "BeginExport</td>" not in table
    assert "Page 1 of 1 (2 entries)" in only
    live = client.get("/ui/api/jobs/" + page.rsplit("/", 1)[1], params={"type": "ExportSuccess"})
    assert live.json()["detailTotalRows"] == 2 and live.json()["final"] is True
