"""The `kb` command: thin click commands over the service. Exit 0 on success, 1 with a one-line reason."""
from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click

from . import config as settings
from .cli_common import fail as _fail, users_of as _users, wiki_of as _wiki
from .cli_notify import register_notify
from .cli_db import db as db_commands
from .cli_sync import join_remote, sync
from .errors import KbError
from .taxonomy import LANGUAGES, ROLES


class _Kb(click.Group):
    """The `kb` group: a misconfiguration or an OS error ends any command with one line and exit 1."""

    def invoke(self, ctx: click.Context):
        from .firststart import HANDLED, one_line
        try:
            return super().invoke(ctx)
        except HANDLED as exc:
            raise click.ClickException(one_line(exc, (ctx.obj or {}).get("config"))) from None


@click.group(cls=_Kb)
@click.pass_context
def cli(ctx: click.Context):
    """kb: practice notes on migrant protection, shared across regions."""
    ctx.obj = {"config": settings.load()}
cli.add_command(db_commands)  # kb db upgrade / current (kb/cli_db.py)
cli.add_command(sync)  # `kb sync` (kb/cli_sync.py)


@cli.command()
@click.pass_context
def init(ctx: click.Context):
    """Create what is missing: folders, content repository (with the default taxonomy), database, admin
    account, search index."""
    from .firststart import check_folders, install_default_taxonomy
    values = ctx.obj["config"]
    done = check_folders(values, create=True) + join_remote(values)  # KB_GIT_REMOTE: its content first
    wrote = install_default_taxonomy(values["KB_CONTENT_DIR"])
    if wrote:
        done.append(f"Wrote the default taxonomy to {values['KB_CONTENT_DIR'] / 'taxonomy.yml'}")
    wiki = _wiki(ctx)
    users = _users(ctx)  # the taxonomy and the database are checked before anything is said
    for line in done:
        click.echo(line)
    if wiki.init_repository():
        click.echo(f"Created the content repository in {wiki.content_dir}")
    elif wrote:
        wiki.commit_taxonomy("Default taxonomy")
    if users.count() == 0:
        password = os.environ.get("KB_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        users.add("admin", password, "admin", display_name="Administrator")
        if os.environ.get("KB_ADMIN_PASSWORD"):
            click.echo("Created the account 'admin' with the password from KB_ADMIN_PASSWORD.")
        else:
            click.echo(f"Created the account 'admin' with the password: {password}")
            click.echo("It is shown only this once; change it after signing in.")
    if not wiki.index_exists():
        _rebuild(wiki)
    else:
        drift = wiki.check_index(repair=True)
        if not drift.clean:
            click.echo(f"Index repaired: {len(drift.missing)} missing, {len(drift.stale)} stale, "
                       f"{len(drift.orphaned)} orphaned.")
    click.echo("Ready.")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int):
    """Serve kb with gunicorn (a production WSGI server)."""
    from .firststart import check_folder
    values = ctx.obj["config"]  # say what to fix here, not in a worker's traceback
    for setting in ("KB_CONTENT_DIR", "KB_INDEX_DIR", "KB_INSTANCE_DIR"):  # the index is rebuilt at start
        check_folder(setting, values[setting], create=setting != "KB_CONTENT_DIR")
    _wiki(ctx).close()
    _users(ctx).dispose()
    args = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
            "--access-logfile", "-", "--timeout", "60", "kb.wsgi:app"]
    os.execv(sys.executable, args)


@cli.group()
@click.pass_context
def index(ctx: click.Context):
    """Build or check the search index."""
    from .firststart import check_folder
    check_folder("KB_INDEX_DIR", ctx.obj["config"]["KB_INDEX_DIR"], create=True)


def _rebuild(wiki) -> None:
    total = wiki.note_count()
    with click.progressbar(length=total, label="Indexing notes", file=sys.stderr) as bar:
        count, errors = wiki.rebuild_index(progress=bar.update)
    for e in errors:
        click.echo(f"skipped {e}", err=True)
    click.echo(f"Indexed {count} notes.")


@index.command("rebuild")
@click.pass_context
def index_rebuild(ctx: click.Context):
    """Rebuild the index from content/ into a fresh directory, swapped in when complete."""
    _rebuild(_wiki(ctx))


@index.command("check")
@click.option("--repair", is_flag=True, help="Re-index what drifted.")
@click.pass_context
def index_check(ctx: click.Context, repair: bool):
    """Compare the index with content/: missing, stale and orphaned documents."""
    drift = _wiki(ctx).check_index(repair=repair)
    for kind in ("missing", "stale", "orphaned"):
        for slug in getattr(drift, kind):
            click.echo(f"{kind}: {slug}")
    for problem in drift.invalid:
        click.echo(f"invalid: {problem}", err=True)
    if drift.clean:
        click.echo("The index matches content/.")
    elif repair:
        click.echo("Repaired.")
    else:
        raise click.ClickException("The index differs from content/; run `kb index check --repair`.")


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.pass_context
def import_(ctx: click.Context, paths: tuple[Path, ...]):
    """Import Markdown files with front matter (files or folders); one commit; the index is updated."""
    from .wiki import count_sources
    wiki = _wiki(ctx)
    with click.progressbar(length=count_sources(list(paths)), label="Checking files", file=sys.stderr) as bar:
        try:
            report = wiki.import_paths(list(paths), progress=bar.update, actor="cli")
        except KbError as exc:
            _fail(exc)
    for problem in report.errors:
        click.echo(f"error: {problem}", err=True)
    for source, findings in report.drafted:  # would have been public: left for a person to check first
        for f in findings:
            click.echo(f"imported as draft: {source}: {f.kind} at line {f.line}")
    click.echo(f"{len(report.added)} added, {len(report.unchanged)} unchanged, {len(report.errors)} with errors.")
    if report.errors:
        sys.exit(1)


@cli.group()
def redirects():
    """The old names of renamed notes, which keep leading to them (no new note may take one)."""


@redirects.command("list")
@click.pass_context
def redirects_list(ctx: click.Context):
    """Each old name and the note it leads to."""
    for old, new in sorted(_wiki(ctx).redirect_map().items()):
        click.echo(f"{old} -> {new}")


@redirects.command("drop")
@click.argument("old_name")
@click.pass_context
def redirects_drop(ctx: click.Context, old_name: str):
    """Free an old name: links to it stop leading to the renamed note, and a new note may take it."""
    try:
        _wiki(ctx).drop_redirect(old_name.strip(), author="cli")
    except KbError as exc:
        _fail(exc)
    click.echo(f"Freed {old_name.strip()!r}.")


@cli.group()
def user():
    """Manage accounts."""


def _password(prompt: bool) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--region", "regions", multiple=True, help="A region or country (repeatable); focal points need one.")
@click.pass_context
def user_add(ctx: click.Context, name: str, role: str, regions: tuple[str, ...]):
    """Add an account; the password is read from a prompt or standard input."""
    from .users import UserError
    users = _users(ctx)
    try:
        u = users.add(name, _password(True), role, regions=list(regions))
        users.audit("user_add", actor="cli", target=u.username, detail=role)
    except UserError as exc:
        _fail(exc)
    click.echo(f"Added {u.username} ({u.role}{': ' + ', '.join(u.regions) if u.regions else ''}).")


@user.command("list")
@click.pass_context
def user_list(ctx: click.Context):
    """List accounts."""
    for u in _users(ctx).list():
        state = "active" if u.active else "disabled"
        click.echo(f"{u.username}\t{u.role}\t{','.join(u.regions)}\t{state}")


@user.command("disable")
@click.argument("name")
@click.pass_context
def user_disable(ctx: click.Context, name: str):
    """Disable an account (it can no longer sign in or use tokens)."""
    from .users import UserError
    users = _users(ctx)
    try:
        users.set_active(name, False)
        users.audit("user_disable", actor="cli", target=name)
    except UserError as exc:
        _fail(exc)
    click.echo(f"Disabled {name}.")


@user.command("set-role")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--region", "regions", multiple=True)
@click.pass_context
def user_set_role(ctx: click.Context, name: str, role: str, regions: tuple[str, ...]):
    """Change an account's role and regions."""
    from .users import UserError
    users = _users(ctx)
    try:
        u = users.set_role(name, role, list(regions))
        users.audit("role", actor="cli", target=name, detail=f"{role} {','.join(u.regions)}")
    except UserError as exc:
        _fail(exc)
    click.echo(f"{u.username} is now {u.role}{': ' + ', '.join(u.regions) if u.regions else ''}.")


@cli.group()
def token():
    """API tokens."""


@token.command("create")
@click.argument("name")
@click.option("--label", default="")
@click.pass_context
def token_create(ctx: click.Context, name: str, label: str):
    """Issue an API token for a user; it is printed alone on the last line, and only once."""
    from .users import UserError
    users = _users(ctx)
    try:
        row, plain = users.create_token(name, label)
        users.audit("token_create", actor="cli", target=name, detail=f"token {row.id}")
    except UserError as exc:
        _fail(exc)
    click.echo(f"Token {row.id} for {name} (store it now; it is not shown again):")
    click.echo(plain)


@token.command("revoke")
@click.argument("token_id", type=int)
@click.pass_context
def token_revoke(ctx: click.Context, token_id: int):
    """Revoke a token by its number."""
    from .users import UserError
    users = _users(ctx)
    try:
        users.revoke_token(token_id)
        users.audit("token_revoke", actor="cli", target=str(token_id))
    except UserError as exc:
        _fail(exc)
    click.echo(f"Revoked token {token_id}.")


@cli.command("export")
@click.option("--region", required=True, help="A region or country, by name or slug.")
@click.option("--topic", "topics", multiple=True, help="Only notes on this topic (repeatable).")
@click.option("--lang", "languages", multiple=True, type=click.Choice(LANGUAGES),
              help="Only notes in this language (repeatable); one language is also the pack's interface language.")
@click.option("--user", "username", default=None,
              help="The account whose notes an internal pack holds (with --include-internal).")
@click.option("--include-internal", is_flag=True,
              help="Make an internal pack: all that --user may read, every page marked \"Not for public sharing\", "
                   "recorded in the audit log. Without it, public published notes only.")
@click.option("--base-url", default=None, help="The kb site's address, for links from the pack back to it.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The zip to write.")
@click.pass_context
def export(ctx: click.Context, region: str, topics: tuple[str, ...], languages: tuple[str, ...],
           username: str | None, include_internal: bool, base_url: str | None, out: Path):
    """Write an offline pack of a region's notes: static HTML pages with search, in a zip.

    The pack is public (public, published notes) unless --include-internal asks for --user's own.
    """
    if include_internal and not username:
        raise click.ClickException("--include-internal needs --user NAME: the account whose notes it holds.")
    wiki = _wiki(ctx)
    if not wiki.index_exists():
        _rebuild(wiki)  # notes are chosen through the index, as on the site
    reader = users = None
    if username:
        users = _users(ctx)
        reader = users.by_username(username)
        if reader is None or not reader.active:
            raise click.ClickException(f"No active account named {username!r}.")
    if include_internal and not out.name.endswith("-internal.zip"):  # the name itself says what it is
        out = out.with_name(out.name.removesuffix(".zip") + "-internal.zip")
    part = out.with_name(out.name + ".part")
    try:
        with open(part, "wb") as fh:
            report = wiki.build_pack(reader, region, fh, topics=topics, languages=languages,
                                ui_lang=languages[0] if len(languages) == 1 else "en", base_url=base_url,
                                internal=include_internal)
        if include_internal:  # recorded before the pack is there to take
            users.audit("pack_internal", actor="cli", target=wiki.place(region).slug,
                        detail=f"{report.folder}.zip, {len(report.slugs)} notes, for {reader.username}")
        os.replace(part, out)
    except (KbError, OSError) as exc:
        part.unlink(missing_ok=True)
        _fail(exc)
    if username and not include_internal:
        click.echo(f"A public pack: add --include-internal for all that {username} may read.", err=True)
    click.echo(f"Wrote {len(report.slugs)} notes to {out}{' (the newest only)' if report.truncated else ''}.")


@cli.command("redact")
@click.argument("slug")
@click.option("--passage-file", type=click.File("r", encoding="utf-8"),
              help="A file holding the passage to remove ('-' for standard input).")
@click.option("--revision", default=None, help="Remove this revision's whole text instead (its fields stay).")
@click.option("--reason", required=True, help="Why (kept in the audit log; what is removed is not).")
@click.option("--by", "actor", default="admin", show_default=True, help="The admin account doing it.")
@click.pass_context
def redact_cmd(ctx: click.Context, slug: str, passage_file, revision: str | None, reason: str, actor: str):
    """Take a passage, or a whole revision's text, out of a note's entire history (rewrites git history)."""
    if bool(passage_file) == bool(revision):
        raise click.UsageError("Give either --passage-file or --revision.")
    wiki = _wiki(ctx)
    users = _users(ctx)
    admin = users.by_username(actor)
    if admin is None or not admin.active or admin.role != "admin":
        raise click.ClickException(f"No active admin account named {actor!r}.")
    try:  # the service's write path records it in the audit log: who, why, never what was removed
        if revision:
            result = wiki.redact_revision(admin, slug, revision, reason)
        else:
            result = wiki.redact_passage(admin, slug, passage_file.read(), reason)
    except KbError as exc:
        _fail(exc)
    click.echo(f"Redacted {slug}: {result.versions} version(s) rewritten in {result.seconds:.1f} s. "
               "Clones and backups of the content repository still hold the old history.")


register_notify(cli)  # `kb notify send`, `kb user add --email`, `kb user set-email` (kb/cli_notify.py)
def main() -> None:
    cli(standalone_mode=True)  # _Kb turns every error it knows into one line and exit status 1
