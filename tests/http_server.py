"""A real uvicorn server on 127.0.0.1 in a background thread, for the HTTP tests."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(app: FastAPI, **options: Any) -> Iterator[str]:
    """Yield the base URL of ``app`` served by uvicorn until the block ends; ``options`` go
    to ``uvicorn.Config`` (``http=``, ``timeout_keep_alive=``, ...)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def wait_until_serving(
    url: str, process: subprocess.Popen[bytes], timeout: float = 30,
    why: Callable[[], str] = lambda: "the server did not start",
) -> None:  # fmt: skip
    """Poll ``url`` until it answers; fail with ``why()`` if ``process`` exits or ``timeout``
    seconds pass first."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline, why()
            time.sleep(0.1)


@contextmanager
def serving_process(data_dir: str, workers: int = 1, **environ: str) -> Iterator[str]:
    """Yield the base URL of ``isrender serve`` in its own process (its own GIL, as deployed);
    ``workers`` > 1: that many server processes on the port (``--workers``)."""
    import os
    import sys

    port = free_port()
    env = {**os.environ, "ISRENDER_DATA_DIR": data_dir, **environ}
    main = "from isrender.cli import main; main()"
    command = [sys.executable, "-c", main, "serve", "--port", str(port), "--log-level", "warning",
               "--workers", str(workers)]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{url}/healthz", process, why=lambda: "isrender serve did not start")
        yield url
    finally:
        process.terminate()
        process.wait(10)
