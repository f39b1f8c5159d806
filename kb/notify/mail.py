"""Notification e-mails: a digest per reader and frequency, in the reader's language, with titles and links
only, and a signed one-click unsubscribe link (RFC 8058). Plain text; no Flask, only the site's address."""
from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from babel.support import NullTranslations, Translations
from itsdangerous import BadSignature, URLSafeSerializer

from .. import pdscan
from ..accounts_model import now_utc
from ..errors import N_
from ..taxonomy import LANGUAGES

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
_SALT = "kb-notify-unsubscribe"
WITHHELD = N_("a note (its title is not sent by e-mail)")
INTRO = {
    "immediate": N_("Here is what happened in kb for you:"),
    "daily": N_("Here is what happened in kb for you today:"),
    "weekly": N_("Here is what happened in kb for you this week:"),
}
WHY = N_("You receive this e-mail because you follow regions, countries, topics or notes in kb, or because "
         "notes are addressed to you there. Only notes you may read today are listed.")
MANAGE = N_("Choose what you follow and how often:")
STOP = N_("Stop these e-mails:")


@lru_cache(maxsize=8)
def translations(lang: str) -> NullTranslations:
    """The interface's catalogue for this language (English: the message ids themselves)."""
    if lang not in LANGUAGES or lang == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [lang], domain="messages")


def ngettext(singular: str, plural: str, num: int, lang: str) -> str:
    return translations(lang).ngettext(singular, plural, num) % {"num": num}


def gettext(msgid: str, lang: str, **params) -> str:
    text = translations(lang).gettext(msgid)
    return text % params if params else text


def subject(frequency: str, num: int, lang: str) -> str:
    if frequency == "daily":
        return ngettext("kb, your daily digest: %(num)d notification",
                        "kb, your daily digest: %(num)d notifications", num, lang)
    if frequency == "weekly":
        return ngettext("kb, your weekly digest: %(num)d notification",
                        "kb, your weekly digest: %(num)d notifications", num, lang)
    return ngettext("kb: %(num)d new notification", "kb: %(num)d new notifications", num, lang)


# --- unsubscribe links ------------------------------------------------------------------------------------

def unsubscribe_token(secret: str, user_id: int, frequency: str) -> str:
    return URLSafeSerializer(secret, salt=_SALT).dumps({"u": int(user_id), "f": frequency})


def read_unsubscribe_token(secret: str, token: str) -> tuple[int, str] | None:
    """(user id, frequency) from a link kb signed; None for anything else."""
    if not isinstance(token, str) or len(token) > 300:
        return None
    try:
        data = URLSafeSerializer(secret, salt=_SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("f"), str):
        return None
    return data["u"], data["f"]


# --- the digest ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    """One item of a digest: its message id and values, and the note it is about (readable now)."""
    text_key: str
    params: dict
    slug: str
    title: str


def safe_title(title: str) -> str | None:
    """The title as it may leave kb in an e-mail: None when the personal-data scan finds anything in it."""
    return None if pdscan.scan(title) else title


def digest(*, lines: list[Line], lang: str, frequency: str, to: str, mail_from: str, base_url: str,
           unsubscribe_url: str, delivery_id: int) -> EmailMessage:
    """One e-mail listing these items (titles and links, never a note's text)."""
    base = base_url.rstrip("/")
    body = [gettext(INTRO.get(frequency, INTRO["immediate"]), lang), ""]
    for line in lines:
        title = safe_title(line.title) or gettext(WITHHELD, lang)
        try:
            text = gettext(line.text_key, lang) % {**line.params, "title": title}
        except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder: say it in English
            text = line.text_key % {**line.params, "title": title}
        body += [f"- {text}", f"  {base}/notes/{quote(line.slug)}", ""]
    body += ["-- ", gettext(WHY, lang), "", gettext(MANAGE, lang), f"{base}/account/subscriptions",
             gettext(STOP, lang), unsubscribe_url, ""]
    msg = EmailMessage()
    msg["Subject"] = subject(frequency, len(lines), lang)
    msg["From"] = mail_from
    msg["To"] = to
    msg["Date"] = format_datetime(now_utc())
    domain = mail_from.rpartition("@")[2].strip("> ") or "kb.invalid"
    msg["Message-ID"] = make_msgid(f"kb-{delivery_id}", domain=domain)
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content("\n".join(body), charset="utf-8")
    msg["Content-Language"] = lang  # after set_content, which replaces every Content-* header
    return msg
