"""``isrender serve``: the HTTP service on uvicorn (Image Serving endpoint)."""

from __future__ import annotations

import click

__all__ = ["register"]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))  # fmt: skip
@click.option("--log-format", default="text", show_default=True,
              type=click.Choice(["text", "json"]),
              help="Text lines, or one JSON object per line (both carry request ids).")  # fmt: skip
@click.option("--no-worker", is_flag=True,
              help="No job worker in this process (run `isrender jobs worker`).")  # fmt: skip
def serve_cmd(host: str, port: int, log_level: str, log_format: str, no_worker: bool) -> None:
    """Serve /is/image/{company}/{asset}?{modifiers} from the catalog in the data directory.

    Settings come from isrender.toml / ISRENDER_* as for every command (render_slots,
    render_timeout, expiration, request_lock, url_signing_key). With the local job backend
    it also runs one job worker, unless --no-worker.
    """
    import uvicorn

    from isrender.logs import configure
    from isrender.server import create_app

    configure("json" if log_format == "json" else "text", log_level)
    # log_config=None keeps the handler configured above; the app writes the access lines
    app = create_app(job_worker=not no_worker)
    uvicorn.run(app, host=host, port=port, log_level=log_level, log_config=None,
                access_log=False)  # fmt: skip


def register(main: click.Group) -> None:
    main.add_command(serve_cmd)
