"""What every CLI module shares: the consoles and one error policy.

Exit codes (DESIGN.md): 0 success, 2 invalid input (modifier errors with position and caret,
IPS faults with their code, other public errors), 1 internal failure or an unreachable
database or broker (the message names the setting to check), never a traceback
unless ``ISRENDER_DEBUG`` is set.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
from rich.console import Console

from isrender.errors import IpsFault, IsRenderError, ModifierError, ServiceUnavailable

__all__ = ["err", "out", "reports_errors"]

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
