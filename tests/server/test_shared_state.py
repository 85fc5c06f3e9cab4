"""State that several server processes share (issue 9): the signing key (``secret_key``, or
``data_dir/secret_key`` generated once) and the Idempotency-Keys of the JSON API submit (a
table). Two real ``isrender serve`` processes on one data directory, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
import os
import stat
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select

from isrender.catalog import Catalog, Role
from isrender.config import ConfigError, Settings
from isrender.jobs import Job
from isrender.server.tokens import Signer, shared_secret_key
from tests.http_server import serving_process
from tests.render_fixtures import gradient

API = "/api/ips/v1"
JOBS = f"{API}/companies/{quote('c|1', safe='')}/jobs"
EDITOR = httpx.BasicAuth("editor@acme.example", "secret")


def _race_for_the_key(data_dir: Path, start: Any, keys: Any) -> None:
    start.wait(30)  # every process is up: they all go at once
    keys.put(shared_secret_key(data_dir))


def test_processes_racing_for_the_secret_key_agree_on_one(tmp_path: Path):
    fork = multiprocessing.get_context("fork")  # the children start with isrender imported
    start, keys = fork.Barrier(4), fork.Queue()
    racers = [fork.Process(target=_race_for_the_key, args=(tmp_path, start, keys))
              for _ in range(4)]  # fmt: skip
    for racer in racers:
        racer.start()
    found = {keys.get(timeout=60) for _ in racers}
    for racer in racers:
        racer.join(10)
    assert all(racer.exitcode == 0 for racer in racers)
    assert len(found) == 1 and len(found.pop()) == 64
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no drafts left behind
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert shared_secret_key(tmp_path) == (tmp_path / "secret_key").read_text().strip()


@pytest.mark.parametrize(
    ("content", "error"),
    [("", "holds no usable key"), ("short", "holds no usable key"),
     (None, "cannot read"), ("not a directory", "cannot create .* set secret_key")],
)  # fmt: skip
def test_an_unusable_secret_key_file_is_a_clear_error(
    tmp_path: Path, content: str | None, error: str
):
    data_dir = tmp_path
    if content == "not a directory":
        data_dir = tmp_path / "file"
        data_dir.write_text("")  # nothing can be created under it, even by root
    elif content is None:
        (tmp_path / "secret_key").mkdir()  # unreadable as a file
    else:
        (tmp_path / "secret_key").write_text(content)
    with pytest.raises(ConfigError, match=error):
        shared_secret_key(data_dir)


@pytest.fixture(scope="module")
def data_dir(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Acme (c|1) with editor@acme.example and one image, on the backend of ``database_url``."""
    root = tmp_path_factory.mktemp("shared")
    catalog = Catalog(Settings(data_dir=root / "data", database_url=database_url))
    acme = catalog.add_company("Acme").id
    catalog.add_user("editor@acme.example", "secret", Role.IPS_USER, ((acme, None),))
    gradient(64, 48).write_to_file(str(root / "shoe.png"))
    catalog.upload(acme, [root / "shoe.png"], "products")
    catalog.close()
    return root / "data"


@pytest.fixture(scope="module")
def servers(data_dir: Path, database_url: str) -> Iterator[tuple[str, str]]:
    """Two ``isrender serve`` processes on the same data directory and database."""
    env = {"ISRENDER_DATABASE_URL": database_url, "ISRENDER_SECRET_KEY": "",
           "ISRENDER_CONFIG": str(data_dir / "absent.toml")}  # fmt: skip
    with (
        serving_process(str(data_dir), **env) as first,
        serving_process(str(data_dir), **env) as second,
    ):
        yield first, second


def wait_done(url: str, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        view: dict[str, Any] = httpx.get(url + location, auth=EDITOR).json()
        if view["state"] == "Done":
            return view
        time.sleep(0.1)
    raise AssertionError("the job did not finish")


def test_a_bearer_token_from_one_process_is_accepted_by_the_other(servers: tuple[str, str]):
    first, second = servers
    issued = httpx.post(f"{first}{API}/tokens", auth=EDITOR)
    assert issued.status_code == 200, issued.text
    bearer = {"Authorization": f"Bearer {issued.json()['token']}"}
    for url in (first, second):
        reply = httpx.get(f"{url}{JOBS}/active", headers=bearer)
        assert reply.status_code == 200, reply.text
    forged = {"Authorization": f"Bearer {Signer('another key').issue('user:1', 60)[0]}"}
    assert httpx.get(f"{second}{JOBS}/active", headers=forged).status_code == 401


def test_a_download_link_from_one_process_works_on_the_other(servers: tuple[str, str]):
    first, second = servers
    body = {"jobName": "links", "exportJob": {"assetHandleArray": ["a|1"], "fmt": "orig"}}
    reply = httpx.post(f"{first}{JOBS}", json=body, auth=EDITOR)
    assert reply.status_code == 202, reply.text
    location = reply.headers["location"]
    assert wait_done(first, location)["fileSuccessCount"] == 1
    (output,) = httpx.get(f"{first}{location}/outputs", auth=EDITOR).json()
    from_first = httpx.get(first + output["downloadUrl"])
    from_second = httpx.get(second + output["downloadUrl"])  # no credentials
    assert from_first.status_code == from_second.status_code == 200, from_second.text
    assert from_second.content == from_first.content and len(from_first.content) > 0


def jobs_named(data_dir: Path, database_url: str, name: str) -> int:
    catalog = Catalog(Settings(data_dir=data_dir, database_url=database_url))
    try:
        with catalog.session() as s:
            return s.scalar(select(func.count()).where(Job.original_name == name)) or 0
    finally:
        catalog.close()


def test_one_idempotency_key_sent_to_both_processes_makes_one_job(
    servers: tuple[str, str], data_dir: Path, database_url: str
):
    body = {"jobName": "once", "exportJob": {"assetHandleArray": ["a|1"], "fmt": "orig"}}
    key = {"Idempotency-Key": f"k-{os.getpid()}-{time.monotonic_ns()}"}

    def send(url: str) -> httpx.Response:
        return httpx.post(f"{url}{JOBS}", json=body, auth=EDITOR, headers=key, timeout=30)

    with ThreadPoolExecutor(8) as pool:  # four at once to each process
        replies = list(pool.map(send, [*servers] * 4))
    assert all(r.status_code == 202 for r in replies), [r.text for r in replies]
    assert len({r.json()["jobHandle"] for r in replies}) == 1
    assert jobs_named(data_dir, database_url, "once") == 1
    later = httpx.post(f"{servers[1]}{JOBS}", json=body, auth=EDITOR, headers=key)
    assert later.json()["jobHandle"] == replies[0].json()["jobHandle"]
    changed = {**body, "jobName": "twice"}
    other = httpx.post(f"{servers[0]}{JOBS}", json=changed, auth=EDITOR, headers=key)
    assert other.status_code == 400 and "different body" in other.json()["fault"]["reason"]
    too_long = httpx.post(f"{servers[0]}{JOBS}", json=body, auth=EDITOR,
                          headers={"Idempotency-Key": "k" * 256})  # fmt: skip
    assert too_long.status_code == 400 and "at most 255" in too_long.json()["fault"]["reason"]
    wait_done(servers[0], replies[0].headers["location"])


def test_a_failed_submit_frees_its_key(servers: tuple[str, str], data_dir: Path):
    key = {"Idempotency-Key": f"retry-{time.monotonic_ns()}"}
    bad = {"jobName": "retry", "exportJob": {"assetHandleArray": ["a|1"], "fmt": "m3u8"}}
    refused = httpx.post(f"{servers[0]}{JOBS}", json=bad, auth=EDITOR, headers=key)
    assert refused.status_code == 400, refused.text
    good = {**bad, "exportJob": {"assetHandleArray": ["a|1"], "fmt": "orig"}}
    accepted = httpx.post(f"{servers[1]}{JOBS}", json=good, auth=EDITOR, headers=key)
    assert accepted.status_code == 202, accepted.text
    wait_done(servers[1], accepted.headers["location"])
