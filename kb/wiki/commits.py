"""What a commit of a note says, and reading it back: the writer's one-line summary, then trailers for a
status change, a restore, a merge and a personal-data confirmation (the history page shows them)."""
from __future__ import annotations

import re
from dataclasses import dataclass

MESSAGE_MAX = 200
REASON_MAX = 500
_STATUS_RE = re.compile(r"Status: (?:(draft|review|published) -> )?(draft|review|published)")
_REASON_RE = re.compile(r"Personal-data-confirmed: (.*)")
_RESTORED_RE = re.compile(r"Restored-from: ([0-9a-f]{7,40})")
_VERBS = {"published": "Publish", "review": "Submit for review", "draft": "Return to draft"}


@dataclass(frozen=True)
class RevisionInfo:
    """What a commit message says about a revision, for the history page."""
    summary: str
    status_from: str | None
    status_to: str | None
    personal_data_reason: str
    restored_from: str


def one_line(text: str, limit: int) -> str:
    return " ".join(str(text or "").split())[:limit]


def commit_message(slug: str, message: str, before: str | None, after: str, reason: str = "",
                   restored_from: str = "", merged_with: str = "") -> str:
    """The writer's one-line summary (or a default), then trailers the history page reads back."""
    summary = one_line(message, MESSAGE_MAX)
    if not summary:
        if before is None:
            summary = f"Create {slug}"
        elif restored_from:
            summary = f"Restore {slug} to revision {restored_from[:10]}"
        elif before != after:
            summary = f"{_VERBS[after]} {slug}"
        elif merged_with:
            summary = f"Edit {slug}, merged with the changes saved meanwhile"
        else:
            summary = f"Edit {slug}"
    trailers = []
    if before != after:
        trailers.append(f"Status: {after}" if before is None else f"Status: {before} -> {after}")
    if restored_from:
        trailers.append(f"Restored-from: {restored_from}")
    if merged_with:
        trailers.append(f"Merged-with: {merged_with}")
    if reason:
        trailers.append(f"Personal-data-confirmed: {one_line(reason, REASON_MAX)}")
    return summary + ("\n\n" + "\n".join(trailers) if trailers else "")


def trailers(message: str) -> list[str]:
    """The trailer block kb writes: the last paragraph after the one-line summary (as git interpret-trailers
    reads it), never the summary itself; a block with a line that is not "Key: value" is no trailer block."""
    _, _, rest = (message or "").partition("\n")
    paragraphs = [p for p in rest.strip("\n").split("\n\n") if p.strip()]
    if not paragraphs:
        return []
    lines = paragraphs[-1].strip("\n").split("\n")
    return lines if all(re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*: .*", line) for line in lines) else []


def parse_message(message: str) -> RevisionInfo:
    """Read back what commit_message wrote (other commits give just their first line). Status changes and
    confirmations come from the trailers kb set, so a summary that imitates one is shown as plain text."""
    text = message or ""
    status = reason = restored = None
    for line in trailers(text):
        status = status or _STATUS_RE.fullmatch(line)
        reason = reason or _REASON_RE.fullmatch(line)
        restored = restored or _RESTORED_RE.fullmatch(line)
    return RevisionInfo(summary=text.split("\n", 1)[0], status_from=status.group(1) if status else None,
                        status_to=status.group(2) if status else None,
                        personal_data_reason=reason.group(1) if reason else "",
                        restored_from=restored.group(1) if restored else "")
