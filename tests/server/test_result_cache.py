"""The result cache (issue 10 item 7): entries on disk keyed by the ETag, an LRU bound shared
by processes, and a real ``isrender serve`` whose hits are the misses' bytes and whose entries
give way to a re-upload or an attribute change."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from isrender.catalog import Catalog
from isrender.config import Settings
from isrender.language import parse
from isrender.request import bind
from isrender.server.result_cache import TOUCH_SECONDS, ResultCache
from isrender.service import PreparedRequest, SourceRecord
from tests.http_server import serving_process
from tests.render_fixtures import gradient

ISRENDER = [sys.executable, "-c", "from isrender.cli import main; main()"]
POLL = 0.5  # catalog_poll_interval


def test_an_entry_reads_back_whole_and_is_counted(tmp_path: Path):
    seen: list[str] = []
    cache = ResultCache(tmp_path, 1 << 20, seen.append)
    key = ResultCache.key('"etag"')
    assert cache.get(key) is None
    cache.put(key, b"\x00bytes\nwith newlines", "image/png")
    hit = cache.get(key)
    assert hit is not None and hit.data == b"\x00bytes\nwith newlines"
    assert hit.media_type == "image/png" and seen == ["miss", "hit"]
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".part-")]


def test_the_bound_evicts_the_least_recently_used(tmp_path: Path):
    cache = ResultCache(tmp_path, 10_000)
    keys = [ResultCache.key(str(n)) for n in range(10)]  # 10 x 1,011 bytes: over the bound
    for n, key in enumerate(keys[:6]):
        cache.put(key, bytes(1000), "image/jpeg")
        os.utime(cache._path(key), (1000 + n, 1000 + n))  # a clear age order
    assert cache.get(keys[0]) is not None  # a hit makes the oldest the newest
    for key in keys[6:]:
        cache.put(key, bytes(1000), "image/jpeg")
    total = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert total <= 10_000 * 0.9
    assert cache.get(keys[0]) is not None and cache.get(keys[1]) is None
    cache.put(ResultCache.key("huge"), bytes(10_000 // 8 + 1), "image/jpeg")
    assert cache.get(ResultCache.key("huge")) is None  # above 1/8 of the bound: not kept


@pytest.mark.parametrize(
    ("age", "touched"),
    [(0, False), (TOUCH_SECONDS + 5, True), (86_400, True)],
)
def test_a_hit_marks_its_entry_used_once_the_mark_is_older_than_the_grain(
    tmp_path: Path, age: float, touched: bool
):
    """The LRU's grain: a hit touches its file only when the last mark is TOUCH_SECONDS old
    (one system call less on the other hits)."""
    cache = ResultCache(tmp_path, 1 << 20)
    key = ResultCache.key("grain")
    cache.put(key, b"bytes", "image/jpeg")
    marked = time.time() - age
    os.utime(cache._path(key), (marked, marked))
    assert cache.get(key) is not None
    mtime = os.stat(cache._path(key)).st_mtime
    assert (mtime > marked + 1) == touched


def test_processes_sharing_a_directory_evict_concurrently_without_errors(tmp_path: Path):
    caches = [ResultCache(tmp_path, 50_000) for _ in range(4)]
    errors: list[BaseException] = []

    def write(cache: ResultCache, start: int) -> None:
        try:
            for n in range(start, start + 150):
                cache.put(ResultCache.key(str(n)), bytes(900), "image/webp")
                cache.get(ResultCache.key(str(n - 3)))
        except BaseException as exc:  # pragma: no cover - what the test looks for
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(c, i * 1000)) for i, c in enumerate(caches)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    caches[0]._evict()
    total = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert not errors and total <= 50_000


@pytest.mark.parametrize(
    ("modifiers", "policy"),
    [("wid=10", "on"), ("cache=off", "off"), ("cache=on,off", "off"), ("cache=off,on", "on"),
     ("cache=update", "update"), ("cache=validate", "on")],
)  # fmt: skip
def test_the_server_half_of_cache_decides(modifiers: str, policy: str):
    ast = parse(modifiers)
    prepared = PreparedRequest(SourceRecord("x", None, ""), ast, ast, bind(ast, strict=False), "")
    assert ResultCache.policy(prepared) == policy


def test_zero_megabytes_turns_the_cache_off(tmp_path: Path):
    assert ResultCache.from_settings(Settings(data_dir=tmp_path, result_cache_mb=0)) is None
    cache = ResultCache.from_settings(Settings(data_dir=tmp_path))
    assert cache is not None and cache.directory == tmp_path / "cache"


# ---- a real server process ----------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path, database_url: str) -> Iterator[tuple[str, str, dict[str, str]]]:
    data = tmp_path / "data"
    catalog = Catalog(Settings(data_dir=data, database_url=database_url))
    company = f"Co{tmp_path.name[-12:].replace('_', '')}"
    acme = catalog.add_company(company).id
    gradient(640, 480).write_to_file(str(tmp_path / "photo.jpg"))
    catalog.upload(acme, [tmp_path / "photo.jpg"])
    catalog.close()
    env = {"ISRENDER_DATABASE_URL": database_url, "ISRENDER_CONFIG": str(data / "none.toml")}
    with serving_process(str(data), **env) as url:
        yield f"{url}/is/image/{company}/photo", company, {**os.environ,
              "ISRENDER_DATA_DIR": str(data), **env}  # fmt: skip


def _cache(reply: httpx.Response) -> str | None:
    assert reply.status_code == 200, reply.text
    return reply.headers.get("x-isrender-cache")


def test_hits_are_the_misses_bytes_and_a_reupload_replaces_them(served, tmp_path: Path):
    image, company, env = served
    url = f"{image}?wid=200&fmt=webp"
    miss, hit = httpx.get(url), httpx.get(url)
    assert (_cache(miss), _cache(hit)) == ("miss", "hit")
    assert hit.content == miss.content and hit.headers["etag"] == miss.headers["etag"]
    assert hit.headers["content-type"] == "image/webp"
    assert _cache(httpx.get(f"{url}&.comment=1")) == "hit"  # same effective request
    assert _cache(httpx.get(f"{url}&cache=on,off")) is None
    conditional = httpx.get(url, headers={"If-None-Match": miss.headers["etag"]})
    assert conditional.status_code == 304

    gradient(640, 480).invert().write_to_file(str(tmp_path / "photo.jpg"))
    _reupload(env, company, tmp_path / "photo.jpg")
    time.sleep(POLL + 0.2)
    fresh = httpx.get(url)
    assert _cache(fresh) == "miss" and fresh.content != miss.content
    assert fresh.headers["etag"] != miss.headers["etag"]


def _reupload(env: dict[str, str], company: str, path: Path) -> None:
    """Another process replaces the original (as an upload over the API or CLI would)."""
    code = (
        "import sys; from isrender.catalog import Catalog; from isrender.config import Settings\n"
        "c = Catalog(Settings.load()); co = c.require_company(sys.argv[1])\n"
        "print(c.upload(co.id, [__import__('pathlib').Path(sys.argv[2])]))"
    )
    done = subprocess.run([sys.executable, "-c", code, company, str(path)], env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0 and "FileUpdated" in done.stdout, done.stderr


def test_an_attribute_change_gives_new_entries(served):
    image, company, env = served
    url = f"{image}?wid=100&fmt=jpeg"
    first = httpx.get(url)
    assert _cache(first) == "miss" and _cache(httpx.get(url)) == "hit"
    cli = [*ISRENDER, "company", "set", company, "--jpeg-quality", "20"]
    subprocess.run(cli, env=env, check=True, capture_output=True)
    time.sleep(POLL + 0.2)
    changed = httpx.get(url)
    assert _cache(changed) == "miss" and len(changed.content) < len(first.content)
    metrics = httpx.get(image.split("/is/image/")[0] + "/metrics").text
    assert 'isrender_result_cache_requests_total{result="hit"} 1.0' in metrics
