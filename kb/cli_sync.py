"""`kb sync` and the content remote's part of `kb init` (KB_GIT_REMOTE): thin commands over the service."""
from __future__ import annotations

import click

from .errors import KbError
from .wiki import Wiki, join_remote as _join


def join_remote(values: dict) -> list[str]:
    """`kb init` with KB_GIT_REMOTE: clone it (it has commits) or push to it (it is empty); lines to say."""
    if not values.get("KB_GIT_REMOTE"):
        return []
    try:
        return _join(values["KB_CONTENT_DIR"], values["KB_GIT_REMOTE"])
    except KbError as exc:
        raise click.ClickException(f"KB_GIT_REMOTE: {exc}") from None


@click.command()
@click.pass_context
def sync(ctx: click.Context):
    """Pull what other nodes saved to KB_GIT_REMOTE (and push what this node left unpushed); re-index the
    notes that changed."""
    values = ctx.obj["config"]
    if not values.get("KB_GIT_REMOTE"):
        raise click.ClickException("KB_GIT_REMOTE is not set: there is no content remote to sync with.")
    wiki = Wiki(values["KB_CONTENT_DIR"], values["KB_INDEX_DIR"], values["KB_BASE_URL"], values["KB_GIT_REMOTE"])
    try:
        done = wiki.sync()
    except KbError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        wiki.close()
    if done.before == done.after:
        click.echo(f"Up to date with KB_GIT_REMOTE at {(done.after or '(no commit)')[:10]}.")
    else:
        click.echo(f"Pulled {(done.before or '(none)')[:10]}..{(done.after or '')[:10]}: "
                   f"{len(done.notes)} note(s) re-indexed.")
    if done.pushed:
        click.echo("Pushed commits this node had not pushed yet.")
    if done.kept:
        click.echo(f"Some unpushed commits clash with the remote; they are kept on the branch {done.kept}.", err=True)
