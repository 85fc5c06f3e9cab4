"""The web UI in a real headless Chromium (the system package; Playwright drives it) against a
real uvicorn server. Screenshots of every page at 375 and 1440 px go to ``ui-screenshots/``.

Without /usr/bin/chromium (or Playwright) the module skips with a message; with CI=true it fails.
"""

from __future__ import annotations

import base64
import io
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.catalog_fixture import Fixture
from tests.services import service_absent

CHROMIUM = os.environ.get("ISRENDER_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]  # fmt: skip
SHOTS = Path(__file__).resolve().parents[2] / "ui-screenshots"
WIDTHS = (375, 1440)
WAIT = 15_000  # ms: the longest any step may take (an export of one file included)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        service_absent(f"{CHROMIUM} is absent: apt-get install chromium for the browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_absent("playwright is not installed: pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        # launch() gives every run a fresh, throwaway user-data directory
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def session_state(browser: Any, ui_server: str) -> Any:
    """The cookies of one login through the form (password hashing is slow on purpose, so the
    other tests reuse this session instead of logging in again)."""
    context = browser.new_context(base_url=ui_server)
    tab = context.new_page()
    log_in(tab, "editor@acme.example")
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture()
def page(browser: Any, ui_server: str, session_state: Any) -> Iterator[Any]:
    """A logged-in page (editor of Acme) in its own browser context, 1440 px wide."""
    context = browser.new_context(base_url=ui_server, viewport={"width": 1440, "height": 900},
                                  storage_state=session_state)  # fmt: skip
    context.set_default_timeout(WAIT)
    yield context.new_page()
    context.close()


def log_in(tab: Any, email: str) -> None:
    tab.goto("/ui/login")
    tab.get_by_label("Username (e-mail)").fill(email)
    tab.get_by_label("Password").fill("secret")
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url(re.compile(r"/ui/playground"))


def test_log_in_from_a_redirect_and_land_where_asked(browser: Any, ui_server: str) -> None:
    context = browser.new_context(base_url=ui_server)
    tab = context.new_page()
    tab.goto("/ui/assets?folder=products/")
    assert "/ui/login?next=" in tab.url
    tab.get_by_label("Password").fill("wrong")
    tab.get_by_label("Username (e-mail)").fill("editor@acme.example")
    tab.get_by_role("button", name="Log in").click()
    assert "Invalid username/password" in tab.locator("#login-error").inner_text()
    tab.get_by_label("Password").fill("secret")
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url(re.compile(r"/ui/assets\?folder=products/$"))
    cookie = next(c for c in context.cookies() if c["name"] == "isrender_ui")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    context.close()


def preview_size(tab: Any) -> tuple[int, int]:
    size = tab.evaluate("() => [preview.naturalWidth, preview.naturalHeight]")
    return int(size[0]), int(size[1])


@pytest.mark.parametrize(
    ("mods", "size"),
    [("wid=300", (300, 225)), ("hei=90&fmt=png", (120, 90)), ("scl=10", (200, 150)),
     ("$thumb$", (200, 200))],
)  # fmt: skip
def test_typing_a_string_updates_the_preview_to_its_size(
    page: Any, mods: str, size: tuple[int, int]
) -> None:
    page.goto("/ui/playground?asset=Acme/shoe&mods=")
    page.locator("#mods").press_sequentially(mods, delay=0)
    page.wait_for_function(
        "([w, h]) => preview.complete && preview.naturalWidth === w && preview.naturalHeight === h",
        arg=list(size),
    )
    assert preview_size(page) == size
    assert page.locator("#stat-size").inner_text() == f"{size[0]} x {size[1]}"
    page.wait_for_function("() => document.getElementById('stat-bytes').textContent !== '–'")
    assert page.locator("#final-url").input_value().endswith(f"/is/image/Acme/shoe?{mods}")
    assert "mods=" in page.url  # the state is in the address bar, to share it


@pytest.mark.parametrize(
    ("mods", "column", "message"),
    [("wid=300&wdi=3", 8, "did you mean 'wid'?"), ("wid=300&qlt=80,2", 15, "qlt"),
     ("fmt=png&$nosuch$", 8, "nosuch")],
)  # fmt: skip
def test_a_mistake_shows_the_caret_under_the_character_and_the_hint(
    page: Any, mods: str, column: int, message: str
) -> None:
    page.goto("/ui/playground?asset=Acme/shoe&mods=wid=300")
    page.locator("#mods").fill("")
    page.locator("#mods").press_sequentially(mods, delay=0)
    caret = page.locator("#error-caret")
    caret.wait_for()
    source, marks = caret.inner_text().split("\n")[:2]
    assert source == mods and marks.index("^") == column
    assert message in page.locator("#verdict").inner_text()
    assert page.locator("#mods").get_attribute("aria-invalid") == "true"


def test_the_server_rendered_playground_works_without_script(
    browser: Any, ui_server: str, session_state: Any
) -> None:
    context = browser.new_context(base_url=ui_server, java_script_enabled=False,
                                  storage_state=session_state)  # fmt: skip
    tab = context.new_page()
    tab.goto("/ui/playground?asset=Acme/shoe&mods=wid=240")
    assert tab.locator("#preview").get_attribute("src") == "/is/image/Acme/shoe?wid=240"
    tab.wait_for_load_state("load")
    assert tab.evaluate("() => preview.naturalWidth") == 240  # the <img> loads without script
    tab.goto("/ui/playground?asset=Acme/shoe&mods=wdi=3")
    assert "did you mean 'wid'?" in tab.locator("#verdict").inner_text()
    context.close()


def jpeg_bytes() -> bytes:
    from tests.render_fixtures import gradient

    data: bytes = gradient(320, 200).write_to_buffer(".jpg")
    return data


def test_upload_by_drag_and_drop_shows_progress_the_log_and_the_thumbnail(page: Any) -> None:
    page.goto("/ui/assets?company=Acme&folder=products/")
    payload = base64.b64encode(jpeg_bytes()).decode()
    page.evaluate(
        """(payload) => {
            const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "dropped.jpg", { type: "image/jpeg" }));
            const zone = document.getElementById("drop");
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true,
                                                         cancelable: true }));
            }
        }""",
        payload,
    )
    cell = page.locator("#grid li.cell", has_text="dropped")
    cell.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#grid img')].some("
        "(i) => i.src.includes('/dropped?') && i.naturalWidth === 160)"
    )
    assert page.locator("#upload-list progress").first.get_attribute("value") == "100"
    assert "UploadSuccess" in page.locator("#upload-log").inner_text()
    page.reload()  # it is in the catalog, not only on the page
    assert page.locator("#grid li.cell", has_text="dropped").count() == 1


def test_create_a_preset_then_use_it_in_the_playground(page: Any) -> None:
    page.goto("/ui/presets?company=Acme")
    page.get_by_label("Name (used as $name$)").fill("banner")
    definition = page.get_by_label("Definition (modifier string)")
    definition.press_sequentially("wid=160&wdi=2", delay=0)
    page.locator("#verdict #error-caret").wait_for()  # live validation, with the caret
    definition.fill("wid=160&$")  # a definition that does not parse is refused
    page.get_by_role("button", name="Save preset").click()
    assert "Refused" in page.locator("#save-error").inner_text()
    assert page.locator("#save-caret").inner_text().split("\n")[1].index("^") == 8
    page.get_by_label("Definition (modifier string)").fill("wid=160&fmt=png")
    page.get_by_role("button", name="Save preset").click()
    page.wait_for_url(re.compile(r"saved=banner"))
    assert "wid=160&fmt=png" in page.locator("#preset-list").inner_text()
    page.goto("/ui/playground?asset=Acme/shoe&mods=")
    page.get_by_label("Insert a preset or macro").select_option("$banner$")
    page.wait_for_function("() => preview.naturalWidth === 160 && preview.naturalHeight === 120")
    page.wait_for_function("() => document.getElementById('stat-format').textContent !== '–'")
    assert page.locator("#stat-format").inner_text() == "image/png"
    assert page.locator("#mods").input_value() == "$banner$"


def test_submit_an_export_watch_it_finish_and_download_the_zip(page: Any, ui_fx: Fixture) -> None:
    page.goto(f"/ui/jobs?company=Acme&asset={ui_fx.handle('#101')}")
    page.get_by_label("Job name").fill("browser export")
    page.get_by_label("Convert").check()
    page.get_by_label("is_modifier").fill("&fmt=png")
    page.get_by_label("emailSetting").select_option("None")
    page.get_by_role("button", name="Submit export").click()
    page.wait_for_url(re.compile(r"/ui/jobs/j%7C"))
    page.wait_for_function("() => document.getElementById('job-state').textContent === 'Done'")
    page.locator("#download-zip").wait_for()
    assert "ExportSuccess" in page.locator("#log").inner_text()
    with page.expect_download() as download:
        page.locator("#download-zip").click()
    data = Path(download.value.path()).read_bytes()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert any(n.endswith("fileToExport.png") for n in names), names


def test_a_forged_csrf_token_is_refused_in_the_browser(page: Any) -> None:
    page.goto("/ui/presets?company=Acme")
    page.get_by_label("Name (used as $name$)").fill("forged")
    page.get_by_label("Definition (modifier string)").fill("wid=10")
    page.evaluate("() => { document.querySelector('#preset-form [name=csrf]').value = 'x.1.y'; }")
    with page.expect_response(re.compile(r"/ui/presets$")) as reply:
        page.get_by_role("button", name="Save preset").click()
    assert reply.value.status == 403
    assert "CSRF" in page.locator("body").inner_text()


def test_keyboard_focus_is_visible(page: Any) -> None:
    page.goto("/ui/assets?company=Acme")
    page.keyboard.press("Tab")
    outline = page.evaluate(
        "() => [document.activeElement.className, getComputedStyle(document.activeElement)"
        ".outlineStyle]"
    )
    assert outline == ["skip", "solid"]


SCREENS = ["/ui/login", "/ui/playground?asset=Acme/shoe&mods=wid=400%26op_usm=1,1,6,0",
           "/ui/playground?asset=Acme/shoe&mods=wid=400%26wdi=3", "/ui/assets?company=Acme",
           "/ui/assets?company=Acme&folder=products/&asset=a%7C2", "/ui/presets?company=Acme",
           "/ui/jobs?company=Acme", "JOB"]  # fmt: skip


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_width_and_is_screenshotted(
    browser: Any, ui_server: str, session_state: Any, width: int
) -> None:
    anonymous = browser.new_context(base_url=ui_server, viewport={"width": width, "height": 900})
    tab = anonymous.new_page()
    tab.goto("/ui/login")
    shoot(tab, "login", width)
    anonymous.close()
    context = browser.new_context(base_url=ui_server, viewport={"width": width, "height": 900},
                                  storage_state=session_state)  # fmt: skip
    context.set_default_timeout(WAIT)
    tab = context.new_page()
    for path in SCREENS[1:]:
        if path == "JOB":
            tab.goto("/ui/jobs?company=Acme")
            link = tab.locator("#job-list a").first
            if link.count() == 0:
                continue
            link.click()
        else:
            tab.goto(path)
        tab.wait_for_function(
            "() => [...document.images].every((i) => i.complete || i.loading === 'lazy') &&"
            " document.fonts.status"
            " === 'loaded'"
        )
        name = re.sub(r"[^a-z0-9]+", "-", tab.url.split("/ui/")[1].lower()).strip("-")[:60]
        shoot(tab, name, width)
        overflow = tab.evaluate("() => document.documentElement.scrollWidth")
        assert overflow <= width, f"{path} is {overflow} px wide at {width} px"
    context.close()


def shoot(tab: Any, name: str, width: int) -> None:
    SHOTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
