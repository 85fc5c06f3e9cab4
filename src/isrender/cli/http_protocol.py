"""uvicorn's httptools protocol, sending each reply's head and body in one system call.

uvicorn writes a reply in two ``transport.write`` calls, the status line and headers, then
the body: two ``send`` calls and two TCP segments, each waking the client. On a small reply
(a thumbnail, a result-cache hit, a 304) that second send was most of the event loop's own
time (py-spy of the server under one keep-alive client). Here the protocol's transport
holds what is written and hands it to the socket as one ``writelines`` (on uvloop a single
vectored write, no copy):

- when the reply is complete (uvicorn's ``on_response_complete``): no wait at all;
- at the event loop's next turn otherwise (a streamed body, a reply that closes the
  connection), so nothing waits longer than one turn;
- at once when ``HOLD_BYTES`` are held: a body streamed without yielding to the loop reaches
  the real transport as it grows, whose full buffer pauses the app (uvicorn's flow control)
  as it would without this.

Everything else goes to uvicorn's transport unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["OneSendHttpProtocol"]

HOLD_BYTES = 64 * 1024  # more held than this is written at once (a small reply is far less)


class HeldWrites:
    """A transport that holds written bytes until ``flush`` or the loop's next turn."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport, self.loop = transport, loop
        self.held: list[bytes] = []
        self.held_bytes = 0
        self.pending: asyncio.Handle | None = None  # the flush at the loop's next turn

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not isinstance(data, bytes):  # a buffer the writer may refill: keep what it was
            data = bytes(data)
        if self.pending is None:
            self.pending = self.loop.call_soon(self.flush)
        self.held.append(data)
        self.held_bytes += len(data)
        if self.held_bytes > HOLD_BYTES:
            self.flush()

    def writelines(self, parts: list[bytes]) -> None:
        for part in parts:
            self.write(part)

    def flush(self) -> None:
        if self.pending is not None:
            self.pending.cancel()
            self.pending = None
        held, self.held, self.held_bytes = self.held, [], 0
        if not held or self.transport.is_closing():
            return
        if len(held) == 1:
            self.transport.write(held[0])
        else:
            self.transport.writelines(held)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() + self.held_bytes

    def __getattr__(self, name: str) -> Any:  # everything else is the transport's own
        return getattr(self.transport, name)


class OneSendHttpProtocol(HttpToolsProtocol):
    """uvicorn's protocol over ``HeldWrites``: one send a complete reply."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        held: Any = HeldWrites(transport, self.loop)
        super().connection_made(held)

    def on_response_complete(self) -> None:
        writes: Any = self.transport
        writes.flush()
        super().on_response_complete()
