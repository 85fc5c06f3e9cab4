"""The HTTP endpoint (issue 6): requests/s of a 300 px JPEG thumbnail through ``isrender serve``
(uvicorn in its own process, as deployed) on 127.0.0.1 against calling isrender.render
directly, in the same run; one client on a keep-alive connection, and 4 concurrent clients
against 4 threads calling render. Client and server share the machine's cores.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")

from tests.http_server import serving_process  # noqa: E402

import isrender  # noqa: E402
from isrender.catalog import Catalog  # noqa: E402
from isrender.config import Settings  # noqa: E402

PHOTO = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "jpeg" / "giunchedi-srgb.jpg"
MODIFIERS = "wid=300&fmt=jpeg&qlt=80"
RATES: dict[str, dict[str, float]] = {}
N = 60  # requests per measurement


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Any:
    if not PHOTO.is_file():
        pytest.skip("../shared/corpus is absent")
    settings = Settings(data_dir=tmp_path_factory.mktemp("bench") / "data", render_slots=4)
    catalog = Catalog(settings)
    catalog.upload(catalog.add_company("Acme").id, [PHOTO])
    with serving_process(str(settings.data_dir), ISRENDER_RENDER_SLOTS="4") as url:
        yield url


def _rate(work: Callable[[], None], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return N / statistics.median(times)


def test_sequential_requests_per_second(benchmark: Any, base: str) -> None:
    url = f"/is/image/Acme/{PHOTO.stem}?{MODIFIERS}"
    with httpx.Client(base_url=base) as client:

        def http() -> None:
            for _ in range(N):
                assert client.get(url).status_code == 200

        def direct() -> None:
            for _ in range(N):
                isrender.render(PHOTO, MODIFIERS)

        http(), direct()  # warm both
        RATES["1 client"] = {"direct": _rate(direct), "http": _rate(http)}
        benchmark.pedantic(http, rounds=1)


def test_concurrent_requests_per_second(benchmark: Any, base: str) -> None:
    url = f"/is/image/Acme/{PHOTO.stem}?{MODIFIERS}"

    def http() -> None:
        async def run() -> None:
            limit = asyncio.Semaphore(4)  # 4 clients, as many as the server's render slots
            async with httpx.AsyncClient(base_url=base) as client:

                async def one() -> None:
                    async with limit:
                        assert (await client.get(url)).status_code == 200

                await asyncio.gather(*(one() for _ in range(N)))

        asyncio.run(run())

    def direct() -> None:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: isrender.render(PHOTO, MODIFIERS), range(N)))

    http(), direct()
    RATES["4 clients"] = {"direct": _rate(direct), "http": _rate(http)}
    benchmark.pedantic(http, rounds=1)


def report() -> str:
    return "\n".join(
        f"server ({case}): {r['http']:.0f} req/s through HTTP vs {r['direct']:.0f}/s calling "
        f"isrender.render = {r['http'] / r['direct']:.3f}x"
        for case, r in RATES.items()
    )
