"""The audit log: recording what writers do, and the admins' page and CSV export of it (/admin/audit)."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from .. import access
from ..workflow import SaveResult, audit_events
from .auth import client_address
from .helpers import current_users

bp = Blueprint("audit", __name__, url_prefix="/admin")
PER_PAGE = 100


def record(action: str, target: str, detail: str = "") -> None:
    """One audit entry for the signed-in user's action, with their address."""
    current_users().audit(action, actor=getattr(current_user, "username", "") or "", target=target,
                          detail=detail, address=client_address())


def record_save(result: SaveResult) -> None:
    """The audit entries of a save: the save itself, a status change, a personal-data confirmation."""
    for action, detail in audit_events(result):
        record(action, result.slug, detail)


@bp.before_request
def admins_only():
    if not access.is_admin(current_user):
        abort(404)  # like the rest of /admin: nothing here exists for anyone else


@bp.get("/audit")
def log():
    try:
        page = max(1, min(10_000, int(request.args.get("page", 1))))
    except ValueError:
        page = 1
    entries = current_users().audit_entries(limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
    return render_template("audit/log.html", entries=entries[:PER_PAGE], page=page,
                           has_next=len(entries) > PER_PAGE)


@bp.get("/audit.csv")
def log_csv():
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Response(current_users().audit_csv(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="kb-audit-{stamp}.csv"',
                             "Cache-Control": "no-store"})
