"""Lenient serving over HTTP (issue 13): a real uvicorn server answers what a forgiving Image
Server answers and names each adjustment in X-IsRender-Ignored; a meaningless value is a 400."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from isrender.catalog import Catalog
from isrender.config import Settings
from isrender.server import create_app
from tests.http_server import running
from tests.render_fixtures import gradient


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Company Acme with one gradient PNG, served on 127.0.0.1 (SQLite: leniency does not
    depend on the database)."""
    root = tmp_path_factory.mktemp("lenient")
    settings = Settings(data_dir=root / "data", database_url="")
    catalog = Catalog(settings)
    acme = catalog.add_company("Acme").id
    gradient(200, 100).write_to_file(str(root / "grad.png"))
    catalog.upload(acme, [root / "grad.png"], "products")
    with running(create_app(settings, job_worker=False)) as url:
        yield url


# (query, status, what X-IsRender-Ignored names)
QUERIES: list[tuple[str, int, tuple[str, ...]]] = [
    ("fmt=pjpg&wid=20", 200, ("fmt@4: near-spelling",)),
    ("op_usm=0.7,1.0,0.5,0&wid=20&fit=crop", 200, ("op_usm@15: rounded",)),
    ("fit=crop&fmt=png", 200, ("fit@0: needs-another",)),
    ("$product=%s&wid=20&resMode=trilin", 200, ("$product@9: literal-percent", "resMode@")),
    ("wid=20 ", 200, ("wid@4: white-space",)),
    ("wid=abc", 400, ()),
]


@pytest.mark.parametrize(("query", "status", "ignored"), QUERIES, ids=[q[0] for q in QUERIES])
def test_lenient_answers_name_what_they_ignored(
    base: str, query: str, status: int, ignored: tuple[str, ...]
) -> None:
    reply = httpx.get(f"{base}/is/image/Acme/grad?{query}")
    assert reply.status_code == status, reply.text
    header = reply.headers.get("x-isrender-ignored", "")
    assert all(part in header for part in ignored), header
    if status == 200:
        assert reply.headers["content-type"].startswith("image/")


def test_segments_that_are_not_commands_are_ignored(base: str) -> None:
    reply = httpx.get(f"{base}/is/image/Acme/grad?_tparam_size=250,250&wid=20")
    assert reply.status_code == 200, reply.text
    assert "_tparam_size@0: not-a-command" in reply.headers["x-isrender-ignored"]
