"""The worker's side of ``isrender serve --workers N`` (the supervisor's: ``cli/balancer.py``),
and the messages the two exchange over their Unix SOCK_SEQPACKET pair.

- Supervisor to worker: ``HANDED`` with one connection's file descriptor (SCM_RIGHTS).
- Worker to supervisor: its whole state, ``STATE`` = (phase, connections closed so far). A
  state supersedes the one before, so a report that could not be sent (the supervisor's
  queue was full) is not lost: the worker sends the latest state as soon as the channel
  takes it, and the supervisor's count (handed - closed) is right again.

Phases: ``READY`` once serving; ``STOPPING`` when it begins to shut down, after which the
supervisor hands it nothing more and closes its sending side, so the worker adopts what was
already queued, then finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import uvicorn

__all__ = ["HANDED", "READY", "STARTING", "STATE", "STOPPING", "handed_server"]

HANDED = b"c"
STATE = struct.Struct("!BQ")  # phase, connections closed since the worker started
STARTING, READY, STOPPING = 0, 1, 2
DRAIN_WAIT = 2.0  # seconds a stopping worker waits for the supervisor to stop handing

log = logging.getLogger(__name__)


class Reports:
    """The worker's state, sent whenever it changes and re-sent once the channel can take it."""

    def __init__(self, channel: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        self.channel, self.loop = channel, loop
        self.phase, self.closed = STARTING, 0
        self.waiting = False  # for the channel to be writable

    def set_phase(self, phase: int) -> None:
        self.phase = phase
        self.send()

    def closed_one(self) -> None:
        self.closed += 1
        self.send()

    def send(self) -> None:
        try:
            self.channel.send(STATE.pack(self.phase, self.closed))
        except BlockingIOError:  # the channel is non-blocking: try again when it drains
            if not self.waiting:
                self.loop.add_writer(self.channel.fileno(), self.send)
                self.waiting = True
            return
        except OSError:  # the supervisor is gone: the channel's end-of-file stops us
            pass
        if self.waiting:
            self.loop.remove_writer(self.channel.fileno())
            self.waiting = False


def handed_server(config: uvicorn.Config, channel: socket.socket) -> uvicorn.Server:
    """A uvicorn server with no socket of its own: it serves the connections the supervisor
    sends over ``channel`` and reports its state back."""
    import uvicorn

    channel.setblocking(False)

    class HandedServer(uvicorn.Server):
        reports: Reports
        adopting: set[asyncio.Task[None]]  # held until done (the loop keeps weak references)
        drained: asyncio.Event  # the supervisor's end-of-file was read

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            loop = asyncio.get_running_loop()
            self.reports, self.adopting, self.drained = (
                Reports(channel, loop),
                set(),
                asyncio.Event(),
            )
            await super().startup(sockets=[])
            if self.started:
                loop.add_reader(channel.fileno(), self._adopt, self._protocol_factory())
                self.reports.set_phase(READY)

        def _protocol_factory(self) -> Any:
            base: Any = self.config.http_protocol_class
            reports = self.reports

            class Reporting(base):  # type: ignore[misc]
                def connection_lost(self, exc: Exception | None) -> None:
                    try:
                        super().connection_lost(exc)
                    finally:
                        reports.closed_one()

            def protocol() -> asyncio.Protocol:
                made: asyncio.Protocol = Reporting(config=self.config,
                    server_state=self.server_state, app_state=self.lifespan.state)  # fmt: skip
                return made

            return protocol

        def _adopt(self, protocol: Any) -> None:
            loop = asyncio.get_running_loop()
            while True:
                try:
                    message, fds, _flags, _address = socket.recv_fds(channel, 1, 1)
                except BlockingIOError:
                    return
                except OSError:
                    message, fds = b"", []
                if not message:  # the supervisor stopped handing (or exited): finish
                    loop.remove_reader(channel.fileno())
                    self.drained.set()
                    self.should_exit = True
                    return
                if not fds:  # the kernel dropped it: this process is out of descriptors
                    log.warning("a connection handed to this worker was lost: no descriptors")
                    self.reports.closed_one()
                for fd in fds:
                    task = loop.create_task(self._take(protocol, socket.socket(fileno=fd)))
                    self.adopting.add(task)
                    task.add_done_callback(self.adopting.discard)

        async def _take(self, protocol: Any, sock: socket.socket) -> None:
            try:
                await asyncio.get_running_loop().connect_accepted_socket(protocol, sock)
            except OSError:  # the event loop could not take it: it was never served
                sock.close()
                self.reports.closed_one()

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            if self.started:
                # Stop the supervisor handing us connections, adopt those already queued,
                # so uvicorn's shutdown below closes them as it closes the others.
                self.reports.set_phase(STOPPING)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.drained.wait(), DRAIN_WAIT)
                asyncio.get_running_loop().remove_reader(channel.fileno())
                await asyncio.gather(*self.adopting, return_exceptions=True)
            await super().shutdown(sockets)

    return HandedServer(config)
