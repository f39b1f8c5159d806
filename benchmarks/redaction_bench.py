"""How long a redaction takes: the shipped content, then the same with a few hundred more commits.

    .venv/bin/python benchmarks/redaction_bench.py [--commits 300,1000]

For each size, in a temporary folder: the shipped notes in a fresh repository (plus N commits spread over
the notes, each appending a line), a child's name added to one note and edited out again; then the name is
redacted from the whole history (git-filter-repo, reflog expiry and gc, index rebuild) and a whole
revision is redacted. Prints one Markdown table; everything runs locally, bounded by the sizes given.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb.wiki import redaction as redact  # noqa: E402
from kb.wiki import Wiki  # noqa: E402

ADMIN = SimpleNamespace(is_authenticated=True, active=True, username="admin", role="admin", regions=[])
NAME = "Aminata Traoré"


def setup(folder: Path, extra_commits: int) -> tuple[Wiki, str]:
    shutil.copytree(ROOT / "content", folder / "content", ignore=shutil.ignore_patterns(".git"))
    wiki = Wiki(folder / "content", folder / "index")
    wiki.history.init()
    slugs = wiki.store.slugs()
    for i in range(extra_commits):
        slug = slugs[i % len(slugs)]
        path = wiki.store.path_for(slug)
        path.write_text(path.read_text(encoding="utf-8") + f"\nA follow-up line, number {i}.\n", encoding="utf-8")
        wiki.history.commit([wiki.store.relpath(slug)], f"Follow-up {i}", "moussa")
    wiki.rebuild_index()
    slug = "reintegration-counselling-returnees-mali"
    note = wiki.get_note_and_revision(ADMIN, slug)
    wiki.save(ADMIN, slug, note.meta, note.body + f"\nWe met {NAME}, 12.\n", note.revision)
    note = wiki.get_note_and_revision(ADMIN, slug)
    wiki.save(ADMIN, slug, note.meta, note.body.replace(NAME, "a girl"), note.revision)
    return wiki, slug


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", default="0,300,1000", help="extra commits per run, comma-separated")
    args = parser.parse_args()
    rows = []
    for extra in [int(n) for n in args.commits.split(",")]:
        with tempfile.TemporaryDirectory(prefix="kb-redact-bench-") as tmp:
            wiki, slug = setup(Path(tmp), extra)
            commits = len(wiki.history.log(limit=1_000_000))
            start = time.monotonic()
            wiki.rebuild_index()
            rebuild = time.monotonic() - start
            passage = redact.redact_passage(wiki, ADMIN, slug, NAME, "benchmark")
            revision = redact.redact_revision(wiki, ADMIN, slug, wiki.revision_of(slug), "benchmark")
            wiki.close()
            rows.append((len(wiki.store.slugs()), commits, passage.seconds, revision.seconds, rebuild))
    print("| notes | commits | redact a passage (s) | redact a revision (s) | of which: index rebuild (s) |")
    print("|---:|---:|---:|---:|---:|")
    for notes, commits, p, r, b in rows:
        print(f"| {notes} | {commits} | {p:.2f} | {r:.2f} | {b:.2f} |")


if __name__ == "__main__":
    main()
