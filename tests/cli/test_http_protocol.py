"""cli/http_protocol.py: a reply's head and body reach the socket in one write, and every
byte of every reply arrives, in order: plain, HEAD, 304, streamed, pipelined, closing.

A real uvicorn server (in a thread) on a real socket, read by a raw client. The count of
writes is taken on the socket's transport itself (the protocol's ``connection_made`` is
given a counting wrapper), with uvicorn's own protocol as the row that shows two."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import pytest
from fastapi import FastAPI, Response
from fastapi.responses import StreamingResponse
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from isrender.cli.http_protocol import HOLD_BYTES, HeldWrites, OneSendHttpProtocol
from tests.http_server import running

BODY = bytes(range(256)) * 20  # 5,120 bytes
EAGER_PARTS, EAGER_PART = 200, 16 * 1024


class CountingTransport:
    """The real transport, counting the calls that reach the socket."""

    writes: ClassVar[list[int]] = []  # bytes per call, across connections (one test at a time)

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport

    def write(self, data: bytes) -> None:
        self.writes.append(len(data))
        self.transport.write(data)

    def writelines(self, parts: list[bytes]) -> None:
        self.writes.append(sum(map(len, parts)))
        self.transport.writelines(parts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


def counted(protocol: type[HttpToolsProtocol]) -> type[HttpToolsProtocol]:
    class Counted(protocol):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(CountingTransport(transport))

    return Counted


def app() -> FastAPI:
    made = FastAPI()

    @made.api_route("/small", methods=["GET", "HEAD"])
    async def small() -> Response:
        return Response(BODY, media_type="application/octet-stream")

    @made.get("/unchanged")
    async def unchanged() -> Response:
        return Response(status_code=304, headers={"ETag": '"x"'})

    @made.get("/eager")
    async def eager() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:  # never waits: one turn of the loop
            for n in range(EAGER_PARTS):
                yield bytes([n % 256]) * EAGER_PART

        return StreamingResponse(parts(), media_type="application/octet-stream")

    @made.get("/refilled")
    async def refilled() -> StreamingResponse:
        async def parts() -> AsyncIterator[memoryview]:
            buffer = bytearray(b"AAAA")
            yield memoryview(buffer)
            buffer[:] = b"BBBB"  # the writer reuses its buffer once the part is sent
            yield memoryview(buffer)

        # a length, not chunks: uvicorn then writes each part itself (chunking joins a copy)
        return StreamingResponse(parts(), media_type="text/plain", headers={"Content-Length": "8"})

    @made.get("/stream")
    async def stream() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for n in range(3):
                await asyncio.sleep(0.01)  # a later turn of the loop each
                yield bytes([65 + n]) * 1000

        return StreamingResponse(parts(), media_type="text/plain")

    return made


@contextmanager
def server(protocol: type[HttpToolsProtocol]) -> Iterator[int]:
    with running(app(), http=counted(protocol), ws="none") as url:
        yield int(url.rsplit(":", 1)[1])


def exchange(port: int, requests: bytes, replies: int) -> list[tuple[int, dict[str, str], bytes]]:
    """Send ``requests`` at once; read ``replies`` replies (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(requests)
        stream = sock.makefile("rb")
        return [read_reply(stream, head_only=b"HEAD " in requests) for _ in range(replies)]


def read_reply(stream: Any, head_only: bool) -> tuple[int, dict[str, str], bytes]:
    status = int(stream.readline().split()[1])
    headers = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if head_only or status == 304:
        return status, headers, b""
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while size := int(stream.readline(), 16):
            body += stream.read(size)
            stream.readline()
        stream.readline()
        return status, headers, body
    return status, headers, stream.read(int(headers["content-length"]))


def get(path: str, extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: test\r\n{extra}\r\n".encode()


ONE_WRITE = [
    ("plain", get("/small"), 200, BODY),
    ("head", b"HEAD /small HTTP/1.1\r\nHost: test\r\n\r\n", 200, b""),
    ("not modified", get("/unchanged"), 304, b""),
    ("closing", get("/small", "Connection: close\r\n"), 200, BODY),
]


@pytest.mark.parametrize(("name", "request_bytes", "status", "body"), ONE_WRITE,
                         ids=[row[0] for row in ONE_WRITE])  # fmt: skip
def test_a_complete_reply_is_one_write(name: str, request_bytes: bytes, status: int, body: bytes):
    CountingTransport.writes.clear()
    with server(OneSendHttpProtocol) as port:
        ((got_status, headers, got_body),) = exchange(port, request_bytes, 1)
        time.sleep(0.05)  # a held write would go at the loop's next turn
    assert (got_status, got_body) == (status, body)
    assert len(CountingTransport.writes) == 1, CountingTransport.writes
    if name == "closing":
        assert headers["connection"] == "close"


def test_uvicorns_own_protocol_writes_twice() -> None:
    """The row the change is for: the head, then the body."""
    CountingTransport.writes.clear()
    with server(HttpToolsProtocol) as port:
        exchange(port, get("/small"), 1)
    assert len(CountingTransport.writes) == 2 and CountingTransport.writes[1] == len(BODY)


def test_a_streamed_reply_arrives_whole_and_in_time() -> None:
    """Chunks made in later turns of the loop are written in those turns, not held."""
    CountingTransport.writes.clear()
    with server(OneSendHttpProtocol) as port:
        ((status, headers, body),) = exchange(port, get("/stream"), 1)
    assert status == 200 and headers["transfer-encoding"] == "chunked"
    assert body == b"A" * 1000 + b"B" * 1000 + b"C" * 1000
    assert len(CountingTransport.writes) >= 3  # one a turn: the parts were not held back


def test_pipelined_requests_are_answered_in_order() -> None:
    with server(OneSendHttpProtocol) as port:
        replies = exchange(port, get("/small") + get("/unchanged") + get("/stream"), 3)
    assert [status for status, _headers, _body in replies] == [200, 304, 200]
    assert replies[0][2] == BODY and replies[2][2].startswith(b"A" * 1000)


def test_held_writes_are_dropped_once_the_transport_closes() -> None:
    """What a closed connection cannot take is not written; close() flushes first."""

    async def go() -> tuple[bytes, int]:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        transport, _protocol = await loop.connect_accepted_socket(asyncio.Protocol, ours)
        held = HeldWrites(transport, loop)  # type: ignore[arg-type]
        held.write(b"head ")
        held.write(b"body")
        size = held.get_write_buffer_size()
        held.close()
        held.write(b"after close")
        await asyncio.sleep(0.05)
        theirs.setblocking(False)
        received = theirs.recv(100)
        theirs.close()
        return received, size

    received, size = asyncio.run(go())
    assert received == b"head body" and size == 9


def test_a_body_made_in_one_turn_is_not_held_whole() -> None:
    """Past HOLD_BYTES the held parts go to the socket at once: the real transport's buffer,
    and with it uvicorn's flow control, sees a body made without waiting as it grows."""
    CountingTransport.writes.clear()
    with server(OneSendHttpProtocol) as port:
        ((status, _headers, body),) = exchange(port, get("/eager"), 1)
    expected = b"".join(bytes([n % 256]) * EAGER_PART for n in range(EAGER_PARTS))
    assert status == 200 and body == expected
    assert len(CountingTransport.writes) >= EAGER_PARTS * EAGER_PART // (HOLD_BYTES + EAGER_PART)
    assert max(CountingTransport.writes) <= HOLD_BYTES + EAGER_PART + 64  # + chunk framing


def test_a_refilled_buffer_is_sent_as_it_was_when_written() -> None:
    with server(OneSendHttpProtocol) as port:
        ((status, _headers, body),) = exchange(port, get("/refilled"), 1)
    assert (status, body) == (200, b"AAAABBBB")
