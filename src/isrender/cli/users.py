"""``isrender user add``: users, their default role and company memberships."""

from __future__ import annotations

import sys

import click

from isrender.catalog import Role
from isrender.catalog.handles import user_handle
from isrender.cli.common import existing_catalog, password_for, require_company_id
from isrender.cli.support import out, reports_errors
from isrender.errors import PasswordRequired

__all__ = ["register"]

ROLES = [r.value for r in Role]


@click.group("user")
def user_group() -> None:
    """Users and their company memberships."""


@user_group.command("add")
@click.argument("email")
@click.option("--password", envvar="ISRENDER_PASSWORD", default=None,
              help="The new user's password (or ISRENDER_PASSWORD; else a prompt).")  # fmt: skip
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--role", type=click.Choice(ROLES), default=Role.IPS_USER.value, show_default=True)
@click.option("--company", "companies", multiple=True, help="Company name or handle; repeat.")
@reports_errors
def user_add(email: str, password: str | None, password_stdin: bool, role: str,
             companies: tuple[str, ...]) -> None:  # fmt: skip
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise PasswordRequired("--password-stdin: standard input holds no password")
    password = password_for(email, password, confirm=True)
    catalog = existing_catalog()
    memberships = tuple((require_company_id(catalog, c), None) for c in companies)
    user = catalog.add_user(email, password, Role(role), memberships)
    out.print(f"{user_handle(user.id, user.email)}  {role}", markup=False)


def register(main: click.Group) -> None:
    main.add_command(user_group)
