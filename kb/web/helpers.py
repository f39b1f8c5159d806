"""Small helpers the blueprints share: the service objects, template globals, query parameters."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from flask import current_app, request
from flask_babel import format_date, get_locale
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..search import SearchQuery
from ..taxonomy import LANGUAGES
from ..users import UserStore
from ..wiki import Wiki

RTL = {"ar"}
MAX_PAGE = 500


def current_wiki() -> Wiki:
    return current_app.extensions["kb.wiki"]


def current_users() -> UserStore:
    return current_app.extensions["kb.users"]


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
    )
