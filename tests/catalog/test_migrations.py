"""Schema migrations (Alembic): a data directory made before migrations existed upgrades without
losing a row; the revision chain builds exactly the tables the models declare, on SQLite and
PostgreSQL; a catalog behind (or ahead of) this isrender's schema is refused with the command
that fixes it."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, inspect, text

from isrender.catalog import Catalog
from isrender.catalog.service import CatalogError, database_engine
from isrender.cli import main
from isrender.config import Settings
from isrender.migrations import BASELINE, head_revision, target_metadata, upgrade
from tests.services import fresh_database

FIXTURE = Path(__file__).parents[1] / "fixtures" / "catalog_0001" / "data"
BASELINE_TABLES = ("companies", "users", "memberships", "groups", "group_members", "folders",
                   "permissions", "assets", "image_formats", "jobs", "job_log")  # fmt: skip


@pytest.fixture
def old_data_dir(tmp_path: Path) -> Path:
    """A copy of the checked-in data directory made at schema 0001 (before migrations)."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "data"))


def isrender(data_dir: Path, *args: str) -> Result:
    env = {
        "ISRENDER_DATA_DIR": str(data_dir),
        "ISRENDER_DATABASE_URL": "",
        "ISRENDER_CONFIG": str(data_dir / "absent.toml"),  # no isrender.toml from the cwd
        "ISRENDER_PASSWORD": "secret",
    }
    return CliRunner().invoke(main, list(args), env=env)


def rows(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the baseline tables, in the baseline's columns (later revisions add some)."""
    with sqlite3.connect(FIXTURE / "catalog.db") as connection:
        columns = {
            table: [r[1] for r in connection.execute(f"PRAGMA table_info({table})")]
            for table in BASELINE_TABLES
        }
    with sqlite3.connect(database) as connection:
        return {
            table: connection.execute(
                f"SELECT {', '.join(columns[table])} FROM {table} ORDER BY rowid"
            ).fetchall()
            for table in BASELINE_TABLES
        }


def test_fixture_is_a_pre_migration_catalog_with_every_kind_of_row():
    with sqlite3.connect(FIXTURE / "catalog.db") as connection:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    assert "alembic_version" not in tables and set(BASELINE_TABLES) <= tables
    assert all(rows(FIXTURE / "catalog.db").values()), "every table of the fixture has rows"


def test_upgrade_through_the_cli_keeps_every_row_and_the_app_works(old_data_dir: Path):
    before = rows(old_data_dir / "catalog.db")
    refused = isrender(old_data_dir, "assets", "list", "--company", "Acme")
    assert refused.exit_code == 2
    assert f"at schema revision {BASELINE}" in refused.output
    assert head_revision() in refused.output and "isrender catalog upgrade" in refused.output

    upgraded = isrender(old_data_dir, "catalog", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert f"upgraded from {BASELINE} to {head_revision()}" in upgraded.output
    assert rows(old_data_dir / "catalog.db") == before
    again = isrender(old_data_dir, "catalog", "upgrade")
    assert again.exit_code == 0 and f"already at {head_revision()}" in again.output

    listed = isrender(old_data_dir, "assets", "list", "--company", "Acme")
    assert listed.exit_code == 0 and all(n in listed.output for n in ("shoe", "logo", "banner"))
    log = isrender(old_data_dir, "jobs", "log", "j|1||spring|1", "--company", "Acme")
    assert log.exit_code == 0 and "shoe" in log.output, log.output
    exported = isrender(old_data_dir, "export", "a|1", "a|2", "--company", "Acme",
                        "--user", "editor@acme.example", "--orig", "--name", "after")  # fmt: skip
    assert exported.exit_code == 0, exported.output
    catalog = Catalog(Settings(data_dir=old_data_dir))
    with catalog.session() as s:
        job = s.execute(text("SELECT state, success FROM jobs WHERE name = 'after'")).one()
    catalog.close()
    assert tuple(job) == ("Done", 2)


def test_a_catalog_behind_head_is_stamped_baseline_and_refused(old_data_dir: Path):
    with pytest.raises(CatalogError) as caught:
        Catalog(Settings(data_dir=old_data_dir))
    message = caught.value.public_message
    assert BASELINE in message and head_revision() in message
    assert "isrender catalog upgrade" in message
    with sqlite3.connect(old_data_dir / "catalog.db") as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (BASELINE,)
        ]


def test_a_catalog_ahead_of_this_isrender_is_refused(tmp_path: Path):
    Catalog(Settings(data_dir=tmp_path)).close()
    with sqlite3.connect(tmp_path / "catalog.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    with pytest.raises(CatalogError, match="9999_from_the_future, newer than this isrender"):
        Catalog(Settings(data_dir=tmp_path))
    result = isrender(tmp_path, "catalog", "upgrade")
    assert result.exit_code == 2 and "does not know" in result.output


@contextmanager
def database(backend: str, request: pytest.FixtureRequest, path: Path) -> Iterator[str]:
    """A URL of an empty database: a SQLite file at ``path``, or a fresh PostgreSQL one."""
    if backend == "sqlite":
        yield f"sqlite:///{path}"
        return
    with fresh_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@contextmanager
def engine_on(url: str) -> Iterator[Engine]:
    engine = database_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def schema(engine: Engine) -> dict[str, Any]:
    """Tables, columns (type, nullability), unique constraints, indexes and foreign keys."""
    found = inspect(engine)
    shape: dict[str, Any] = {}
    for table in sorted(found.get_table_names()):
        shape[table] = (
            sorted((c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)),
            sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(table)),
            sorted((i["name"], tuple(i["column_names"])) for i in found.get_indexes(table)),
            sorted((tuple(f["constrained_columns"]), f["referred_table"],
                    f.get("options", {}).get("ondelete")) for f in found.get_foreign_keys(table)),
        )  # fmt: skip
    return shape


BACKENDS = pytest.mark.parametrize("backend", ["sqlite", "postgres"])


@BACKENDS
def test_the_revision_chain_builds_what_the_models_declare(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
):
    with (
        database(backend, request, tmp_path / "chain.db") as chain_url,
        database(backend, request, tmp_path / "created.db") as created_url,
        engine_on(chain_url) as chained,
        engine_on(created_url) as created,
    ):
        assert upgrade(chained) == (None, head_revision())
        target_metadata().create_all(created)
        chain_schema = schema(chained)
        assert chain_schema.pop("alembic_version")
        assert chain_schema == schema(created)
        assert set(chain_schema) == set(target_metadata().tables)


@BACKENDS
def test_processes_opening_an_empty_database_together_agree(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
):
    with database(backend, request, tmp_path / "data" / "catalog.db") as url:
        env = {
            **os.environ,
            "ISRENDER_DATA_DIR": str(tmp_path / "data"),
            "ISRENDER_DATABASE_URL": url,
            "ISRENDER_CONFIG": str(tmp_path / "absent.toml"),
        }
        command = [sys.executable, "-c", "from isrender.cli import main; main()", "catalog", "init"]
        processes = [
            subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) for _ in range(3)
        ]
        errors = [p.communicate(timeout=60)[1] for p in processes]
        assert all(p.returncode == 0 for p in processes), errors
        with engine_on(url) as engine, engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert [tuple(v) for v in versions] == [(head_revision(),)]
