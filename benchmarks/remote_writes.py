"""What a shared content remote (KB_GIT_REMOTE) costs a write, and what a pull costs a node.

    .venv/bin/python benchmarks/remote_writes.py [--saves 20]

In a temporary folder: the shipped notes committed into a content repository, a bare git repository on the
same disk as the remote, one node without the remote and two nodes cloned from it (each with its own index,
one shared SQLite database). Measures, through the service (no HTTP):

- a save (the same note, one line added each time) on the node without the remote, then on node A with it
  (catch up with the remote, commit, push, re-index): median and max;
- node B's pull of those saves (fetch, fast-forward, re-index only the notes changed) and a pull with nothing
  new (what the background thread does every KB_SYNC_SECONDS when nobody saved).

A local bare remote measures kb's own work; a remote across a network adds its round trips (two per save:
the fetch and the push). Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb import create_app  # noqa: E402
from kb.history import History  # noqa: E402
from kb.wiki import join_remote  # noqa: E402

SLUG = "reintegration-counselling-returnees-mali"


def config(root: Path, db: str, remote: str = "") -> dict:
    return {"KB_CONTENT_DIR": str(root / "content"), "KB_INDEX_DIR": str(root / "index"),
            "KB_INSTANCE_DIR": str(root / "instance"), "KB_DATABASE_URL": db, "KB_SECRET_KEY": "benchmark",
            "KB_GIT_REMOTE": remote, "KB_SYNC_SECONDS": "3600"}


def saves(app, count: int) -> list[float]:
    wiki, users = app.extensions["kb.wiki"], app.extensions["kb.users"]
    moussa = users.by_username("moussa")
    times = []
    for i in range(count):
        note = wiki.get_note_and_revision(moussa, SLUG)
        began = time.perf_counter()
        wiki.save(moussa, SLUG, note.meta, note.body + f"\nBenchmark line {i}.\n", note.revision)
        times.append(time.perf_counter() - began)
    return times


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms (max {max(values) * 1000:.0f} ms)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--saves", type=int, default=20)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kb-remote-bench-"))
    try:
        single = tmp / "single"
        shutil.copytree(ROOT / "content", single / "content", ignore=shutil.ignore_patterns(".git"))
        History(single / "content").init()
        db = f"sqlite:///{tmp / 'kb.sqlite'}"
        app = create_app(config(single, db))
        app.extensions["kb.users"].add("moussa", "a benchmark password", "focal_point", regions=["Sahel"])
        bare = tmp / "remote.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
        subprocess.run(["git", "-C", str(single / "content"), "push", "-q", str(bare), "main"], check=True)
        nodes = []
        for name in ("a", "b"):
            join_remote(tmp / name / "content", str(bare))
            shutil.copytree(single / "index", tmp / name / "index")
            nodes.append(create_app(config(tmp / name, db, str(bare))))
        without = saves(app, args.saves)
        with_remote = saves(nodes[0], args.saves)
        b = nodes[1].extensions["kb.wiki"]
        began = time.perf_counter()
        pulled = b.sync()
        pull = time.perf_counter() - began
        idle = []
        for _ in range(10):
            began = time.perf_counter()
            b.sync()
            idle.append(time.perf_counter() - began)
        print(f"| {args.saves} saves of one note, shipped notes | median (max) |")
        print("|---|---|")
        print(f"| save, one node, no remote | {ms(without)} |")
        print(f"| save, with a local bare remote | {ms(with_remote)} |")
        print(f"| node B pulls the {args.saves} commits ({len(pulled.notes)} note re-indexed) | {pull * 1000:.0f} ms |")
        print(f"| a pull with nothing new (10 runs) | {ms(idle)} |")
        for each in (app, *nodes):
            each.extensions["kb.wiki"].close()
            each.extensions["kb.users"].dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
