"""The supervisor of ``isrender serve --workers N``: one listening socket, N worker processes,
and each new connection handed to the ready worker holding the fewest open connections.

Why not SO_REUSEPORT (what this replaced): the kernel hashes each connection to a listener
without looking at load, so keep-alive clients pile up unevenly (4 clients over 2 workers were
measured split 2/2, 1/3 and 0/4, and a worker holding all 4 served 30% fewer requests with a
higher p99); and a worker killed with connections in its own accept queue resets them.

How (as Node's cluster does on Linux): the supervisor accepts and sends the connection's file
descriptor (SCM_RIGHTS) over a Unix SOCK_SEQPACKET pair, one message a connection; the worker
adopts it into its event loop and reports its state: ready, stopping, and how many
connections it has closed (``cli/handoff.py``). The answer goes from the worker straight to
the client: the supervisor touches a connection once, at accept. A worker that dies is
restarted; a worker that stops is handed nothing more. While no worker can take a
connection (none ready, every queue full, or this process out of descriptors) connections
wait in the listen backlog: none is accepted only to be dropped. If the supervisor dies,
each worker sees its channel close and shuts down.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import click

from isrender.cli.handoff import HANDED, READY, STATE, STOPPING

__all__ = ["Worker", "listen", "supervise"]

RESTART_LIMIT = 5  # worker deaths within RESTART_WINDOW before the supervisor gives up
RESTART_WINDOW = 60.0
STOP_WAIT = 15.0  # seconds the workers get to finish after SIGTERM, then SIGKILL
STARTUP_WAIT = 60.0  # seconds the first connections wait for every worker to be ready
ACCEPTS_A_TURN = 64  # then read the workers' reports before accepting more
ACCEPT_PAUSE = 0.1  # seconds without accepting after accept() fails (out of descriptors)
RETRY_WAIT = 0.01  # seconds between tries to hand a connection no worker could take
BACKLOG = 2048

log = logging.getLogger("isrender.serve")


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
    handed: int = 0
    closed: int = 0  # as last reported by the worker
    ready: bool = False

    def __post_init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            command = [*self.command, "--handoff-fd", str(theirs.fileno())]
            self.process = subprocess.Popen(command, pass_fds=[theirs.fileno()])
        ours.setblocking(False)  # (send_fds ignores its flags: this is what keeps it from waiting)
        self.channel = ours

    @property
    def open(self) -> int:
        return self.handed - self.closed

    def hand(self, connection: socket.socket) -> bool:
        """Send ``connection`` to this worker; False when it cannot take it now."""
        try:
            socket.send_fds(self.channel, [HANDED], [connection.fileno()])
        except OSError:  # its queue is full, or it died since the last look
            return False
        self.handed += 1
        return True

    def read_reports(self) -> bool:
        """Take in the worker's latest state; False once its channel is closed (it exited)."""
        while True:
            try:
                message = self.channel.recv(STATE.size)
            except BlockingIOError:
                return True
            except OSError:
                message = b""
            if not message:
                self.ready = False
                return False
            if len(message) == STATE.size:
                phase, self.closed = STATE.unpack(message)
                self.ready = phase == READY
                if phase == STOPPING:  # hand it nothing more; its end-of-file lets it finish
                    with contextlib.suppress(OSError):
                        self.channel.shutdown(socket.SHUT_WR)

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
        self.held: socket.socket | None = None  # accepted, and no worker could take it yet
        self.paused_until = 0.0  # accept() failed: no accepting before this time
        for worker in workers:
            self.selector.register(worker.channel, selectors.EVENT_READ, worker)

    def replace(self, old: Worker) -> None:
        with contextlib.suppress(KeyError):  # unless its channel's close was read already
            self.selector.unregister(old.channel)
        old.stop()
        new = Worker(old.command)
        self.workers[self.workers.index(old)] = new
        self.selector.register(new.channel, selectors.EVENT_READ, new)

    def step(self, timeout: float) -> None:
        """Wait up to ``timeout`` for connections or reports and deal with them."""
        if self.held is not None and self._hand(self.held):
            self.held.close()
            self.held = None
        self._accept_when_possible()
        waiting = self.held is not None or time.monotonic() < self.paused_until
        for key, _events in self.selector.select(RETRY_WAIT if waiting else timeout):
            if key.data is None:
                self._accept()
            elif not key.data.read_reports():
                self.selector.unregister(key.data.channel)

    def _accept_when_possible(self) -> None:
        # Connections no worker can take stay in the backlog rather than be accepted and
        # dropped. At start they wait for every worker (up to STARTUP_WAIT): keep-alive
        # connections stay where they land, so the first worker up would keep them all.
        if not self.started:
            waited = time.monotonic() - self.starting_since
            self.started = all(w.ready for w in self.workers) or waited > STARTUP_WAIT
        able = (
            self.started
            and any(worker.ready for worker in self.workers)
            and self.held is None
            and time.monotonic() >= self.paused_until
        )
        if able and not self.accepting:
            self.selector.register(self.listener, selectors.EVENT_READ, None)
        elif not able and self.accepting:
            self.selector.unregister(self.listener)
        self.accepting = able

    def _accept(self) -> None:
        for _ in range(ACCEPTS_A_TURN):
            try:
                connection, _address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # out of descriptors: wait rather than spin on a ready listener
                self.paused_until = time.monotonic() + ACCEPT_PAUSE
                return
            if not self._hand(connection):  # every queue is full: keep it, accept no more
                self.held = connection
                return
            connection.close()  # the worker holds its own copy

    def _hand(self, connection: socket.socket) -> bool:
        self.turn += 1
        count = len(self.workers)
        ranked = sorted(
            (worker.open, (i - self.turn) % count, worker)
            for i, worker in enumerate(self.workers)
            if worker.ready
        )
        return any(worker.hand(connection) for _open, _turn, worker in ranked)


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
                log.warning("server worker %d exited (code %s): restarting it",
                            worker.process.pid, worker.process.returncode)  # fmt: skip
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
        if balancer.held is not None:
            balancer.held.close()
        for worker in balancer.workers:
            worker.stop()
        deadline = time.monotonic() + STOP_WAIT
        for worker in balancer.workers:
            try:
                worker.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
