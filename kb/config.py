"""Every KB_* setting, declared once with its default and help. The README's table is checked against this."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS = (
    Setting("KB_CONTENT_DIR", "./content", "Folder of Markdown notes; its own git repository."),
    Setting("KB_INDEX_DIR", "./index", "Folder of the Whoosh search index (generated, rebuildable)."),
    Setting("KB_INSTANCE_DIR", "./instance", "Folder for the database and the generated secret key."),
    Setting("KB_DATABASE_URL", "", "SQLAlchemy URL of the accounts database; default SQLite in the instance folder."),
    Setting("KB_SECRET_KEY", "", "Key that signs sessions; generated once into the instance folder if unset."),
    Setting("KB_ADMIN_PASSWORD", "", "Password of the first admin account created by `kb init`; random if unset."),
    Setting("KB_TRUST_PROXY", "", "Set to 1 behind a reverse proxy to honour X-Forwarded-Proto/-For/-Host."),
    Setting("KB_CHECK_INDEX_ON_START", "1", "Compare the index with content/ at start and repair drift (0 to skip)."),
    Setting("KB_MAX_REQUEST_MB", "4", "Largest request body accepted, in megabytes; larger ones get 413 unread."),
    Setting("KB_MAX_UPLOAD_MB", "10", "Largest file (photo, PDF, CSV) that may be attached to a note, in megabytes; "
            "larger ones get 413 and nothing is written."),
    Setting("KB_SESSION_IDLE_MINUTES", "60", "A sign-in ends after this many minutes without a request."),
    Setting("KB_SESSION_MAX_HOURS", "12", "A sign-in ends this many hours after it started, however active."),
    Setting("KB_BASE_URL", "", "The site's public address (e.g. https://kb.example.org); full URLs to its notes, "
            "under its path too, are note links (a /notes/<name> URL on any host already counts as one)."),
    Setting("KB_SMTP_URL", "", "Where `kb notify send` hands e-mails: smtp://user:pass@host:587 (STARTTLS) or "
            "smtps://user:pass@host:465 (TLS)."),
    Setting("KB_MAIL_FROM", "", "The sender address of notification e-mails (e.g. kb@example.org)."),
    Setting("KB_GIT_REMOTE", "", "A git repository (path, ssh or https URL) that several nodes share: every write "
            "is pushed to it before it answers, and each node pulls from it. Unset: one node, no remote."),
    Setting("KB_SYNC_SECONDS", "10", "With KB_GIT_REMOTE: pull what other nodes saved every this many seconds."),
)
NUMBERS = ("KB_MAX_REQUEST_MB", "KB_MAX_UPLOAD_MB", "KB_SESSION_IDLE_MINUTES", "KB_SESSION_MAX_HOURS", "KB_SYNC_SECONDS")


def _secret_key(instance: Path) -> str:
    path = instance / "secret_key"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        instance.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        try:
            os.link(tmp, path)  # first process wins; the others read its key
        except FileExistsError:
            pass
        os.unlink(tmp)
        return path.read_text(encoding="utf-8").strip()


def load(overrides: dict | None = None, environ=None) -> dict:
    """The app configuration: defaults, then the environment, then the overrides mapping."""
    env = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    values = {s.name: overrides.get(s.name, env.get(s.name) or s.default) for s in SETTINGS}
    for key in ("KB_CONTENT_DIR", "KB_INDEX_DIR", "KB_INSTANCE_DIR"):
        values[key] = Path(values[key]).expanduser().resolve()
    if not values["KB_DATABASE_URL"]:
        values["KB_DATABASE_URL"] = f"sqlite:///{values['KB_INSTANCE_DIR'] / 'kb.sqlite'}"
    if not values["KB_SECRET_KEY"]:
        try:
            values["KB_SECRET_KEY"] = _secret_key(values["KB_INSTANCE_DIR"])
        except OSError as exc:
            raise ConfigError(f"KB_INSTANCE_DIR is {values['KB_INSTANCE_DIR']}, where kb cannot keep its secret key "
                              f"({exc.strerror or exc}): make it a writable folder, or set KB_SECRET_KEY.") from None
    values["KB_TRUST_PROXY"] = str(values["KB_TRUST_PROXY"]).lower() in ("1", "true", "yes", "on")
    values["KB_CHECK_INDEX_ON_START"] = str(values["KB_CHECK_INDEX_ON_START"]).lower() in ("1", "true", "yes", "on")
    for key in NUMBERS:
        try:
            values[key] = float(values[key])
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be a number, not {str(values[key])[:40]!r}") from None
        if not values[key] > 0:
            raise ConfigError(f"{key} must be more than 0")
    for k, v in overrides.items():
        if k not in values:
            values[k] = v  # Flask settings such as TESTING pass straight through
    return values
