"""Shared fixtures: the spec and examples beside the checkout (../shared), skipped if absent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.services import fresh_database, postgres_server, postgres_url, redis_url

__all__ = ["postgres_server", "postgres_url", "redis_url"]  # fixtures for every test module

if TYPE_CHECKING:
    from tests.catalog_fixture import Fixture

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: these tests read ../shared beside the checkout")
    return path


def jsonl(name: str) -> list[dict[str, str]]:
    with shared_path("examples", name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each module that uses it runs twice: ``""`` (SQLite in the data directory), then the URL
    of a fresh PostgreSQL database (tests/services.py), dropped after the module."""
    if request.param == "sqlite":
        yield ""
        return
    with fresh_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture(scope="module")
def fx(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixture]:
    """The §6.1 conformance catalog (tests/catalog_fixture.py), one per test module and backend."""
    from tests.catalog_fixture import build  # imports pyvips: only for the modules that use it

    built = build(tmp_path_factory.mktemp("catalog") / "data", database_url)
    yield built
    built.catalog.close()  # its pooled connections go before the database is dropped


@pytest.fixture(scope="module")
def ips_server(fx: Fixture) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 serving ``fx``'s catalog; yields its base URL."""
    from isrender.server import create_app
    from tests.http_server import running

    with running(create_app(fx.catalog.settings, fx.catalog)) as url:
        yield url
