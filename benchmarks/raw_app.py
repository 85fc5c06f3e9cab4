"""The floor for the server benchmark: a minimal Starlette app that answers
``GET /{name}?w=300`` with pyvips ``thumbnail_buffer`` as a JPEG, nothing else (no parsing,
catalog, ETag, limits or admission). ``python benchmarks/raw_app.py DIR --port P --workers N``
serves the files of DIR with N uvicorn processes sharing the port (SO_REUSEPORT), as
``isrender serve --workers N`` does; libvips runs one thread per render, as in isrender.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

import pyvips
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def make_app(folder: Path) -> Starlette:
    files = {path.stem: path for path in folder.iterdir() if path.is_file()}

    def thumbnail(data: bytes, width: int) -> bytes:
        image = pyvips.Image.thumbnail_buffer(data, width, height=width, fail_on="error")
        out: bytes = image.write_to_buffer(".jpg", Q=80, optimize_coding=True, keep="none")
        return out

    async def serve(request: Request) -> Response:
        path = files.get(request.path_params["name"])
        if path is None:
            return Response("not found", 404)
        width = int(request.query_params.get("w", "300"))
        data = await run_in_threadpool(lambda: thumbnail(path.read_bytes(), width))
        return Response(data, media_type="image/jpeg")

    return Starlette(routes=[Route("/{name}", serve)])


def _run_one(folder: Path, port: int) -> None:
    import uvicorn

    pyvips.cache_set_max(0)
    pyvips.concurrency_set(1)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    config = uvicorn.Config(make_app(folder), log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    children = []
    for _ in range(args.workers - 1):
        pid = os.fork()  # before any thread or event loop exists
        if pid == 0:
            _run_one(args.folder, args.port)
            sys.exit(0)
        children.append(pid)
    try:
        _run_one(args.folder, args.port)
    finally:
        for pid in children:
            os.kill(pid, 15)


if __name__ == "__main__":
    main()
