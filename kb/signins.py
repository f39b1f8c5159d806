"""Sign-ins held on the server: each browser's sign-in is a row, so signing out ends it for good (a copied
cookie stops working) and it expires after an idle time and a maximum age (no Flask)."""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, or_, select, update

from .accounts_model import SignIn, hash_token, now_utc
from .db import Database

SEEN_EVERY = timedelta(seconds=60)  # don't turn every page view into a database write


class SignIns:
    def __init__(self, db: Database):
        self.db = db

    def start(self, user_id: int, max_age: timedelta) -> str:
        """A new sign-in for the user; returns the key the session cookie keeps (the database keeps its hash)."""
        key = secrets.token_urlsafe(32)
        now = now_utc()
        with self.db.writing() as session:
            # rows past the maximum age can never be used again: tidy them away on each sign-in
            session.execute(delete(SignIn).where(or_(SignIn.started < now - max_age, SignIn.ended.is_(True))))
            session.add(SignIn(user_id=user_id, key_hash=hash_token(key), started=now, last_seen=now, ended=False))
        return key

    def check(self, key: object, user_id: int, idle: timedelta, max_age: timedelta) -> bool:
        """Whether this sign-in still holds: not ended, used within ``idle``, started within ``max_age``."""
        if not isinstance(key, str) or not key or len(key) > 100:
            return False
        with self.db.reading() as session:
            row = session.scalars(select(SignIn).where(SignIn.key_hash == hash_token(key))).first()
        now = now_utc()
        if row is None or row.ended or row.user_id != user_id or now - row.started > max_age \
                or now - row.last_seen > idle:
            return False
        if now - row.last_seen >= SEEN_EVERY:
            with self.db.writing() as session:
                session.execute(update(SignIn).where(SignIn.id == row.id).values(last_seen=now))
        return True

    def end(self, key: object) -> None:
        """End one sign-in (signing out); an unknown key is ignored."""
        if isinstance(key, str) and key:
            with self.db.writing() as session:
                session.execute(update(SignIn).where(SignIn.key_hash == hash_token(key)).values(ended=True))
