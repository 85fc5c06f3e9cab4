"""Fixtures shared by the render tests that go through a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, objects: dict[str, Path], database_url: str
) -> Iterator[str]:
    """``/is/image/Acme`` on a real uvicorn server whose company Acme has the module's
    ``objects`` photo and logo as assets (on SQLite and PostgreSQL)."""
    from isrender.catalog import Catalog
    from isrender.config import Settings
    from isrender.server import create_app
    from tests.http_server import running

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("served") / "data", database_url=database_url
    )
    catalog = Catalog(settings)
    acme = catalog.add_company("Acme").id
    catalog.upload(acme, [objects["photo"], objects["logo"]], "products")
    with running(create_app(settings)) as url:
        yield f"{url}/is/image/Acme"
