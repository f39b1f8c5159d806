"""What the `kb` commands share: the service and the accounts store of this run, and the one-line failure."""
from __future__ import annotations

from pathlib import Path

import click

from .errors import KbError


def wiki_of(ctx: click.Context):
    """The Wiki for this run's settings; its changes are audited in the accounts database."""
    from .wiki import Wiki
    values = ctx.obj["config"]
    try:
        wiki = Wiki(values["KB_CONTENT_DIR"], values["KB_INDEX_DIR"], values["KB_BASE_URL"], values["KB_GIT_REMOTE"])
    except KbError as exc:
        raise click.ClickException(str(exc)) from None

    def audit(action: str, actor: str, target: str, detail: str, address: str) -> None:
        # the accounts database is opened only when a change is to be recorded
        users_of(ctx).audit(action, actor=actor, target=target, detail=detail, address=address)
    wiki.audit = audit  # changes made from the command line are audited like those made on the web
    return wiki


def users_of(ctx: click.Context):
    """The accounts store every command of this run shares, migrated to the newest schema."""
    from .users import UserStore
    if "users" not in ctx.obj:
        values = ctx.obj["config"]
        from .taxonomy import Taxonomy
        try:
            places = Taxonomy.load(Path(values["KB_CONTENT_DIR"]) / "taxonomy.yml").places
        except KbError as exc:
            raise click.ClickException(str(exc)) from None
        store = UserStore(values["KB_DATABASE_URL"], valid_places=places)
        store.upgrade()
        ctx.obj["users"] = store
    return ctx.obj["users"]


def fail(exc: Exception):
    """End the command with the first line of the error, exit 1."""
    raise click.ClickException(str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__)
