"""The audit log's page and CSV export for admins (/admin/audit). The service's write path records note
changes; helpers.record the rest."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, render_template, request

from .helpers import current_users

bp = Blueprint("audit", __name__, url_prefix="/admin")
PER_PAGE = 100


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
