"""The audit log: who did what, when, from where; read back as a page, as CSV, and by the sign-in throttle."""
from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import func, select

from .accounts_model import AuditEntry, now_utc
from .db import Database

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clip(value: object, size: int) -> str:
    """At most ``size`` characters, without NUL (which PostgreSQL's text cannot hold)."""
    return ("" if value is None else str(value)).replace("\x00", "")[:size]


def _spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (OWASP CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


class AuditLog:
    def __init__(self, db: Database):
        self.db = db

    def record(self, action: str, actor: str = "", target: str = "", detail: str = "", address: str = "") -> None:
        """Record one event; over-long fields are clipped, never refused."""
        entry = AuditEntry(at=now_utc(), action=clip(action, 40), actor=clip(actor, 40), target=clip(target, 300),
                           detail=clip(detail, 4000), address=clip(address, 64))
        with self.db.writing() as session:
            session.add(entry)

    def entries(self, limit: int = 200, offset: int = 0, *, actor: str | None = None, action: str | None = None,
                since: datetime | None = None, until: datetime | None = None) -> list[AuditEntry]:
        """Audit entries, newest first; only those of one actor, one action, from ``since`` and before
        ``until`` when given."""
        query = select(AuditEntry)
        if actor:
            query = query.where(AuditEntry.actor == clip(actor, 40))
        if action:
            query = query.where(AuditEntry.action == clip(action, 40))
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        if until is not None:
            query = query.where(AuditEntry.at < until)
        with self.db.reading() as session:
            return list(session.scalars(query.order_by(AuditEntry.id.desc())
                                        .limit(max(0, int(limit))).offset(max(0, int(offset)))))

    def recent(self, action: str, since: datetime, *, actor: str | None = None,
               address: str | None = None) -> tuple[int, datetime | None]:
        """How many ``action`` entries since ``since`` (for this actor and/or address), and the latest's time."""
        query = select(func.count(AuditEntry.id), func.max(AuditEntry.at)).where(
            AuditEntry.action == action, AuditEntry.at >= since)
        if actor is not None:
            query = query.where(AuditEntry.actor == clip(actor, 40))
        if address is not None:
            query = query.where(AuditEntry.address == clip(address, 64))
        with self.db.reading() as session:
            count, latest = session.execute(query).one()
        if isinstance(latest, datetime) and latest.tzinfo is None:  # func.max bypasses the column type
            latest = latest.replace(tzinfo=now_utc().tzinfo)
        elif isinstance(latest, str):
            latest = datetime.fromisoformat(latest).replace(tzinfo=now_utc().tzinfo)
        return int(count or 0), latest

    def csv(self) -> str:
        """The whole audit log as CSV (newest first), every cell safe to open in a spreadsheet."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["at", "actor", "action", "target", "detail", "address"])
        with self.db.reading() as session:
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).yield_per(500):
                writer.writerow([e.at.isoformat(timespec="seconds")] +
                                [_spreadsheet_safe(v or "") for v in (e.actor, e.action, e.target, e.detail,
                                                                      e.address)])
        return out.getvalue()
