"""A keep-alive HTTP load generator, run in its own process so its work never shares the
measured server's interpreter: ``python benchmarks/loadgen.py URL --clients N``.

Each client is one persistent HTTP/1.1 connection, and all of them are driven by one thread
over non-blocking sockets (``selectors``), with the request bytes made once and the replies
read by a minimal parser (status, Content-Length or chunked, ``Connection: close``). So a
request costs the generator a few tens of microseconds, and a reply is timed the moment its
last byte is read: no client thread waits for the GIL inside its measured latency. (The
first version, a thread per client with ``http.client``, spent ~0.45 ms of CPU a request on
this 2-core machine, as much as a result-cache hit costs the server, and at 16 clients each
reply could wait a GIL switch interval before its time was taken.)

``{c}`` and ``{i}`` in the path are replaced by the client number and its request number
(distinct URLs when a test needs them). Prints one JSON object: every reply's status and
seconds, the wall time and the requests per second. A reply that fails (connection refused,
reset, closed early, or no answer within ``--timeout``) counts as status 0, and the client
reconnects for its next request.
"""

from __future__ import annotations

import argparse
import json
import selectors
import socket
import time
from typing import Any
from urllib.parse import urlsplit

RECV_BYTES = 1 << 18
CONNECT_SECONDS = 10.0  # connecting blocks the one thread: every client waits meanwhile


class Reply:
    """One HTTP/1.1 reply read incrementally: ``feed`` bytes until ``done``."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.status = 0
        self.length: int | None = None  # the body's length (Content-Length), when given
        self.chunked = False
        self.until_close = False  # neither: the body ends when the server closes
        self.close = False  # the server said Connection: close
        self.head_done = False
        self.done = False

    def feed(self, data: bytes) -> None:
        self.buffer += data
        if not self.head_done:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self._head(bytes(self.buffer[:end]))
            del self.buffer[: end + 4]
        if self.chunked:
            self._chunks()
        elif self.length is not None and len(self.buffer) >= self.length:
            self.done = True

    def closed(self) -> None:
        """The server closed the connection: a body read until close is complete now."""
        if self.head_done and self.until_close:
            self.done = True

    def _head(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        if not version.startswith(b"HTTP/") or not rest[:3].isdigit():
            raise ValueError(f"not an HTTP status line: {lines[0][:80]!r}")
        self.status = int(rest[:3])
        self.head_done = True
        tokens: list[bytes] = []
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                self.length = int(value)
            elif name == b"transfer-encoding" and value == b"chunked":
                self.chunked = True
            elif name == b"connection":
                tokens += [token.strip() for token in value.split(b",")]
        # HTTP/1.0 closes unless it says keep-alive; HTTP/1.1 keeps unless it says close
        self.close = b"close" in tokens or (version == b"HTTP/1.0" and b"keep-alive" not in tokens)
        if self.status in (204, 304):
            self.length, self.chunked = 0, False
        elif self.length is None and not self.chunked:
            self.until_close = True

    def _chunks(self) -> None:
        while True:
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return
            size = int(bytes(self.buffer[:end]).split(b";")[0], 16)
            if size == 0:
                # the last chunk, any trailer fields, then an empty line
                if self.buffer.find(b"\r\n\r\n", end) >= 0:
                    self.done = True
                return
            if len(self.buffer) < end + 2 + size + 2:
                return
            del self.buffer[: end + 2 + size + 2]


class Client:
    """One keep-alive connection that asks again as soon as it is answered."""

    def __init__(self, number: int, target: tuple[str, int], path: str, host: str) -> None:
        self.number, self.target, self.path, self.host = number, target, path, host
        self.sock: socket.socket | None = None
        self.sent = 0  # requests started
        self.started = 0.0
        self.reply = Reply()
        self.replies: list[tuple[int, float]] = []

    def request(self, selector: selectors.BaseSelector) -> bool:
        """Send the next request; False when the connection could not be made (counted)."""
        path = self.path.replace("{c}", str(self.number)).replace("{i}", str(self.sent))
        data = f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode("latin-1")
        self.sent += 1
        self.started, self.reply = time.perf_counter(), Reply()
        try:
            if self.sock is None:
                self.sock = socket.create_connection(self.target, timeout=CONNECT_SECONDS)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.sock.setblocking(False)
                selector.register(self.sock, selectors.EVENT_READ, self)
            self.sock.sendall(data)  # a small request into an empty send buffer
        except OSError:
            self.finish(selector, failed=True)
            return False
        return True

    @property
    def in_flight(self) -> bool:
        return self.sent > len(self.replies)

    def readable(self, selector: selectors.BaseSelector) -> bool:
        """Read what arrived; True once the reply is complete (or has failed)."""
        assert self.sock is not None
        try:
            data = self.sock.recv(RECV_BYTES)
        except BlockingIOError:
            return False
        except OSError:
            data = b""
        if not self.in_flight:  # the server closed an idle connection (or sent unasked bytes)
            self.disconnect(selector)
            return False
        if data:
            try:
                self.reply.feed(data)
            except ValueError:  # not HTTP: count it failed
                self.finish(selector, failed=True)
                return True
            if self.reply.done:
                self.finish(selector, failed=False)
            return self.reply.done
        self.reply.closed()
        self.finish(selector, failed=not self.reply.done, closed=True)
        return True

    def finish(self, selector: selectors.BaseSelector, failed: bool, closed: bool = False) -> None:
        """Count the reply in flight, once; a connection that cannot serve the next goes."""
        elapsed = time.perf_counter() - self.started
        self.replies.append((0 if failed else self.reply.status, elapsed))
        if failed or closed or self.reply.close or self.reply.until_close:
            self.disconnect(selector)

    def disconnect(self, selector: selectors.BaseSelector) -> None:
        if self.sock is not None:
            selector.unregister(self.sock)
            self.sock.close()
            self.sock = None


def run(url: str, clients: int, requests: int, duration: float, timeout: float) -> dict[str, Any]:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    everyone = [Client(n, (host, port), path, f"{host}:{port}") for n in range(clients)]
    selector = selectors.DefaultSelector()
    started = time.perf_counter()
    until = started + duration

    def more(client: Client) -> bool:
        if requests:
            return client.sent < requests
        return time.perf_counter() < until

    flying = set(everyone)  # clients with a request out, or one still to send

    def ask(client: Client) -> None:  # the next request, if any (a refused one counts)
        while more(client) and not client.request(selector):
            pass
        if not client.in_flight:  # done: an idle connection would only be closed on us
            client.disconnect(selector)
            flying.discard(client)

    for client in everyone:
        ask(client)
    while flying:
        for key, _events in selector.select(timeout=1.0):
            if key.data.readable(selector):
                ask(key.data)
        now = time.perf_counter()
        for client in [c for c in flying if now - c.started > timeout]:
            client.finish(selector, failed=True)
            ask(client)
    for client in everyone:
        client.disconnect(selector)
    wall = time.perf_counter() - started
    replies = [reply for client in everyone for reply in client.replies]
    return {"replies": replies, "wall": wall, "rps": len(replies) / wall}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--requests", type=int, default=0, help="per client; 0: --duration")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a reply may take")
    args = parser.parse_args()
    print(json.dumps(run(args.url, args.clients, args.requests, args.duration, args.timeout)))


if __name__ == "__main__":
    main()
