"""Reading git's history for kb.history.History: revisions with their file names, removed files, several
files at several revisions in one process, last changes. Runs git only through History's own runner."""
from __future__ import annotations

import datetime as dt
import re
import subprocess
from dataclasses import dataclass

_REV_RE = re.compile(r"^[0-9a-f]{7,40}$")
_SEP = "\x1f"


@dataclass(frozen=True)
class Revision:
    id: str
    author: str
    email: str
    date: dt.datetime
    message: str


class HistoryReads:
    """History's read-only questions that span many revisions or files."""

    def _git(self, *args: str, input: bytes | None = None, check: bool = True,
             **options) -> subprocess.CompletedProcess:
        raise NotImplementedError  # History's runner

    def log_with_paths(self, path: str, limit: int = 100) -> list[tuple[Revision, str | None]]:
        """Revisions of a file, newest first (following renames), each with the name the file had then."""
        fmt = f"--format=%x1e%H{_SEP}%an{_SEP}%ae{_SEP}%aI{_SEP}%B%x1d"
        proc = self._git("log", "--follow", f"-n{int(limit)}", fmt, "--name-only", "--", path, check=False)
        out = []
        for record in proc.stdout.decode("utf-8", errors="replace").split("\x1e"):
            if "\x1d" not in record:
                continue
            head, names = record.split("\x1d", 1)
            rev, author, email, date, message = head.split(_SEP, 4)
            name = next((n for n in names.split("\n") if n.strip()), None)
            out.append((Revision(rev, author, email, dt.datetime.fromisoformat(date), message.strip()), name))
        return out

    def removed(self, folder: str, limit: int = 100) -> list[tuple[str, str, Revision]]:
        """Files removed from a folder, newest first: (path, the revision before, which still held it, the
        revision that removed it)."""
        fmt = f"--format=%x1e%H{_SEP}%P{_SEP}%an{_SEP}%ae{_SEP}%aI{_SEP}%s%x1d"
        proc = self._git("log", f"-n{int(limit)}", "--diff-filter=D", "--no-renames", fmt, "--name-only", "--",
                         folder, check=False)
        out = []
        for record in proc.stdout.decode("utf-8", errors="replace").split("\x1e"):
            if "\x1d" not in record:
                continue
            head, names = record.split("\x1d", 1)
            rev, parents, author, email, date, subject = head.split(_SEP, 5)
            removal = Revision(rev, author, email, dt.datetime.fromisoformat(date), subject.strip())
            out += [(n.strip(), parents.split(" ")[0], removal) for n in names.split("\n") if n.strip() and parents]
        return out

    def contents_at(self, pairs: list[tuple[str, str | None]]) -> list[bytes | None]:
        """Several files as they were at several revisions, in one git process; None where absent."""
        wanted = [(rev, name) for rev, name in pairs if name and _REV_RE.match(rev)]
        if not wanted:
            return [None] * len(pairs)
        query = "".join(f"{rev}:{name}\n" for rev, name in wanted).encode("utf-8")
        data = self._git("cat-file", "--batch", input=query, check=False).stdout
        found: dict[tuple[str, str], bytes | None] = {}
        pos = 0
        for key in wanted:
            end = data.index(b"\n", pos)
            header = data[pos:end].split()
            pos = end + 1
            if len(header) == 3 and header[1] == b"blob":
                size = int(header[2])
                found[key] = data[pos:pos + size]
                pos += size + 1
            else:
                found[key] = None
        return [found.get((rev, name)) if name else None for rev, name in pairs]

    def path_at(self, path: str, revision: str) -> str | None:
        """The name the file had at a revision of its history (which follows renames), or None."""
        if not _REV_RE.match(revision or ""):
            return None
        proc = self._git("log", "--follow", "--format=%x1e%H", "--name-only", "--", path, check=False)
        for block in proc.stdout.decode("utf-8", errors="replace").split("\x1e"):
            lines = [ln for ln in block.split("\n") if ln]
            if len(lines) >= 2 and lines[0].startswith(revision):
                return lines[1]
        return None

    def last_changes(self) -> dict[str, tuple[str, dt.datetime]]:
        """For every file: the last commit that changed it and its date, in one pass over the log."""
        proc = self._git("log", "--format=%x1e%H %ct", "--name-only", "--no-renames", check=False)
        seen: dict[str, tuple[str, dt.datetime]] = {}
        for block in proc.stdout.decode("utf-8", errors="replace").split("\x1e"):
            lines = [ln for ln in block.split("\n") if ln]
            if not lines:
                continue
            rev, ts = lines[0].split(" ")
            when = dt.datetime.fromtimestamp(int(ts), dt.timezone.utc)
            for name in lines[1:]:
                seen.setdefault(name, (rev, when))
        return seen

    def changed_files(self, since: str | None) -> list[str] | None:
        """Files changed between a commit and HEAD; None when it cannot be told (then check everything)."""
        if not since:
            return None
        proc = self._git("diff", "--name-only", since, "HEAD", check=False)
        if proc.returncode != 0:
            return None
        return [ln for ln in proc.stdout.decode().split("\n") if ln]
