"""uvicorn's httptools protocol, sending each reply's head and body in one system call.

uvicorn writes a reply in two ``transport.write`` calls, the status line and headers, then
the body: two ``send`` calls and two TCP segments, each waking the client. On a small reply
(a thumbnail, a result-cache hit, a 304) that second send was most of the event loop's own
time (py-spy of the server under one keep-alive client). Here the protocol's transport
holds what is written and hands it to the socket as one ``writelines`` (a single vectored
write, no copy):

- when the reply is complete (uvicorn's ``on_response_complete``): no wait at all;
- at the end of the event loop's turn otherwise (a streamed body, a reply that closes the
  connection), so nothing waits longer than one turn.

Everything else goes to uvicorn's transport unchanged (flow control included: the real
transport still tells the protocol when its buffer is full).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["OneSendHttpProtocol"]


class HeldWrites:
    """A transport that holds written bytes until ``flush`` or the loop's next turn."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport, self.loop = transport, loop
        self.held: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self.held:
            self.loop.call_soon(self.flush)
        self.held.append(data)

    def flush(self) -> None:
        held, self.held = self.held, []
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
        return self.transport.get_write_buffer_size() + sum(len(part) for part in self.held)

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
