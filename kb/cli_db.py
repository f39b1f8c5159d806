"""`kb db`: the accounts database's schema — upgrade it to the newest migration, or say where it stands."""
from __future__ import annotations

import click

from .users import UserStore


def _store(ctx: click.Context) -> UserStore:
    return UserStore(ctx.obj["config"]["KB_DATABASE_URL"])


@click.group("db")
def db() -> None:
    """The accounts database's schema (migrations; `kb init` and each start also upgrade it)."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Bring the database to the newest revision (safe while other nodes start or run)."""
    store = _store(ctx)
    try:
        report = store.upgrade()
    finally:
        store.dispose()
    if report.earlier_kb:
        click.echo("Found a database made by an earlier kb: brought it to the baseline.")
    for revision in report.applied:
        click.echo(f"Applied {revision}")
    click.echo(f"The database is at {report.after} (newest)." if report.changed
               else f"The database is already at the newest revision, {report.after}.")


@db.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """The database's revision and the newest one this kb knows; exit 1 when an upgrade is needed."""
    store = _store(ctx)
    try:
        revision, newest = store.revision()
    finally:
        store.dispose()
    click.echo(f"database: {revision or '(none: empty, or made before migrations)'}")
    click.echo(f"newest:   {newest}")
    if revision != newest:
        raise click.ClickException("The database needs `kb db upgrade`.")
