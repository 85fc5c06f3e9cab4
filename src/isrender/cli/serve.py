"""``isrender serve``: the HTTP service on uvicorn, in one process or ``--workers N``.

With N > 1 this process is a supervisor (``cli/balancer.py``): it owns the port, accepts, and
hands each connection to the N ``isrender serve`` children by file descriptor, to the one
holding the fewest; every answer goes straight from that child to the client, with no proxy
hop. The children share state through the database and ``data_dir`` (secret key,
originals); only the first runs the in-process job worker. A child that dies is restarted,
and the children stop when the supervisor does. (Plain ``uvicorn --workers`` on the same app
was measured adding no latency at one client, benchmarks/test_server_workers.py; this
supervisor exists for the balance, the job worker, the serving tuning in every child and
restarts.)
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import sys

import click

__all__ = ["register"]

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
@click.option("--handoff-fd", type=int, hidden=True)  # set by the supervisor on its children
def serve_cmd(
    host: str, port: int, workers: int, log_level: str, log_format: str, no_worker: bool,
    handoff_fd: int | None,
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
    if handoff_fd is not None:
        _check_channel(handoff_fd)
    if count == 1 or handoff_fd is not None:
        _serve_one(host, port, log_level, log_format, not no_worker, handoff_fd)
        return
    raise SystemExit(_supervise(host, port, count, log_level, log_format, no_worker))


def _serve_one(
    host: str, port: int, log_level: str, log_format: str, job_worker: bool,
    handoff_fd: int | None,
) -> None:  # fmt: skip
    import uvicorn

    from isrender.cli.http_protocol import OneSendHttpProtocol
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
    # log_config=None keeps the handler configured above; the app writes the access lines.
    # ws="none": the app has no websocket route, and an upgraded connection would leave the
    # protocol that reports its close to the supervisor (cli/handoff.py).
    # http: uvicorn's httptools protocol, sending a reply's head and body together
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, log_config=None,
                            access_log=False, ws="none", http=OneSendHttpProtocol)  # fmt: skip
    if handoff_fd is None:
        uvicorn.Server(config).run()
    else:
        from isrender.cli.handoff import handed_server

        handed_server(config, socket.socket(fileno=handoff_fd)).run()


def _check_channel(fd: int) -> None:
    """--handoff-fd is for the supervisor's children: refuse anything but a Unix seqpacket
    socket before the app starts, rather than fail inside the event loop."""
    try:
        probe = socket.socket(fileno=os.dup(fd))  # a copy: closing it leaves ``fd`` open
    except OSError:  # no such descriptor, or not a socket
        kind = None
    else:
        with probe:
            kind = (probe.family, probe.type)
    if kind != (socket.AF_UNIX, socket.SOCK_SEQPACKET):
        raise click.ClickException(
            f"--handoff-fd {fd} is not a connection channel: the option is set by "
            "`isrender serve --workers N` on the processes it starts, not by hand"
        )


def _supervise(
    host: str, port: int, count: int, log_level: str, log_format: str, no_worker: bool
) -> int:
    """Listen, start ``count`` children that serve what this process accepts; stop on
    SIGTERM or SIGINT."""
    from isrender.cli.balancer import listen, supervise
    from isrender.logs import configure

    listener = listen(host, port)
    base = [sys.executable, "-c", "from isrender.cli import main; main()", "serve",
            "--host", host, "--port", str(port), "--log-level", log_level,
            "--log-format", log_format]  # fmt: skip
    commands = [base + ([] if i == 0 and not no_worker else ["--no-worker"]) for i in range(count)]
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    configure("json" if log_format == "json" else "text", log_level)
    logging.getLogger("isrender.serve").info(
        "serving http://%s:%d with %d workers (supervisor pid %d)", host, port, count, os.getpid()
    )
    return supervise(listener, commands, lambda: stopping)


def register(main: click.Group) -> None:
    main.add_command(serve_cmd)
