"""`faceit-ai users ...`: operator commands for accounts (register as a typer sub-app)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:  # the imports of the commands are lazy, so `faceit-ai --help` is fast
    from sqlalchemy.orm import Session

users_app = typer.Typer(help="User accounts: add, change roles, list.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)
OPERATOR = "cli"


@contextmanager
def open_session() -> Iterator[Session]:
    from core.db.migrate import upgrade
    from core.resources import Resources
    from core.settings import SettingsError, get_settings

    try:
        settings = get_settings()
    except SettingsError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    resources = Resources.from_settings(settings)
    try:
        upgrade(resources.engine)
        with resources.sessions() as session:
            yield session
    finally:
        resources.close()


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="3-32 letters, digits, _ - .")],
    email: Annotated[str, typer.Option("--email", help="E-mail address")],
    role: Annotated[str, typer.Option("--role", help="free, premium or admin")] = "free",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (one line)")
    ] = False,
) -> None:
    """Create an account (the password is prompted for, hidden, unless --password-stdin)."""
    from core import auth

    password = read_password(password_stdin)
    with open_session() as session:
        try:
            user = auth.register_user(session, username, email, password, role, actor=OPERATOR)
        except auth.AuthError as exc:
            errors.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
        console.print(f"Created user [bold]{user.username}[/bold] ({user.role}).")


@users_app.command("set-role")
def set_role(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument(help="free, premium or admin")],
) -> None:
    """Change a user's role (audited)."""
    from core import auth

    with open_session() as session:
        try:
            user = auth.set_role(session, username, role, actor=OPERATOR)
        except auth.AuthError as exc:
            errors.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
        console.print(f"{user.username} is now {user.role}.")


@users_app.command("list")
def list_users() -> None:
    """All accounts with role and premium entitlement."""
    from core import auth

    with open_session() as session:
        from rich.table import Table

        table = Table(title="Users")
        for column in ("id", "username", "email", "role", "premium", "demo"):
            table.add_column(column)
        for user in auth.list_users(session):
            table.add_row(
                str(user.id),
                user.username,
                user.email,
                user.role,
                "yes" if auth.is_premium(session, user.id) else "no",
                "demo" if user.is_demo else "",
            )
        console.print(table)
