"""benchmarks/loadgen.py, the instrument of the server benchmarks and of the 64-client
admission test: its reply parser (table), and whole runs against a real uvicorn server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from benchmarks.loadgen import Reply, run
from fastapi import FastAPI, Response
from fastapi.responses import StreamingResponse

from tests.http_server import running

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n"
# (name, the reply cut into the pieces recv() returns, status, done, server closes)
REPLIES = [
    ("length", [HEAD + b"content-length: 5\r\n\r\nhello"], 200, True, False),
    ("length in pieces", [HEAD + b"content-le", b"ngth: 5\r\n\r", b"\nhel", b"lo"], 200, True,
     False),
    ("length, short", [HEAD + b"content-length: 5\r\n\r\nhell"], 200, False, False),
    ("chunked", [HEAD + b"transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"], 200,
     True, False),
    ("chunked in pieces", [HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhe", b"llo\r\n3\r",
                           b"\nabc\r\n0\r\n", b"\r\n"], 200, True, False),
    ("chunked, unfinished", [HEAD + b"transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n"], 200,
     False, False),
    ("not modified", [b"HTTP/1.1 304 Not Modified\r\netag: \"x\"\r\n\r\n"], 304, True, False),
    ("closing", [HEAD + b"Connection: close\r\ncontent-length: 2\r\n\r\nok"], 200, True, True),
    ("refusal", [b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-length: 4"
                 b"\r\n\r\nbusy"], 503, True, False),
    ("close among tokens", [HEAD + b"Connection: keep-alive, Close\r\ncontent-length: 0\r\n\r\n"],
     200, True, True),
    ("HTTP/1.0 closes", [b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok"], 200, True, True),
    ("HTTP/1.0 kept alive", [b"HTTP/1.0 200 OK\r\nconnection: keep-alive\r\n"
                             b"content-length: 2\r\n\r\nok"], 200, True, False),
]  # fmt: skip


@pytest.mark.parametrize(("name", "pieces", "status", "done", "close"), REPLIES,
                         ids=[row[0] for row in REPLIES])  # fmt: skip
def test_the_reply_parser(name: str, pieces: list[bytes], status: int, done: bool, close: bool):
    reply = Reply()
    for piece in pieces:
        reply.feed(piece)
    assert (reply.status, reply.done, reply.close) == (status, done, close)


@pytest.mark.parametrize("line", [b"SSH-2.0-OpenSSH", b"HTTP/1.1", b"HTTP/1.1 abc", b""])
def test_a_reply_that_is_not_http_is_refused(line: bytes) -> None:
    """A ValueError, which a client counts as a failed reply (status 0)."""
    with pytest.raises(ValueError, match="not an HTTP status line"):
        Reply().feed(line + b"\r\ncontent-length: 0\r\n\r\n")


def test_a_body_until_close_is_done_when_the_server_closes() -> None:
    reply = Reply()
    reply.feed(b"HTTP/1.0 200 OK\r\n\r\nsome bytes")
    assert not reply.done
    reply.closed()
    assert reply.done


def app() -> FastAPI:
    made = FastAPI()

    @made.get("/n/{n}")
    async def numbered(n: int) -> Response:
        return Response(b"x" * n, status_code=200 if n % 2 else 202)

    @made.get("/stream")
    async def stream() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for _ in range(3):
                await asyncio.sleep(0)
                yield b"abc"

        return StreamingResponse(parts())

    @made.get("/close")
    async def close() -> Response:
        return Response(b"bye", headers={"Connection": "close"})

    @made.get("/slow")
    async def slow() -> Response:
        await asyncio.sleep(1.5)
        return Response(b"late")

    @made.get("/after/{seconds}")
    async def after(seconds: float) -> Response:
        await asyncio.sleep(seconds)
        return Response(b"in time")

    return made


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with running(app()) as base:
        yield base


@pytest.mark.parametrize(("path", "statuses"), [
    ("/n/{c}{i}", {200, 202}),  # each client and request its own URL
    ("/stream", {200}),
    ("/close", {200}),  # a new connection for each request
])  # fmt: skip
def test_every_request_gets_its_reply(url: str, path: str, statuses: set[int]):
    result = run(url + path, clients=4, requests=5, duration=0, timeout=10)
    replies = result["replies"]
    assert len(replies) == 20
    assert {status for status, _seconds in replies} == statuses
    assert all(0 < seconds < 5 for _status, seconds in replies)


def test_numbered_urls_reach_the_server(url: str) -> None:
    """{c} and {i}: client 1's requests 0-2 ask /n/10, /n/11, /n/12 (even: 202, odd: 200)."""
    result = run(url + "/n/1{i}", clients=1, requests=3, duration=0, timeout=10)
    assert [status for status, _seconds in result["replies"]] == [202, 200, 202]


def test_a_run_by_duration_stops(url: str) -> None:
    result = run(url + "/n/1", clients=2, requests=0, duration=0.3, timeout=10)
    assert 0.3 <= float(result["wall"]) < 3
    assert len(result["replies"]) > 2


def test_no_answer_in_time_and_no_server_count_as_failures(url: str) -> None:
    slow = run(url + "/slow", clients=1, requests=1, duration=0, timeout=0.3)
    assert [status for status, _seconds in slow["replies"]] == [0]
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    refused = run(f"http://127.0.0.1:{port}/x", clients=2, requests=3, duration=0, timeout=5)
    assert [status for status, _seconds in refused["replies"]] == [0] * 6


def test_a_client_done_early_is_not_counted_again_when_its_connection_is_closed() -> None:
    """Client 0 is answered after 0.2 s, client 1 after 1.2 s; meanwhile the server closes client
    0's idle connection (keep-alive 0.3 s). Two replies, no more."""
    with running(app(), timeout_keep_alive=0.3) as base:
        result = run(base + "/after/{c}.2", clients=2, requests=1, duration=0, timeout=10)
    assert sorted(status for status, _seconds in result["replies"]) == [200, 200]
    assert len(result["replies"]) == 2
