"""``isrender serve``: the HTTP service on uvicorn (Image Serving endpoint)."""

from __future__ import annotations

import click

__all__ = ["register"]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))  # fmt: skip
def serve_cmd(host: str, port: int, log_level: str) -> None:
    """Serve /is/image/{company}/{asset}?{modifiers} from the catalog in the data directory.

    Settings come from isrender.toml / ISRENDER_* as for every command (render_slots,
    render_timeout, expiration, request_lock, url_signing_key).
    """
    import uvicorn

    from isrender.server import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level=log_level)


def register(main: click.Group) -> None:
    main.add_command(serve_cmd)
