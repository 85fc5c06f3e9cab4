"""``isrender serve``: the HTTP service on uvicorn, in one process or ``--workers N``.

With N > 1 this process supervises N ``isrender serve`` children, each binding the same port
with SO_REUSEPORT: the kernel spreads new connections over them, and every answer goes
straight from the child that accepted it, with no proxy hop and no shared accept lock. (Plain
``uvicorn --workers`` on the same app was measured adding no latency at one client either,
benchmarks/test_server_workers.py; this supervisor exists for the job worker, the serving
tuning in every child and restarts.) The children share state through the database and
``data_dir`` (secret key, originals); only the first runs the in-process job worker. A child
that dies is restarted.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import sys
import time

import click

__all__ = ["register"]

RESTART_LIMIT = 5  # child deaths within RESTART_WINDOW before the supervisor gives up
RESTART_WINDOW = 60.0
SWITCH_INTERVAL = float(os.environ.get("ISRENDER_SWITCH_INTERVAL", "0.0005"))  # seconds


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", type=click.IntRange(0, 64), default=0,
              help="Server processes sharing the port; 0: one per CPU core.")  # fmt: skip
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))  # fmt: skip
@click.option("--log-format", default="text", show_default=True,
              type=click.Choice(["text", "json"]),
              help="Text lines, or one JSON object per line (both carry request ids).")  # fmt: skip
@click.option("--no-worker", is_flag=True,
              help="No job worker in this process (run `isrender jobs worker`).")  # fmt: skip
@click.option("--reuse-port", is_flag=True, hidden=True)  # set by the supervisor on children
def serve_cmd(
    host: str, port: int, workers: int, log_level: str, log_format: str, no_worker: bool,
    reuse_port: bool,
) -> None:  # fmt: skip
    """Serve /is/image/{company}/{asset}?{modifiers} from the catalog in the data directory.

    Settings come from isrender.toml / ISRENDER_* as for every command (render_slots,
    render_queue, render_queue_timeout, render_memory_mb, render_timeout, expiration,
    request_lock, url_signing_key); slots, queue and memory are per process. With the local
    job backend one process also runs a job worker, unless --no-worker.
    """
    from isrender.cli.support import catalog_settings, reports_errors

    reports_errors(catalog_settings)()  # no catalog: name the folder looked in, exit 2
    count = workers or os.cpu_count() or 1
    if count == 1 or reuse_port:
        _serve_one(host, port, log_level, log_format, not no_worker, reuse_port)
        return
    _refuse_taken_port(host, port)
    base = [sys.executable, "-c", "from isrender.cli import main; main()", "serve",
            "--host", host, "--port", str(port), "--log-level", log_level,
            "--log-format", log_format, "--reuse-port"]  # fmt: skip
    commands = [base + ([] if i == 0 and not no_worker else ["--no-worker"]) for i in range(count)]
    raise SystemExit(_supervise(commands))


def _serve_one(
    host: str, port: int, log_level: str, log_format: str, job_worker: bool, reuse_port: bool
) -> None:
    import uvicorn

    from isrender.logs import configure
    from isrender.render.vips.renderer import tune_for_serving
    from isrender.server import create_app

    configure("json" if log_format == "json" else "text", log_level)
    tune_for_serving()
    # The event loop answers refusals and reads requests while pool threads run Python
    # (parsing, catalog); at the default 5 ms GIL switch interval each queued reply waited a
    # slice behind every busy thread.
    sys.setswitchinterval(SWITCH_INTERVAL)
    app = create_app(job_worker=job_worker)
    # Everything made so far (modules, the app, the command table) lives as long as the
    # process: out of the collector's generations (after one last collection of what is
    # garbage already), so its full passes stop walking it.
    gc.collect()
    gc.freeze()
    # log_config=None keeps the handler configured above; the app writes the access lines
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, log_config=None,
                            access_log=False)  # fmt: skip
    server = uvicorn.Server(config)
    if not reuse_port:
        server.run()
        return
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    server.run(sockets=[sock])


def _refuse_taken_port(host: str, port: int) -> None:
    """SO_REUSEPORT would let the children share a port with another server run by the same
    user; check it is free first (a plain bind fails when anything listens there)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no owner
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _supervise(commands: list[list[str]]) -> int:
    """Run every command; restart one that dies; stop all on SIGTERM or SIGINT."""
    children = [subprocess.Popen(command) for command in commands]
    stopping = False
    deaths: list[float] = []

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while not stopping:
            time.sleep(0.2)
            for i, child in enumerate(children):
                if child.poll() is None or stopping:
                    continue
                deaths = [t for t in deaths if time.monotonic() - t < RESTART_WINDOW]
                deaths.append(time.monotonic())
                if len(deaths) > RESTART_LIMIT:
                    click.echo(f"error: server workers keep exiting (last: {child.returncode})",
                               err=True)  # fmt: skip
                    return 1
                children[i] = subprocess.Popen(commands[i])
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()


def register(main: click.Group) -> None:
    main.add_command(serve_cmd)
