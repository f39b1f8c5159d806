"""What a redaction took out stays out: keyed fingerprints of redacted passages, checked on every save.

A writer whose editor was opened before a redaction still holds the passage; saving it again would put it
back. So a redaction keeps, per note, the number of words of the passage and a keyed hash (HMAC-SHA-256) of
them, never the text; a save whose title, summary or body holds those words in that order is refused. The
key is random, made on first use and kept beside the repository's own files (``.git/kb-redaction-key``,
mode 0600), never in history, so the fingerprints say nothing to whoever reads the content repository.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from pathlib import Path

_WORD = re.compile(r"\w+")
KEY_FILE, PRINTS_FILE = "kb-redaction-key", "kb-redacted.json"
MAX_WORDS = 200  # longer passages are fingerprinted by their first 200 words


def _words(text: str) -> list[str]:
    return _WORD.findall(str(text or "").casefold())


def _key(git_dir: Path) -> bytes:
    path = git_dir / KEY_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            key = secrets.token_bytes(32)
            fh.write(key.hex())
        return key


def _digest(key: bytes, words: list[str]) -> str:
    return hmac.new(key, " ".join(words).encode("utf-8"), hashlib.sha256).hexdigest()


def _load(git_dir: Path) -> dict[str, list[list]]:
    try:
        data = json.loads((git_dir / PRINTS_FILE).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def remember(git_dir: Path, slug: str, passage: str) -> None:
    """Keep the fingerprint of a passage just redacted from the note ``slug``."""
    words = _words(passage)[:MAX_WORDS]
    if not words:
        return
    prints = _load(git_dir)
    entry = [len(words), _digest(_key(git_dir), words)]
    if entry not in prints.setdefault(slug, []):
        prints[slug].append(entry)
    tmp = git_dir / (PRINTS_FILE + ".tmp")
    tmp.write_text(json.dumps(prints), encoding="utf-8")
    os.replace(tmp, git_dir / PRINTS_FILE)


def holds_redacted(git_dir: Path, slug: str, *texts: str) -> bool:
    """Does any of ``texts`` hold, word for word, a passage redacted from this note?"""
    prints = _load(git_dir).get(slug)
    if not prints:
        return False
    key = _key(git_dir)
    for text in texts:
        words = _words(text)
        for size, digest in prints:
            for i in range(len(words) - size + 1):
                if hmac.compare_digest(_digest(key, words[i:i + size]), digest):
                    return True
    return False
