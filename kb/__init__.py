"""kb: a multilingual knowledge-sharing wiki and search service for people who protect migrants."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Application factory: configuration, the wiki service, accounts, blueprints, error handlers."""
    from . import config as settings
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
    wiki = Wiki(values["KB_CONTENT_DIR"], values["KB_INDEX_DIR"], values["KB_BASE_URL"])
    wiki.index.use_glossary(Path(values["KB_CONTENT_DIR"]) / "glossary.yml")  # queries across languages
    users = UserStore(values["KB_DATABASE_URL"], valid_places=wiki.taxonomy.places)
    users.create_all()
    app.extensions["kb.wiki"] = wiki
    app.extensions["kb.users"] = users
    wiki.audit = lambda action, actor, target, detail, address: users.audit(  # the write path records here
        action, actor=actor, target=target, detail=detail, address=address)
    if values["KB_CHECK_INDEX_ON_START"]:
        if not wiki.index.exists():
            wiki.rebuild_index()
        else:
            wiki.check_index(repair=True, quick=True)  # only what changed since the last check is read
        wiki.index.warm()  # the searcher open and its caches filled before the first request
    init_web(app)
    return app
