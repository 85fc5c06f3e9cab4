"""What every CLI module shares: the consoles and one error policy.

Exit codes (DESIGN.md): 0 success, 2 invalid input (modifier errors with position and caret,
IPS faults with their code, other public errors), 1 internal failure or an unreachable
database or broker (the message names the setting to check), never a traceback
unless ``ISRENDER_DEBUG`` is set.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Mapping
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console

from isrender.errors import IpsFault, IsRenderError, ModifierError, ServiceUnavailable

if TYPE_CHECKING:
    from isrender.config import Settings

__all__ = ["LazyGroup", "catalog_settings", "err", "out", "reports_errors"]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(fn: F) -> F:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ModifierError as exc:
            err.print("[bold red]error:[/] ", end="")
            err.out(exc.render())
            sys.exit(2)
        except IpsFault as fault:
            err.print(f"[bold red]{fault.fault} {fault.code}:[/] ", end="")
            err.out(fault.reason)
            sys.exit(2)
        except ServiceUnavailable as exc:  # not the user's input: exit 1, name the setting
            err.print("[bold red]error:[/] ", end="")
            err.out(exc.message)
            sys.exit(1)
        except IsRenderError as exc:
            err.print("[bold red]error:[/] ", end="")
            err.out(exc.public_message)
            sys.exit(2)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # the last line of defence: no traceback for users
            if os.environ.get("ISRENDER_DEBUG"):
                raise
            if type(exc).__name__ == "OperationalError":  # SQLAlchemy's: the database is down
                err.out(f"error: {ServiceUnavailable('database', 'database_url').message}")
                sys.exit(1)
            err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}")
            err.print("set ISRENDER_DEBUG=1 for a traceback, and please report it")
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


class LazyGroup(click.Group):
    """A group whose heavier commands are imported only when one of them runs.

    ``lazy`` maps a command name to (module, one-line summary); the module's ``register(group)``
    adds the command. ``--help`` lists the summaries without importing anything, so the CLI
    starts fast (the catalog and jobs modules load SQLAlchemy, pydantic and libvips);
    tests/cli/test_cli_startup.py checks the table against what the modules register."""

    def __init__(self, *args: Any, lazy: Mapping[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.load(self.lazy[cmd_name][0])
        return self.commands.get(cmd_name)

    def load(self, module: str) -> None:
        register: Callable[[click.Group], None] = importlib.import_module(module).register
        register(self)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the table's summaries: listing imports no command module."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name) or click.Command(name, help=self.lazy[name][1])
            rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def catalog_settings() -> Settings:
    """The settings, for a command that needs an existing catalog: with the default SQLite
    database, a data directory without ``catalog.db`` is refused (CatalogMissing names the
    folder and ``isrender catalog init``) instead of being created silently wherever the
    command happens to run. A ``database_url`` database is checked when it is opened."""
    from isrender.config import Settings
    from isrender.errors import CatalogMissing

    settings = Settings.load()
    if not settings.database_url and not (settings.data_dir / "catalog.db").is_file():
        raise CatalogMissing(str(settings.data_dir))
    return settings
