"""`kb notify send` (for cron or a systemd timer) and accounts' e-mail addresses (`kb user add --email`,
`kb user set-email`), added to the `kb` command by ``register_notify`` (called from kb/cli.py)."""
from __future__ import annotations

import functools
import sys

import click

from .cli_common import fail as _fail, users_of as _users, wiki_of
from .errors import KbError


def _notifier(ctx: click.Context):
    from .notify import Notifier
    values = ctx.obj["config"]
    notifier = Notifier(_users(ctx), wiki_of(ctx), values["KB_SECRET_KEY"], values["KB_BASE_URL"])
    notifier.start()
    return notifier


def _with_email(command: click.Command) -> None:
    """`kb user add … --email E`: the address is checked first, so a bad one adds no account."""
    inner = command.callback
    command.params.append(click.Option(["--email"], default=None, help="The account's e-mail address, for "
                                       "notification e-mails."))

    @functools.wraps(inner)
    def callback(*args, email: str | None = None, **kwargs):
        from .users import UserError, UserStore
        ctx = click.get_current_context()
        try:
            UserStore.check_email(email)
        except UserError as exc:
            _fail(exc)
        inner(*args, **kwargs)
        if email:
            _set_email(ctx, kwargs["name"], email)
    command.callback = callback


def _set_email(ctx: click.Context, name: str, email: str) -> None:
    from .users import UserError
    users = _users(ctx)
    try:
        changed = users.edit(name, email=email)[1]
    except UserError as exc:
        _fail(exc)
    if "email" in changed:
        users.audit("user_update", actor="cli", target=name.strip().lower(), detail="changed email")


@click.command("set-email")
@click.argument("name")
@click.argument("email")
@click.pass_context
def user_set_email(ctx: click.Context, name: str, email: str):
    """Set an account's e-mail address ('' clears it: no more notification e-mails)."""
    _set_email(ctx, name, email)
    click.echo(f"{name.strip().lower()}: {email.strip() or 'no e-mail address'}.")


@click.group()
def notify():
    """Notifications: e-mail what is due."""


def register_notify(cli: click.Group) -> None:
    """Add `kb notify`, `kb user set-email` and `kb user add --email` to the `kb` command."""
    cli.add_command(notify)
    user = cli.commands["user"]
    user.add_command(user_set_email)
    _with_email(user.commands["add"])


@notify.command("send")
@click.pass_context
def notify_send(ctx: click.Context):
    """Send the notification e-mails that are due (immediate ones, and daily and weekly digests once their
    day or week is over); meant to run every few minutes from cron or a systemd timer. An e-mail is never
    sent twice, even when a run is stopped midway; one the server refused is tried again on the next run."""
    values = ctx.obj["config"]
    try:
        report = _notifier(ctx).send(values["KB_SMTP_URL"], values["KB_MAIL_FROM"])
    except KbError as exc:
        _fail(exc)
    for delivery in report.interrupted:
        click.echo(f"e-mail {delivery} was being sent when an earlier run stopped: it is not sent again "
                   "(the server may have taken it).", err=True)
    for line in report.errors:
        click.echo(f"not sent (tried again on the next run): {line}", err=True)
    click.echo(f"{report.sent} sent, {report.failed} failed, {report.empty} with nothing left to show.")
    if report.failed:
        sys.exit(1)
