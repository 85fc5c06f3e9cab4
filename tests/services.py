"""Real PostgreSQL and Redis for the tests (no mocks).

``.ci/run`` starts both and exports ``ISRENDER_TEST_POSTGRES_URL`` (a server URL,
``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres``) and ``ISRENDER_TEST_REDIS_URL``.
Without them, the session fixtures start their own throwaway server when the binaries are
installed (a developer's machine); otherwise the tests that need one skip with a message, and
fail when ``CI=true``.

- ``postgres_server`` (session): the server URL; ``fresh_database(server)`` creates a database
  with a unique name and drops it afterwards.
- ``postgres_url`` (module): a fresh database for one test module.
- ``redis_url`` (session): a Redis URL.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.http_server import free_port

__all__ = ["fresh_database", "postgres_server", "postgres_url", "redis_url", "service_absent"]


def service_absent(message: str) -> None:
    """Skip outside CI; with CI=true a missing service is a failure, never a silent skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: .ci/run must provide it)", pytrace=False)
    pytest.skip(message)


def _pg_bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _version_key(path: str) -> tuple[int, ...]:
    version = path.split("/")[4]
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _as_service_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the ``postgres`` system user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextmanager
def _own_postgres() -> Iterator[str]:
    bindir = _pg_bindir()
    if bindir is None:
        service_absent("PostgreSQL is not installed and ISRENDER_TEST_POSTGRES_URL is not set")
    assert bindir is not None
    root = Path(tempfile.mkdtemp(prefix="isrender-pg-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", free_port()
    try:
        subprocess.run(
            _as_service_user([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                              "--auth=trust", "-E", "UTF8"]),
            check=True, capture_output=True,
        )  # fmt: skip
        options = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c max_connections=200"  # as .ci/run: every test catalog keeps a small pool
        )
        subprocess.run(
            _as_service_user([str(bindir / "pg_ctl"), "-D", str(data), "-l",
                              str(root / "log"), "-w", "-o", options, "start"]),
            check=True, capture_output=True,
        )  # fmt: skip
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            stop = [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
            subprocess.run(_as_service_user(stop), check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def _own_redis() -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        service_absent("redis-server is not installed and ISRENDER_TEST_REDIS_URL is not set")
    assert server is not None
    root, port = Path(tempfile.mkdtemp(prefix="isrender-redis-")), free_port()
    command = [server, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(root),
               "--save", "", "--appendonly", "no"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        _wait_for_redis(port, process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_redis(port: int, process: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"redis-server on port {port} did not answer PING")


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on ``server_url``; dropped (connections and all) afterwards."""
    name = f"isrender_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server URL: .ci/run's, else a throwaway cluster started here."""
    url = os.environ.get("ISRENDER_TEST_POSTGRES_URL", "")
    if url:
        yield url
        return
    with _own_postgres() as started:
        yield started


@pytest.fixture(scope="module")
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh database for one test module (created here, dropped after the module)."""
    with fresh_database(postgres_server) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("ISRENDER_TEST_REDIS_URL", "")
    if url:
        yield url
        return
    with _own_redis() as started:
        yield started
