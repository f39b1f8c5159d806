"""The audit log's page and CSV export for admins (/admin/audit). The service's write path records note
changes; helpers.record the rest."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, render_template, request

from .helpers import current_users
from .messages import N_

bp = Blueprint("audit", __name__, url_prefix="/admin")
PER_PAGE = 100


# The events kb records, each with its name for people (msgids, translated by the page).
EVENTS = {
    "note_create": N_("Note created"), "note_save": N_("Note saved"), "status_change": N_("Status changed"),
    "personal_data_confirmed": N_("Personal data confirmed"), "note_rename": N_("Note renamed"),
    "note_delete": N_("Note deleted"), "note_undelete": N_("Note restored from the deleted notes"),
    "note_restore": N_("Earlier version restored"), "note_redact": N_("Passage redacted"),
    "note_import": N_("Notes imported"), "redirect_drop": N_("Old name freed"),
    "note_review": N_("Marked still accurate"),
    "glossary_save": N_("Glossary changed"),
    "pack_internal": N_("Internal pack downloaded"), "login": N_("Signed in"),
    "login_failed": N_("Sign-in failed"), "sessions_end": N_("Signed out everywhere"),
    "password_change": N_("Password changed"), "password_reset": N_("Password reset"),
    "token_create": N_("API token created"), "token_revoke": N_("API token revoked"),
    "user_add": N_("Account added"), "user_update": N_("Account changed"), "role": N_("Role changed"),
    "user_disable": N_("Account disabled"), "user_enable": N_("Account enabled"),
    "comment_delete": N_("Comment deleted"),
}


def _day(name: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(request.args.get(name, "").strip()[:10]).replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None


@bp.get("/audit")
def log():
    try:
        page = max(1, min(10_000, int(request.args.get("page", 1))))
    except ValueError:
        page = 1
    since, until = _day("from"), _day("to")
    filters = {"actor": request.args.get("who", "").strip()[:40] or None,
               "action": request.args.get("event", "").strip()[:40] or None,
               "since": since, "until": until + dt.timedelta(days=1) if until else None}
    entries = current_users().audit_entries(limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE, **filters)
    args = {k: v for k, v in request.args.items() if k in ("who", "event", "from", "to") and v}
    return render_template("audit/log.html", entries=entries[:PER_PAGE], page=page,
                           has_next=len(entries) > PER_PAGE, events=EVENTS, args=args,
                           people=[u.username for u in current_users().list()])


@bp.get("/audit.csv")
def log_csv():
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Response(current_users().audit_csv(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="kb-audit-{stamp}.csv"',
                             "Cache-Control": "no-store"})
