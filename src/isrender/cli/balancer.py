"""The supervisor of ``isrender serve --workers N``: one listening socket, N worker processes,
and each new connection handed to the ready worker holding the fewest open connections.

Why not SO_REUSEPORT (what this replaced): the kernel hashes each connection to a listener
without looking at load, so keep-alive clients pile up unevenly (4 clients over 2 workers were
measured split 2/2, 1/3 and 0/4, and a worker holding all 4 served 30% fewer requests with a
higher p99); and a worker killed with connections in its own accept queue resets them.

How (as Node's cluster does on Linux): the supervisor accepts and sends the connection's file
descriptor (SCM_RIGHTS) over a Unix SOCK_SEQPACKET pair, one message a connection; the worker
adopts it into its event loop, sends b"r" once it is serving and b"d" each time a connection
closes. The answer goes from the worker straight to the client: the supervisor touches a
connection once, at accept. A worker that dies is restarted; until one is ready, connections
wait in the listen backlog (none is refused, none is handed to a dead worker). If the
supervisor dies, each worker sees its channel close and shuts down.
"""

from __future__ import annotations

import contextlib
import selectors
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import click

__all__ = ["CLOSED", "HANDED", "READY", "Worker", "listen", "supervise"]

READY, CLOSED = b"r", b"d"  # from a worker: it is serving; a connection it held closed
HANDED = b"c"  # from the supervisor, with the connection's descriptor
RESTART_LIMIT = 5  # worker deaths within RESTART_WINDOW before the supervisor gives up
RESTART_WINDOW = 60.0
STARTUP_WAIT = 60.0  # seconds the first connections wait for every worker to be ready
ACCEPTS_A_TURN = 64  # then read the workers' reports before accepting more
BACKLOG = 2048


def listen(host: str, port: int) -> socket.socket:
    """Bind and listen, or exit with the reason (a taken port names what was asked)."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]  # fmt: skip
        listener = socket.socket(family, kind, proto)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no owner
        listener.bind(address)
        listener.listen(BACKLOG)
    except OSError as exc:
        listener.close()
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    listener.setblocking(False)
    return listener


@dataclass
class Worker:
    """One server process and the supervisor's end of its channel."""

    command: list[str]
    process: subprocess.Popen[bytes] = field(init=False)
    channel: socket.socket = field(init=False)
    open: int = 0  # connections handed and not yet reported closed
    ready: bool = False

    def __post_init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            command = [*self.command, "--handoff-fd", str(theirs.fileno())]
            self.process = subprocess.Popen(command, pass_fds=[theirs.fileno()])
        ours.setblocking(False)
        self.channel = ours

    def hand(self, connection: socket.socket) -> bool:
        """Send ``connection`` to this worker; False when it cannot take it now."""
        try:
            socket.send_fds(self.channel, [HANDED], [connection.fileno()], socket.MSG_DONTWAIT)
        except OSError:  # its queue is full, or it died since the last look
            return False
        self.open += 1
        return True

    def read_reports(self) -> bool:
        """Count what the worker reported; False once its channel is closed (it exited)."""
        while True:
            try:
                message = self.channel.recv(1)
            except BlockingIOError:
                return True
            except OSError:
                message = b""
            if not message:
                return False
            if message == READY:
                self.ready = True
            elif message == CLOSED:
                self.open = max(0, self.open - 1)

    def stop(self) -> None:
        self.channel.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)


class Balancer:
    """Accepts on ``listener`` and hands each connection to the least-loaded ready worker."""

    def __init__(self, listener: socket.socket, workers: list[Worker]) -> None:
        self.listener = listener
        self.workers = workers
        self.selector = selectors.DefaultSelector()
        self.accepting = False
        self.started = False  # every worker has been ready once
        self.starting_since = time.monotonic()
        self.turn = 0  # ties go round the workers, so equal loads alternate
        for worker in workers:
            self.selector.register(worker.channel, selectors.EVENT_READ, worker)

    def replace(self, old: Worker) -> Worker:
        with contextlib.suppress(KeyError):  # unless its channel's close was read already
            self.selector.unregister(old.channel)
        old.stop()
        new = Worker(old.command)
        self.workers[self.workers.index(old)] = new
        self.selector.register(new.channel, selectors.EVENT_READ, new)
        return new

    def step(self, timeout: float) -> None:
        """Wait up to ``timeout`` for connections or reports and deal with them."""
        self._accept_while_any_ready()
        for key, _events in self.selector.select(timeout):
            if key.data is None:
                self._accept()
            elif not key.data.read_reports():
                self.selector.unregister(key.data.channel)
                key.data.ready = False

    def _accept_while_any_ready(self) -> None:
        # With no worker ready, connections stay in the backlog rather than be refused. At
        # start they wait for every worker (up to STARTUP_WAIT): keep-alive connections stay
        # where they land, so the first worker up would keep them all.
        if not self.started:
            waited = time.monotonic() - self.starting_since
            self.started = all(w.ready for w in self.workers) or waited > STARTUP_WAIT
        ready = self.started and any(worker.ready for worker in self.workers)
        if ready and not self.accepting:
            self.selector.register(self.listener, selectors.EVENT_READ, None)
        elif not ready and self.accepting:
            self.selector.unregister(self.listener)
        self.accepting = ready

    def _accept(self) -> None:
        for _ in range(ACCEPTS_A_TURN):
            try:
                connection, _address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # out of descriptors, say: the connection waits in the backlog
                return
            with connection:  # the worker holds its own copy once handed
                self._hand(connection)

    def _hand(self, connection: socket.socket) -> None:
        self.turn += 1
        count = len(self.workers)
        ranked = sorted(
            (worker.open, (i - self.turn) % count, worker)
            for i, worker in enumerate(self.workers)
            if worker.ready
        )
        for _open, _turn, worker in ranked:
            if worker.hand(connection):
                return
        # Every ready worker's queue is full: closing is the only answer left to give.


def supervise(listener: socket.socket, commands: list[list[str]],
              stopping: Callable[[], bool]) -> int:  # fmt: skip
    """Run a worker per command until ``stopping()``; restart one that dies."""
    balancer = Balancer(listener, [Worker(command) for command in commands])
    deaths: list[float] = []
    try:
        while not stopping():
            balancer.step(0.2)
            for worker in list(balancer.workers):
                if worker.process.poll() is None or stopping():
                    continue
                deaths = [t for t in deaths if time.monotonic() - t < RESTART_WINDOW]
                deaths.append(time.monotonic())
                if len(deaths) > RESTART_LIMIT:
                    click.echo("error: server workers keep exiting "
                               f"(last: {worker.process.returncode})", err=True)  # fmt: skip
                    return 1
                balancer.replace(worker)
        return 0
    finally:
        listener.close()  # stop taking connections before the workers go
        for worker in balancer.workers:
            worker.stop()
        for worker in balancer.workers:
            try:
                worker.process.wait(15)
            except subprocess.TimeoutExpired:
                worker.process.kill()
