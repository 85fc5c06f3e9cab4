"""Templates stored in the catalog (assets of type Template), found by ``template=`` through
CatalogImages and a real uvicorn server, and managed with ``isrender templates``; on SQLite,
then PostgreSQL (the ``database_url`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI

from isrender.catalog import Catalog
from isrender.catalog.images import CatalogImages
from isrender.catalog.templates import (
    delete_template,
    find_template,
    save_template,
    template_lookup,
    templates,
)
from isrender.cli import main
from isrender.config import Settings
from isrender.errors import CatalogError, IpsFault, UnknownTemplateError
from isrender.request.bind import iter_commands
from isrender.server import create_app
from tests.http_server import running
from tests.render_fixtures import gradient

FRAME = "layer=0&size=500,500&color=000000&layer=1&src=$object$&size=400,400"


@dataclass
class Served:
    catalog: Catalog
    cat: int
    other: int


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Served]:
    """Company ``cat`` with the photo and the §0.5 ``frame`` template; company ``other`` with
    a ``frame`` of its own and a ``secret`` template."""
    root = tmp_path_factory.mktemp("templates")
    catalog = Catalog(Settings(data_dir=root / "data", database_url=database_url))
    cat, other = catalog.add_company("cat").id, catalog.add_company("other").id
    gradient(200, 150).write_to_file(str(root / "photo.jpg"))
    catalog.upload(cat, [root / "photo.jpg"], "products")
    save_template(catalog, cat, "frame", FRAME, "templates")
    save_template(catalog, other, "frame", "layer=0&size=9,9&color=ffffff")
    save_template(catalog, other, "secret", "layer=0&size=9,9&color=ffffff")
    yield Served(catalog, cat, other)
    catalog.close()


REFERENCES = [
    ("by name", "frame", "frame"),
    ("rootId/objId with the company's name", "cat/frame", "frame"),
    ("by folder and name", "templates/frame", "frame"),
    ("another company's template is not found", "other/secret", None),
    ("nor by its bare name", "secret", None),
    ("an image is not a template", "photo", None),
    ("an unknown name", "nosuch", None),
]  # fmt: skip


@pytest.mark.parametrize(("ref", "name"), [r[1:] for r in REFERENCES],
                         ids=[r[0] for r in REFERENCES])  # fmt: skip
def test_a_reference_finds_the_company_s_template(served: Served, ref: str, name: str | None):
    found = find_template(served.catalog, served.cat, ref)
    assert (found.name if found else None) == name
    template = template_lookup(served.catalog, served.cat)(ref)
    assert (template.body if template else None) == (FRAME if name else None)


def test_a_handle_finds_it_and_each_company_sees_its_own(served: Served) -> None:
    (mine,) = templates(served.catalog, served.cat)
    assert find_template(served.catalog, served.cat, f"a|{mine.id}") is not None
    assert find_template(served.catalog, served.other, f"a|{mine.id}") is None
    assert [t.name for t in templates(served.catalog, served.other)] == ["frame", "secret"]
    assert mine.type == "Template" and mine.sha256 is None and mine.modifier == FRAME


SAVE_REFUSED = [
    ("a body that names a template", "layer=0&size=1,1&color=000000&template=x", IpsFault,
     "may not name a template"),
    ("a body with an unknown macro", "layer=0&size=1,1&color=000000&$nosuch$", IpsFault,
     "unknown macro"),
    ("a body that does not parse", "layer=0&=1", IpsFault, "template 'new'"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "error", "words"), [r[1:] for r in SAVE_REFUSED],
                         ids=[r[0] for r in SAVE_REFUSED])  # fmt: skip
def test_save_refuses_a_body_no_request_could_use(
    served: Served, body: str, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        save_template(served.catalog, served.cat, "new", body)
    assert find_template(served.catalog, served.cat, "new") is None


def test_save_does_not_turn_an_image_into_a_template(served: Served) -> None:
    with pytest.raises(CatalogError, match="is not a template"):
        save_template(served.catalog, served.cat, "photo", FRAME)


def prepared_scopes(images: CatalogImages, modifiers: str) -> dict[str, dict[str, str]]:
    request = images.prepare("cat", "products/photo", modifiers, strict=True).request
    found: dict[str, dict[str, str]] = {}
    for scope, bound in iter_commands(request):
        found.setdefault(scope, {})[bound.spec.name] = bound.text
    return found


def test_the_image_server_expands_catalog_templates(served: Served) -> None:
    """E-176 and E-177 as /is/image/cat/photo prepares them; a changed body is served at once."""
    images = CatalogImages(served.catalog, poll_interval=0)
    e176 = prepared_scopes(images, "template=cat/frame")
    assert e176["L0"] == {"size": "500,500", "color": "000000"}
    assert e176["L1"] == {"src": "photo", "size": "400,400"}
    assert prepared_scopes(images, "template=frame&$object=tall")["L1"]["src"] == "tall"
    with pytest.raises(UnknownTemplateError, match="'secret'"):
        images.prepare("cat", "products/photo", "template=secret")
    save_template(served.catalog, served.cat, "frame", FRAME.replace("000000", "ff0000"))
    try:
        assert prepared_scopes(images, "template=cat/frame")["L0"]["color"] == "ff0000"
    finally:
        save_template(served.catalog, served.cat, "frame", FRAME, "templates")


def test_http_resolve_shows_the_template_and_errors_name_it(served: Served) -> None:
    with running(create_app(served.catalog.settings, served.catalog, job_worker=False)) as base:
        resolved = httpx.get(f"{base}/is/image/cat/products/photo?template=frame&req=resolve")
        assert resolved.status_code == 200, resolved.text
        assert resolved.text.startswith(f"{FRAME}&template=frame")
        unknown = httpx.get(f"{base}/is/image/cat/products/photo?wid=9&template=nosuch")
        assert unknown.status_code == 400
        assert "unknown template 'nosuch'" in unknown.text
        foreign = httpx.get(f"{base}/is/image/other/frame?template=cat/frame")
        assert foreign.status_code == 400  # cat's template is not other's


def test_delete_removes_it(served: Served) -> None:
    save_template(served.catalog, served.cat, "gone", "layer=0&size=1,1&color=000000")
    assert delete_template(served.catalog, served.cat, "gone").name == "gone"
    assert find_template(served.catalog, served.cat, "gone") is None
    with pytest.raises(CatalogError, match="no template 'gone'"):
        delete_template(served.catalog, served.cat, "gone")


# ---- the JSON API ----------------------------------------------------------------------------


def templates_app(served: Served) -> FastAPI:
    """The server with the template routes; included here while server/api/__init__.py does
    not list them yet (registering them there is one line in RESOURCES)."""
    from fastapi import APIRouter

    from isrender.catalog import Role
    from isrender.jobs import JobService
    from isrender.server.api.context import PREFIX, ApiContext
    from isrender.server.api.templates import add_template_routes
    from isrender.server.idempotency import SharedIdempotencyKeys
    from isrender.server.tokens import Signer

    app = create_app(served.catalog.settings, served.catalog, job_worker=False)
    if not any(getattr(r, "path", "").endswith("/templates") for r in app.routes):
        service = JobService(served.catalog)
        router = APIRouter(prefix=PREFIX)
        ctx = ApiContext(service, Signer(), SharedIdempotencyKeys(served.catalog))
        add_template_routes(router, ctx)
        app.include_router(router)
    if served.catalog.user("editor@cat.example") is None:
        served.catalog.add_user("editor@cat.example", "pw", Role.IPS_USER, ((served.cat, None),))
        served.catalog.add_user("viewer@cat.example", "pw", Role.IMAGE_PORTAL_USER,
                                ((served.cat, None),))  # fmt: skip
    return app


def test_the_json_api_lists_creates_and_deletes_templates(served: Served) -> None:
    editor, viewer = (
        httpx.BasicAuth("editor@cat.example", "pw"),
        httpx.BasicAuth("viewer@cat.example", "pw"),
    )
    with running(templates_app(served)) as base:
        url = f"{base}/api/ips/v1/companies/cat/templates"
        listed = httpx.get(url, auth=viewer)
        assert listed.status_code == 200, listed.text
        assert [(t["name"], t["urlModifier"]) for t in listed.json()] == [("frame", FRAME)]
        body = {"name": "api", "urlModifier": "layer=0&size=8,8&color=000000"}
        created = httpx.post(url, json=body, auth=editor)
        assert created.status_code == 200 and created.json()["assetHandle"].startswith("a|")
        refused = httpx.post(url, json=body, auth=viewer)
        assert refused.status_code == 403  # an ImagePortalUser may not create assets
        bad = httpx.post(url, json={"name": "x", "urlModifier": "template=frame"}, auth=editor)
        assert bad.status_code == 400 and "30001" in bad.text
        missing = httpx.post(url, json={"name": "x"}, auth=editor)
        assert missing.status_code == 400 and "30002" in missing.text
        assert httpx.delete(f"{url}/api", auth=editor).status_code == 204
        gone = httpx.delete(f"{url}/api", auth=editor)
        assert gone.status_code == 400 and "no template 'api'" in gone.text


# ---- isrender templates ----------------------------------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_the_templates_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISRENDER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ISRENDER_CONFIG", str(tmp_path / "absent.toml"))
    assert run("catalog", "init")[0] == 0
    assert run("company", "add", "cat")[0] == 0
    code, stdout, _ = run("templates", "add", "frame", FRAME, "--company", "cat")
    assert code == 0 and "frame" in stdout
    code, _, stderr = run("templates", "add", "bad", "layer=0&wid=abc", "--company", "cat")
    assert code == 2 and "in template 'bad'" in stderr and "^^^" in stderr
    code, _, stderr = run("templates", "add", "loop", "template=frame", "--company", "cat")
    assert code == 2 and "may not name a template" in stderr
    code, stdout, _ = run("templates", "list", "--company", "cat")
    assert code == 0 and FRAME in stdout and "bad" not in stdout
    code, stdout, _ = run("templates", "show", "frame", "--company", "cat", "--object", "shoe")
    assert code == 0 and "L1     src=shoe" in stdout and "L0     color=000000" in stdout
    assert run("templates", "delete", "frame", "--company", "cat")[0] == 0
    code, _, stderr = run("templates", "show", "frame", "--company", "cat")
    assert code == 2 and "no template 'frame'" in stderr
