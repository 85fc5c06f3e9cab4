"""``isrender serve --workers 2`` as deployed (cli/balancer.py): real processes, connections
counted per worker from /proc, workers and the supervisor killed with SIGKILL."""

from __future__ import annotations

import http.client
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from isrender.catalog import Catalog
from isrender.config import Settings
from tests.http_server import free_port, wait_until_serving
from tests.render_fixtures import gradient
from tests.waiting import until

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")


@dataclass
class Served:
    url: str
    port: int
    process: subprocess.Popen[bytes]

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return sorted(int(pid) for pid in path.read_text().split())

    def connections(self) -> dict[int, int]:
        """Established connections to the port, by worker pid."""
        held = _established_inodes(self.port)
        return {pid: len(_socket_inodes(pid) & held) for pid in self.workers()}


def _established_inodes(port: int) -> set[str]:
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                found.add(fields[9])
    return found


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    catalog = Catalog(Settings(data_dir=data))
    acme = catalog.add_company("Acme").id
    gradient(64, 48).write_to_file(str(tmp_path / "shoe.png"))
    catalog.upload(acme, [tmp_path / "shoe.png"], "products")
    return data


@contextmanager
def serving(data_dir: Path, workers: int = 2) -> Iterator[Served]:
    port = free_port()
    command = [sys.executable, "-c", "from isrender.cli import main; main()", "serve",
               "--port", str(port), "--workers", str(workers), "--log-level", "warning",
               "--no-worker"]  # fmt: skip
    env = {**os.environ, "ISRENDER_DATA_DIR": str(data_dir)}
    process = subprocess.Popen(command, env=env)
    served = Served(f"http://127.0.0.1:{port}", port, process)
    try:
        wait_until_serving(f"{served.url}/healthz", process)
        until(lambda: len(served.workers()) == workers, "the workers to start")
        _settle(served)  # wait_until_serving's request is counted out
        yield served
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(20)


def _keep_alive(served: Served, stack: ExitStack) -> http.client.HTTPConnection:
    """A connection that has been answered once, so a worker holds it."""
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    stack.callback(connection.close)
    connection.request("GET", "/healthz")
    assert connection.getresponse().status == 200
    return connection


def test_keep_alive_connections_are_split_evenly(data_dir: Path) -> None:
    # SO_REUSEPORT hashed 8 connections over 2 workers unevenly 3 times in 4 (binomial)
    with serving(data_dir) as served, ExitStack() as stack:
        for _ in range(8):
            _keep_alive(served, stack)
        assert sorted(served.connections().values()) == [4, 4]


def test_a_new_connection_goes_to_the_worker_holding_fewest(data_dir: Path) -> None:
    with serving(data_dir) as served, ExitStack() as stack:
        connections = [_keep_alive(served, stack) for _ in range(4)]
        first, second = served.workers()
        assert served.connections() == {first: 2, second: 2}
        for connection in connections:  # close the two the first worker holds
            port = connection.sock.getsockname()[1]
            if _held_by(first, port):
                connection.close()
        until(lambda: served.connections()[first] == 0, "the first worker to close its two")
        time.sleep(0.3)  # its reports reach the supervisor
        for _ in range(2):  # round robin would give one of these to the second worker
            _keep_alive(served, stack)
        assert served.connections() == {first: 2, second: 2}


def _held_by(pid: int, client_port: int) -> bool:
    return client_port in _client_ports(pid)


def _client_ports(pid: int) -> set[int]:
    """The client ports of the connections ``pid`` holds."""
    inodes, ports = _socket_inodes(pid), set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[2].rsplit(":", 1)[1], 16))
    return ports


def test_a_killed_worker_is_replaced_and_every_request_is_answered(data_dir: Path) -> None:
    """A crowd of clients, a fresh connection a request; SIGKILL one worker mid-run. Only a
    request that worker held can fail, a retry succeeds, and the new worker takes its share."""
    results: list[tuple[int, str]] = []
    stop = threading.Event()

    def client(served: Served, number: int) -> None:
        url = f"{served.url}/is/image/Acme/shoe?wid=32&fmt=png"
        while not stop.is_set():
            try:
                reply = httpx.get(url, timeout=10)
                results.append((number, str(reply.status_code)))
            except httpx.TransportError as exc:
                results.append((number, type(exc).__name__))

    with serving(data_dir) as served:
        crowd = [threading.Thread(target=client, args=(served, n)) for n in range(6)]
        for thread in crowd:
            thread.start()
        time.sleep(1.5)
        victim = served.workers()[0]
        os.kill(victim, signal.SIGKILL)
        until(lambda: victim not in served.workers() and len(served.workers()) == 2,
              "the killed worker to be replaced")  # fmt: skip
        time.sleep(3)  # the crowd runs on against the new worker
        stop.set()
        for thread in crowd:
            thread.join(20)
        replaced = served.workers()
        # the new worker takes its share once it is ready (its start may outlast the crowd)
        until(lambda: _split_of_four(served) == [2, 2], "the new worker to take its share")
        assert served.process.poll() is None
    failed = [(n, outcome) for n, outcome in results if outcome != "200"]
    assert len(failed) <= len(crowd), failed  # at most the one each client had in the victim
    for number, _outcome in failed:  # and each client's next request was answered
        mine = [outcome for n, outcome in results if n == number]
        assert mine[-1] == "200", mine
    assert len(results) - len(failed) > 50
    assert victim not in replaced


def _split_of_four(served: Served) -> list[int]:
    with ExitStack() as stack:
        for _ in range(4):
            _keep_alive(served, stack)
        split = sorted(served.connections().values())
    _settle(served)
    return split


def _settle(served: Served) -> None:
    """Wait until the workers hold no connection and have told the supervisor so."""
    until(lambda: sum(served.connections().values()) == 0, "every connection to close")
    time.sleep(0.3)


def test_workers_stop_when_the_supervisor_is_killed(data_dir: Path) -> None:
    with serving(data_dir) as served:
        workers = served.workers()
        served.process.kill()
        served.process.wait(10)
        until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers),
              "the workers to exit after their supervisor")  # fmt: skip
    with socket.socket() as probe:  # and the port is free again
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", served.port))


def test_sigterm_stops_everything_cleanly(data_dir: Path) -> None:
    with serving(data_dir) as served:
        workers = served.workers()
        served.process.terminate()
        assert served.process.wait(20) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_a_taken_port_is_named(data_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-c", "from isrender.cli import main; main()", "serve",
             "--port", str(port), "--workers", "2"],
            env={**os.environ, "ISRENDER_DATA_DIR": str(data_dir)},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr


# ---- what the supervisor does when a worker or itself cannot keep up (real processes) ------


def _raw_requests(port: int, count: int) -> list[socket.socket]:
    """``count`` connections, each with a whole request sent (the kernel holds it until a
    worker reads it)."""
    sockets = []
    for _ in range(count):
        client = socket.create_connection(("127.0.0.1", port), timeout=30)
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        sockets.append(client)
    return sockets


def _answer(client: socket.socket) -> bytes:
    with client:
        try:
            return client.recv(64)
        except OSError as exc:
            return repr(exc).encode()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _lowest_free_fd(pid: int) -> int:
    """The soft limit at which ``pid`` can open no more descriptors."""
    used = {int(fd.name) for fd in Path(f"/proc/{pid}/fd").iterdir()}
    return min(set(range(len(used) + 1)) - used)


def test_connections_no_worker_can_take_wait_and_are_all_answered(data_dir: Path) -> None:
    # Each worker's queue holds ~280 connections; with both stopped, 700 overflow them. The
    # supervisor keeps the overflow in the listen backlog instead of closing it.
    with serving(data_dir) as served:
        workers = served.workers()
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
        try:
            clients = _raw_requests(served.port, 700)
            time.sleep(1)
        finally:
            for pid in workers:
                os.kill(pid, signal.SIGCONT)
        answers = [_answer(client) for client in clients]
    assert all(a.startswith(b"HTTP/1.1 200") for a in answers), {a[:40] for a in answers}


def test_closes_reported_while_the_supervisor_stalls_are_counted(data_dir: Path) -> None:
    # 600 closes from one worker while the supervisor is stopped overflow what its channel
    # holds (~280 reports); the worker's state reports catch up, so the counts come out right.
    with serving(data_dir) as served, ExitStack() as stack:
        connections = [_keep_alive(served, stack) for _ in range(1200)]
        first, second = served.workers()
        assert served.connections() == {first: 600, second: 600}
        sockets = len(_socket_inodes(first))
        os.kill(served.process.pid, signal.SIGSTOP)
        try:
            ports = _client_ports(first)
            held = [c for c in connections if c.sock.getsockname()[1] in ports]
            assert len(held) == 600
            for connection in held:
                connection.close()
            until(lambda: len(_socket_inodes(first)) <= sockets - 600, "the worker to close 600")
        finally:
            os.kill(served.process.pid, signal.SIGCONT)
        for connection in connections:
            connection.close()
        _settle(served)
        assert _split_of_four(served) == [2, 2]


def test_a_supervisor_out_of_descriptors_waits_without_spinning(data_dir: Path) -> None:
    with serving(data_dir) as served:
        supervisor = served.process.pid
        limits = resource.prlimit(supervisor, resource.RLIMIT_NOFILE)
        resource.prlimit(
            supervisor, resource.RLIMIT_NOFILE, (_lowest_free_fd(supervisor), limits[1])
        )
        try:
            clients = _raw_requests(served.port, 3)
            before = _cpu_seconds(supervisor)
            time.sleep(2)
            spent = _cpu_seconds(supervisor) - before
        finally:
            resource.prlimit(supervisor, resource.RLIMIT_NOFILE, limits)
        answers = [_answer(client) for client in clients]
    assert spent < 0.5, f"the supervisor spun: {spent:.2f} s of CPU in 2 s"
    assert all(a.startswith(b"HTTP/1.1 200") for a in answers), answers


def test_a_worker_out_of_descriptors_loses_connections_not_its_count(data_dir: Path) -> None:
    with serving(data_dir) as served, ExitStack() as stack:
        first, second = served.workers()
        limits = resource.prlimit(first, resource.RLIMIT_NOFILE)
        resource.prlimit(first, resource.RLIMIT_NOFILE, (_lowest_free_fd(first), limits[1]))
        try:
            answers = [_answer(client) for client in _raw_requests(served.port, 4)]
        finally:
            resource.prlimit(first, resource.RLIMIT_NOFILE, limits)
        # those handed to the full worker are closed unanswered; the others are served
        assert {a.startswith(b"HTTP/1.1 200") for a in answers} == {False, True}
        _settle(served)
        for _ in range(4):  # and the lost ones are not counted against the first worker
            _keep_alive(served, stack)
        assert served.connections() == {first: 2, second: 2}


FORM_NEVER_FINISHED = (
    b"POST /ui/login HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\n\r\nuser=a"
)


def test_a_stopping_worker_is_handed_nothing_more(data_dir: Path) -> None:
    with serving(data_dir) as served:
        first, _second = served.workers()
        slow = []
        for _ in range(2):  # a form whose body never comes: one on each worker
            client = socket.create_connection(("127.0.0.1", served.port), timeout=30)
            client.sendall(FORM_NEVER_FINISHED)
            slow.append(client)
        until(lambda: served.connections()[first] == 1, "the slow form to arrive")
        os.kill(first, signal.SIGTERM)  # it stops, waiting for its form to finish
        time.sleep(1)
        try:
            assert Path(f"/proc/{first}").exists()
            replies = [httpx.get(f"{served.url}/healthz", timeout=5).status_code
                       for _ in range(6)]  # fmt: skip
        finally:
            for client in slow:
                client.close()
    assert replies == [200] * 6


@pytest.mark.parametrize("fd", ["99", "0", "2"])
def test_the_supervisors_channel_option_refuses_anything_else(data_dir: Path, fd: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from isrender.cli import main; main()", "serve",
         "--handoff-fd", fd, "--port", str(free_port())],
        env={**os.environ, "ISRENDER_DATA_DIR": str(data_dir)},
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert f"--handoff-fd {fd} is not a connection channel" in done.stderr
    assert "Traceback" not in done.stderr
