"""kb: a multilingual knowledge-sharing wiki and search service for people who protect migrants."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Application factory: configuration, the wiki service, accounts, blueprints, error handlers."""
    from . import config as settings
    from .comments import Comments, CommentStore
    from .notify import Notifier
    from .notify.reminders import comment_hook, reply_hook
    from .errors import StorageError
    from .users import UserStore
    from .web import init_web
    from .wiki import Wiki

    values = settings.load(config)
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder="static",
                instance_path=str(values["KB_INSTANCE_DIR"]))
    app.config.update(values)
    app.config["SECRET_KEY"] = values["KB_SECRET_KEY"]
    # Flask defines MAX_CONTENT_LENGTH (as None), so setdefault would never apply: set it outright, unless
    # the caller's config mapping gives it.
    app.config["MAX_CONTENT_LENGTH"] = (config or {}).get("MAX_CONTENT_LENGTH") or \
        int(values["KB_MAX_REQUEST_MB"] * 1024 * 1024)
    # A form's text fields may fill the whole limit (a note body is up to 400,000 characters, ~1.6 MB of UTF-8)
    app.config["MAX_FORM_MEMORY_SIZE"] = app.config["MAX_CONTENT_LENGTH"]
    wiki = Wiki(values["KB_CONTENT_DIR"], values["KB_INDEX_DIR"], values["KB_BASE_URL"], values["KB_GIT_REMOTE"])
    wiki.index.use_glossary(Path(values["KB_CONTENT_DIR"]) / "glossary.yml")  # queries across languages
    users = UserStore(values["KB_DATABASE_URL"], valid_places=wiki.taxonomy.places)
    users.upgrade()  # migrations, when the database needs them
    comments = CommentStore(users.db)  # in the accounts database; its table is on the same Base
    app.extensions["kb.wiki"] = wiki
    app.extensions["kb.users"] = users
    app.extensions["kb.comments"] = Comments(wiki, comments)
    wiki.move_hooks.append(comments.note_moved)  # comments follow a renamed note, and leave with a deleted one
    notifier = Notifier(users, wiki, values["KB_SECRET_KEY"], values["KB_BASE_URL"])
    notifier.start()  # the audit log's cursor (news from now on)
    app.extensions["kb.notify"] = notifier
    comments.on_reply.append(reply_hook(notifier))  # a comment's writer hears of replies, and those who review
    comments.on_comment.append(comment_hook(notifier))  # a note hear of new threads (kb/notify/reminders.py)
    wiki.audit = lambda action, actor, target, detail, address: users.audit(  # the write path records here
        action, actor=actor, target=target, detail=detail, address=address)
    if wiki.remote:  # what other nodes saved while this one was down; unreachable: reads go on, writes wait
        try:
            wiki.sync()
        except StorageError as exc:
            logging.getLogger(__name__).warning("content remote: not synced at start: %s", exc)
    if values["KB_CHECK_INDEX_ON_START"]:
        if not wiki.index.exists():
            wiki.rebuild_index()
        else:
            wiki.check_index(repair=True, quick=True)  # only what changed since the last check is read
        wiki.index.warm()  # the searcher open and its caches filled before the first request
    wiki.start_sync(values["KB_SYNC_SECONDS"])  # with KB_GIT_REMOTE only
    init_web(app)
    return app
