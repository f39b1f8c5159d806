"""What the blueprints share (they never import each other): the service objects, the client's address, the
audit of what is not a note change, template globals, query parameters, role labels."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from flask import current_app, g, render_template, request
from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from .. import access
from ..comments import Comments, CommentView
from ..search import SearchQuery
from ..taxonomy import LANGUAGES
from ..users import UserStore
from ..wiki import Wiki, reset_client_address, set_client_address

RTL = {"ar"}
MAX_PAGE = 500
ROLE_LABELS = {"practitioner": _l("Practitioner"), "focal_point": _l("Focal point"), "admin": _l("Administrator")}


def current_wiki() -> Wiki:
    return current_app.extensions["kb.wiki"]


def current_users() -> UserStore:
    return current_app.extensions["kb.users"]


def current_comments() -> Comments:
    return current_app.extensions["kb.comments"]


def comment_threads(slug: str) -> list[CommentView]:
    """A note's comment threads as the signed-in reader sees them (none for the public), once per request:
    the note page shows exactly what its validator hashed."""
    cache = g.setdefault("kb_comment_threads", {})
    if slug not in cache:
        signed_in = getattr(current_user, "is_authenticated", False)
        cache[slug] = current_comments().threads(current_user, slug) if signed_in else []
    return cache[slug]


def admins_only() -> None:
    """The one guard of every /admin page: for anyone but an admin nothing there exists (the same 404 as
    a page that does not exist)."""
    if request.path == "/admin" or request.path.startswith("/admin/"):
        access.require(current_user, "administer", "admin")


def audit_address_start() -> None:
    """Changes the service makes during this request are audited with the client's address."""
    g.kb_address_token = set_client_address(client_address())


def audit_address_end(_exc=None) -> None:
    token = g.pop("kb_address_token", None)
    if token is not None:
        try:
            reset_client_address(token)
        except ValueError:  # set in another context (a streamed response): it ends with that context
            pass


def client_address() -> str:
    """The client's address (the proxy's X-Forwarded-For only when KB_TRUST_PROXY let ProxyFix read it)."""
    return request.remote_addr or ""


def record(action: str, target: str, detail: str = "") -> None:
    """One audit entry for the signed-in user's action, with their address (note changes are audited by the
    service's write path, not here)."""
    current_users().audit(action, actor=getattr(current_user, "username", "") or "", target=target,
                          detail=detail, address=client_address())


def old_texts_for_signed_in(note):
    """What a reader who may not see earlier versions' text gets instead: who may, and a way to sign in."""
    return render_template("notes/signed_in_only.html", note=note), 403


def ui_lang() -> str:
    return str(get_locale() or "en")


def text_dir(lang: str | None) -> str:
    return "rtl" if lang in RTL else "ltr"


def template_globals() -> dict:
    wiki = current_wiki()
    lang = ui_lang()

    def label(kind: str, key: str) -> str:
        return wiki.taxonomy.label(kind, key, lang)

    def date(value: dt.datetime | None) -> str:
        return format_date(value, format="medium") if value else ""

    return {"taxonomy": wiki.taxonomy, "label": label, "ui_lang": lang, "ui_dir": text_dir(lang),
            "text_dir": text_dir, "fmt_date": date, "user": current_user, "place_slug": _place_slug,
            "facet_url": facet_url, "page_url": page_url, "active_values": active_values}


def active_values(param: str) -> list[str]:
    return [p.strip() for v in request.args.getlist(param) for p in v.split(",") if p.strip()]


def _url_with(args: MultiDict) -> str:
    return request.path + ("?" + urlencode(list(args.items(multi=True))) if args else "")


def facet_url(param: str, value: str) -> str:
    """The current page's URL with this facet value toggled, back on page 1; the query is kept."""
    args = MultiDict(request.args)
    current = active_values(param)
    args.poplist(param)
    args.pop("page", None)
    chosen = [v for v in current if v != value] if value in current else [*current, value]
    for v in chosen:
        args.add(param, v)
    return _url_with(args)


def page_url(page: int) -> str:
    args = MultiDict(request.args)
    args["page"] = str(page)
    return _url_with(args)


def _place_slug(name: str) -> str:
    place = current_wiki().taxonomy.places.get(name)
    return place.slug if place else ""


def _int(name: str, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(request.args.get(name, default))))
    except (TypeError, ValueError):
        return default


def search_query_from_args() -> SearchQuery:
    """The search parameters shared by /search and /api/search; unknown values are dropped, not errors."""
    tax = current_wiki().taxonomy
    args = request.args

    def values(name: str, allowed) -> list[str]:
        out = []
        for v in args.getlist(name):
            for part in v.split(","):
                part = part.strip()
                if name in ("region", "country"):
                    part = tax.canonical_place(part) or (tax.by_slug(part).name if tax.by_slug(part) else "")
                if part and part in allowed and part not in out:
                    out.append(part)
        return out[:20]

    since = None
    raw_since = args.get("since", "").strip()
    if raw_since:
        try:
            since = dt.datetime.fromisoformat(raw_since[:10]).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            since = None
    sort = args.get("sort", "relevance")
    return SearchQuery(
        q=args.get("q", "")[:2000],
        places=values("region", tax.places),  # a region covers its countries; a country is accepted too
        countries=values("country", {p.name for p in tax.countries()}),  # AND with region, OR within
        topics=values("topic", tax.topics), audience=values("audience", tax.audiences),
        languages=values("lang", LANGUAGES), since=since,
        sort=sort if sort in ("relevance", "newest") else "relevance",
        page=_int("page", 1, 1, MAX_PAGE), per_page=_int("per_page", 20, 1, 100),
        prefer_language=ui_lang(),
        review=args.get("review", "") if args.get("review") in ("overdue", "due") else "",  # due: within 30 days
    )
