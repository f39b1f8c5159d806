"""Accounts, roles and API tokens, stored through SQLAlchemy (no Flask).

The tables live in ``accounts_model``, the connection in ``db``, the audit log in ``auditlog``; this module
is the one place that creates, changes and checks accounts and tokens.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .accounts_model import ApiToken, AuditEntry, User, hash_token, now_utc
from .auditlog import AuditLog, clip
from .db import Database
from .errors import N_, KbError, Message
from .signins import SignIns
from .taxonomy import ROLES

__all__ = ["UserStore", "User", "ApiToken", "AuditEntry", "UserError", "ROLES", "MIN_PASSWORD", "hash_token"]

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # hashing megabyte "passwords" is a cheap way to burn our CPU
TOKEN_PREFIX = "kb_"
LAST_USED_EVERY = timedelta(seconds=60)  # don't turn every API call into a database write
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")  # first character alphanumeric: no "..", no "-x"
_EMAIL = re.compile(r"[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+")
MAX_ID = 2**31 - 1  # row ids are 32-bit integers; a larger number (from a URL or a cookie) names no row


class UserError(KbError, ValueError):
    """Bad input to an account operation; the message is one line a user can act on."""


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16), method="scrypt")


class UserStore:
    """Accounts, tokens and the audit log in one SQLAlchemy database."""

    def __init__(self, database_url: str, valid_places: Iterable[str] = ()):
        self.db = Database(database_url)
        self.engine = self.db.engine
        self._read = self.db.reading
        self._writing = self.db.writing
        self.audit_log = AuditLog(self.db)
        self.sign_ins = SignIns(self.db)
        self.places = {str(p).casefold(): str(p) for p in valid_places}

    def upgrade(self):
        """Bring the database's schema to the newest migration; what was found and done (kb.migrate.Upgrade)."""
        return self.db.upgrade()

    create_all = upgrade  # the name callers used before migrations

    def revision(self) -> tuple[str | None, str]:
        """The database's schema revision (None before the first upgrade) and the newest this kb knows."""
        return self.db.revision()

    def dispose(self) -> None:
        self.db.dispose()

    # --- validation ------------------------------------------------------------------------
    @staticmethod
    def _username(username: str) -> str:
        name = str(username or "").strip().lower()
        if not _USERNAME.fullmatch(name):
            raise UserError(Message(N_("invalid username %(name)s: 2-40 letters, digits, '.', '_' or '-', "
                                       "starting with a letter or digit"), name=repr(str(username)[:50])))
        return name

    @staticmethod
    def _password(password: str) -> str:
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            raise UserError(Message(N_("password too short: at least %(n)s characters"), n=MIN_PASSWORD))
        if len(password) > MAX_PASSWORD:
            raise UserError(Message(N_("password too long: at most %(n)s characters"), n=MAX_PASSWORD))
        return password

    def _regions(self, role: str, regions: Iterable[str] | str | None) -> str:
        """The regions_csv to store for this role, regions checked against the taxonomy."""
        if role not in ROLES:
            raise UserError(Message(N_("unknown role %(name)s: choose one of %(choices)s"), name=repr(str(role)[:40]),
                                    choices=", ".join(ROLES)))
        if role != "focal_point":
            return ""  # only focal points answer for regions
        if isinstance(regions, str):
            regions = regions.split(",")
        out: list[str] = []
        for raw in regions or ():
            name = str(raw).replace("\x00", "").strip()
            if not name:
                continue
            if self.places:
                canonical = self.places.get(name.casefold())
                if canonical is None:
                    raise UserError(Message(N_("unknown region or country %(name)s"), name=repr(name[:80])))
                name = canonical
            elif "," in name:
                raise UserError(Message(N_("region names cannot contain commas: %(name)s"), name=repr(name[:80])))
            if name not in out:
                out.append(name)
        if not out:
            raise UserError(Message(N_("a focal point needs at least one region or country")))
        return ",".join(out)

    @staticmethod
    def _email(email: str | None) -> str | None:
        email = (email or "").strip()
        if not email:
            return None
        if len(email) > 254 or not _EMAIL.fullmatch(email):
            raise UserError(Message(N_("invalid email address %(name)s"), name=repr(email[:80])))
        return email

    @staticmethod
    def check_email(email: str | None) -> str | None:
        """The address as it would be stored (None for none); UserError when it is not one."""
        return UserStore._email(email)

    @staticmethod
    def _locked_user(session: Session, username: str, lock: bool = True) -> User:
        name = UserStore._username(username)
        query = select(User).where(User.username == name)
        user = session.scalars(query.with_for_update() if lock else query).first()
        if user is None:
            raise UserError(Message(N_("unknown user %(name)s"), name=repr(name)))
        return user

    @staticmethod
    def _check_not_last_admin(session: Session, user: User) -> None:
        if user.role == "admin" and user.active:
            others = session.scalar(select(func.count(User.id)).where(
                User.role == "admin", User.active.is_(True), User.id != user.id))
            if not others:
                raise UserError(Message(N_("%(name)s is the last active admin; make another admin first"),
                                        name=repr(user.username)))

    # --- accounts ----------------------------------------------------------------------------
    def add(self, username: str, password: str, role: str, regions: Iterable[str] = (),
            display_name: str | None = None, email: str | None = None) -> User:
        """Create an account; UserError for any bad input or a taken username."""
        name = self._username(username)
        regions_csv = self._regions(role, regions)
        self._password(password)
        email = self._email(email)
        if self.by_username(name) is not None:
            raise UserError(Message(N_("username %(name)s is taken"), name=repr(name)))
        user = User(username=name, display_name=clip((display_name or "").strip() or name, 80), email=email,
                    role=role, regions_csv=regions_csv, active=True, session_version=1, created=now_utc(),
                    password_hash=generate_password_hash(password, method="scrypt"))  # slow: outside the lock
        try:
            with self._writing() as session:
                session.add(user)
        except IntegrityError:
            raise UserError(Message(N_("username %(name)s is taken"), name=repr(name))) from None
        return user

    def get(self, user_id: int) -> User | None:
        if not isinstance(user_id, int) or not 0 < user_id <= MAX_ID:
            return None
        with self._read() as session:
            return session.get(User, user_id)

    def load_session_user(self, session_id: str) -> User | None:
        """The user behind a get_id() value, if that session is still valid and the account active."""
        try:
            user_id, version = (int(part) for part in str(session_id).split(":"))
        except ValueError:
            return None
        user = self.get(user_id)
        if user is None or not user.active or user.session_version != version:
            return None
        return user

    def by_username(self, username: str) -> User | None:
        name = str(username or "").strip().lower()
        if not _USERNAME.fullmatch(name):
            return None
        with self._read() as session:
            return session.scalars(select(User).where(User.username == name)).first()

    def authenticate(self, username: str, password: str) -> User | None:
        """The user if the password is right and the account active; None otherwise, in similar time."""
        user = self.by_username(username)
        password = password if isinstance(password, str) else ""
        if user is None:
            check_password_hash(_dummy_hash(), password[:MAX_PASSWORD])
            return None
        ok = len(password) <= MAX_PASSWORD and check_password_hash(user.password_hash, password)
        return user if ok and user.active else None

    def list(self) -> list[User]:
        with self._read() as session:
            return list(session.scalars(select(User).order_by(User.username)))

    def count(self) -> int:
        with self._read() as session:
            return session.scalar(select(func.count(User.id))) or 0

    def set_role(self, username: str, role: str, regions: Iterable[str] | None = None) -> User:
        """Change the role; regions None keeps a focal point's current regions."""
        return self.edit(username, role=role, regions=regions)[0]

    def edit(self, username: str, *, display_name: str | None = None, email: str | None = None,
             role: str | None = None, regions: Iterable[str] | None = None) -> tuple[User, dict[str, tuple]]:
        """Change profile fields and/or the role in one transaction (None leaves a field alone).

        Returns the user and what changed, as field -> (before, after), for the audit log.
        """
        with self._writing() as session:
            user = self._locked_user(session, username)
            before = self._facts(user)
            if display_name is not None:
                user.display_name = clip(display_name.strip() or user.username, 80)
            if email is not None:
                user.email = self._email(email)
            if role is not None:
                regions_csv = self._regions(role, user.regions if regions is None else regions)
                if role != "admin":
                    self._check_not_last_admin(session, user)
                user.role, user.regions_csv = role, regions_csv
            after = self._facts(user)
        return user, {k: (before[k], after[k]) for k in before if before[k] != after[k]}

    @staticmethod
    def _facts(user: User) -> dict:
        return {"display_name": user.display_name, "email": user.email, "role": user.role,
                "regions": tuple(user.regions)}

    def set_active(self, username: str, active: bool) -> User:
        """Enable or disable an account; disabling also ends its sessions for good."""
        with self._writing() as session:
            user = self._locked_user(session, username)
            if not active:
                self._check_not_last_admin(session, user)
                if user.active:
                    user.session_version += 1  # re-enabling must not revive old sessions
            user.active = bool(active)
        return user

    def set_password(self, username: str, password: str) -> User:
        """Set a new password and sign the user out everywhere (session_version changes)."""
        self._password(password)
        new_hash = generate_password_hash(password, method="scrypt")
        with self._writing() as session:
            user = self._locked_user(session, username)
            user.password_hash = new_hash
            user.session_version += 1
        return user

    def end_sessions(self, username: str) -> User:
        """Sign the user out everywhere (every session cookie issued so far stops working)."""
        with self._writing() as session:
            user = self._locked_user(session, username)
            user.session_version += 1
        return user

    def update(self, username: str, *, display_name: str | None = None, email: str | None = None) -> User:
        """Change display name and/or email; None leaves a field alone, an empty email clears it."""
        return self.edit(username, display_name=display_name, email=email)[0]

    # --- API tokens --------------------------------------------------------------------------
    def create_token(self, username: str, label: str = "") -> tuple[ApiToken, str]:
        """A new bearer token: the row (holding only its sha256) and the plaintext, shown once."""
        plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._writing() as session:
            user = self._locked_user(session, username)
            if not user.active:
                raise UserError(Message(N_("user %(name)s is disabled"), name=repr(user.username)))
            token = ApiToken(user_id=user.id, label=clip((label or "").strip(), 80), created=now_utc(),
                             token_hash=hash_token(plaintext), revoked=False)
            session.add(token)
        return token, plaintext

    def tokens(self, username: str) -> list[ApiToken]:
        """The user's tokens, revoked ones included, newest first."""
        with self._read() as session:
            user = self._locked_user(session, username, lock=False)
            return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                        .order_by(ApiToken.id.desc())))

    def revoke_token(self, token_id: int, username: str | None = None) -> None:
        """Revoke a token; with username, only if that user owns it (else the same 'unknown token')."""
        try:
            token_id = int(token_id)
        except (TypeError, ValueError):
            raise UserError(f"unknown token {str(token_id)[:40]!r}") from None
        if not 0 < token_id <= MAX_ID:
            raise UserError(f"unknown token {token_id!r}")
        with self._writing() as session:
            token = session.get(ApiToken, token_id, with_for_update=True)
            if token is not None and username is not None:
                owner = session.get(User, token.user_id)
                if owner is None or owner.username != str(username).strip().lower():
                    token = None
            if token is None:
                raise UserError(f"unknown token {token_id!r}")
            token.revoked = True

    def user_for_token(self, token: str) -> User | None:
        """The active user a bearer token acts as; None if it is unknown, revoked or its user disabled."""
        if not isinstance(token, str) or not token or len(token) > 200:
            return None
        with self._read() as session:
            row = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                                  .where(ApiToken.token_hash == hash_token(token))).first()
        if row is None:
            return None
        api_token, user = row
        if api_token.revoked or not user.active:
            return None
        now = now_utc()
        if api_token.last_used is None or now - api_token.last_used >= LAST_USED_EVERY:
            with self._writing() as session:  # a fresh write, never a read upgraded to one
                session.execute(update(ApiToken).where(ApiToken.id == api_token.id).values(last_used=now))
        return user

    # --- audit log (kept here so callers need one object) -----------------------------------------
    def audit(self, action: str, actor: str = "", target: str = "", detail: str = "", address: str = "") -> None:
        """Record one event; over-long fields are clipped, never refused."""
        self.audit_log.record(action, actor=actor, target=target, detail=detail, address=address)

    def audit_entries(self, limit: int = 200, offset: int = 0, **filters) -> list[AuditEntry]:
        """Audit entries, newest first (filters: actor, action, since, until; see AuditLog.entries)."""
        return self.audit_log.entries(limit, offset, **filters)

    def audit_csv(self) -> str:
        """The whole audit log as CSV (newest first), every cell safe to open in a spreadsheet."""
        return self.audit_log.csv()
