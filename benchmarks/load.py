"""Load test: the shared corpus served by gunicorn (2 workers) on loopback, 16 concurrent clients for 60 s.

    .venv/bin/python benchmarks/load.py [--seconds 60] [--clients 16] [--keep]

In a temporary folder: a content repository with the shipped taxonomy, the corpus imported with `kb import`
(as an operator would), accounts with API tokens; then gunicorn (`python -m gunicorn kb.wsgi:app`, 2 workers)
on a free 127.0.0.1 port. Each client is a thread sending one request at a time, for --seconds (and at most
MAX_REQUESTS_PER_CLIENT requests), picking per request: a search through the results page (words and facet
filters), a note page, a region page, or an edit through the API (GET /api/notes/<slug> for the revision,
then PUT with base_revision and a bearer token; each editing client owns its own notes, so no edit meets a
conflict). Reports throughput and median/p95/p99 latency per kind, and every error (none is expected).
Afterwards it checks every acknowledged edit: in the file in content/, in git history (the commit the API
returned, with the edit's message) and in search (its unique word finds the note). Writes the raw numbers to
benchmarks/out/load-<timestamp>.json. Loopback only; every loop is bounded in time and count.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from search_bench import CORPUS, OUT, QUERIES, log, machine, make_site, pct  # noqa: E402

from kb import create_app  # noqa: E402
from kb.model import parse_note  # noqa: E402
from kb.taxonomy import Taxonomy  # noqa: E402
from tests.liveserver import Server, site_env  # noqa: E402

MIX = {"search": 0.45, "note": 0.30, "region": 0.15, "edit": 0.10}
MAX_REQUESTS_PER_CLIENT = 100_000
TIMEOUT = 30.0
EDITORS = 4  # API accounts (admins) whose tokens the editing clients use in turn


class Site:
    """The imported site: paths, the notes a reader may open, the places, the editors' tokens."""

    def __init__(self, root: Path):
        self.root = root
        self.public: list[str] = []
        self.places: list[str] = []
        self.tokens: list[str] = []


def build(work: Path) -> tuple[Site, dict]:
    site = make_site(work)
    env = site_env(site.root)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "kb", "import", str(CORPUS)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"kb import failed: {proc.stderr[-2000:]}")
    timings = {"import_s": time.perf_counter() - started, "import_output": proc.stdout.strip().splitlines()[-1]}
    app = create_app(site.config)
    users = app.extensions["kb.users"]
    out = Site(site.root)
    for i in range(EDITORS):
        users.add(f"loadeditor{i}", secrets.token_urlsafe(16), "admin")
        out.tokens.append(users.create_token(f"loadeditor{i}", "load test")[1])
    wiki = app.extensions["kb.wiki"]
    tax: Taxonomy = wiki.taxonomy
    for slug in wiki.store.slugs():
        meta = parse_note(slug, wiki.store.read_text(slug), tax).meta
        if meta.visibility == "public" and meta.status == "published":
            out.public.append(slug)
    out.places = sorted(p.slug for p in tax.places.values())
    wiki.close()
    users.dispose()
    return out, timings


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = {k: [] for k in MIX}
        self.errors: list[str] = []
        self.edits: list[dict] = []  # acknowledged: slug, word, revision

    def record(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latency[kind].append(seconds)

    def error(self, message: str) -> None:
        with self.lock:
            if len(self.errors) < 1000:
                self.errors.append(message)


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def search_path(rng: random.Random) -> str:
    kind = rng.choice(sorted(QUERIES))
    q, extra = rng.choice(QUERIES[kind])
    return "/search?" + urllib.parse.urlencode({"q": q, **extra})


def client(n: int, port: int, site: Site, owned: list[str], stop_at: float, stats: Stats) -> None:
    rng = random.Random(n)
    kinds, weights = zip(*MIX.items())
    token = site.tokens[n % len(site.tokens)]
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(MAX_REQUESTS_PER_CLIENT):
        if time.monotonic() >= stop_at:
            return
        kind = rng.choices(kinds, weights)[0]
        if kind == "edit" and not owned:
            kind = "note"
        try:
            if kind == "search":
                path, method, body, headers = search_path(rng), "GET", None, {}
            elif kind == "note":
                path, method, body, headers = f"/notes/{rng.choice(site.public)}", "GET", None, {}
            elif kind == "region":
                path, method, body, headers = f"/regions/{rng.choice(site.places)}", "GET", None, {}
            else:
                slug = rng.choice(owned)
                status, data = request(port, "GET", f"/api/notes/{slug}", headers=auth)
                if status != 200:
                    stats.error(f"edit read {slug}: HTTP {status} {data[:200]!r}")
                    continue
                note = json.loads(data)
                word = f"loadedit{n:02d}x{secrets.token_hex(4)}"
                path, method, headers = f"/api/notes/{slug}", "PUT", {**auth, "Content-Type": "application/json"}
                body = json.dumps({"base_revision": note["revision"], "message": f"Load test edit {word}",
                                   "body": note["body"].rstrip("\n") + f"\n\nChecked again: {word}.\n"}).encode()
            started = time.perf_counter()
            status, data = request(port, method, path, body, headers)
            elapsed = time.perf_counter() - started
        except (OSError, http.client.HTTPException, ValueError) as exc:
            stats.error(f"{kind}: {exc!r}")
            continue
        if status != 200:
            stats.error(f"{kind} {method} {path[:120]}: HTTP {status} {data[:200]!r}")
            continue
        stats.record(kind, elapsed)
        if kind == "edit":
            with stats.lock:
                stats.edits.append({"slug": slug, "word": word, "revision": json.loads(data)["revision"]})


def run_load(port: int, site: Site, clients: int, seconds: float) -> tuple[Stats, float]:
    stats = Stats()
    editable = sorted(site.public)
    owned = {i: [s for j, s in enumerate(editable) if j % clients == i] for i in range(clients)}
    stop_at = time.monotonic() + seconds
    threads = [threading.Thread(target=client, args=(i, port, site, owned[i], stop_at, stats), daemon=True)
               for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 2 * TIMEOUT)
    return stats, time.perf_counter() - started


def verify(site: Site, port: int, stats: Stats) -> dict:
    """Every acknowledged edit: in its file, in git history (commit and message), and found by search."""
    content = site.root / "content"
    by_slug: dict[str, list[dict]] = {}
    for e in stats.edits:
        by_slug.setdefault(e["slug"], []).append(e)
    missing_file, missing_git, missing_search = [], [], []
    for slug, edits in by_slug.items():
        text = (content / f"{slug}.md").read_text(encoding="utf-8")
        missing_file += [e["word"] for e in edits if e["word"] not in text]
    log_out = subprocess.run(["git", "-C", str(content), "log", "--format=%H %s"], capture_output=True,
                             text=True, check=True).stdout
    commits = dict(line.split(" ", 1) for line in log_out.splitlines() if " " in line)
    for e in stats.edits:
        if f"Load test edit {e['word']}" not in commits.get(e["revision"], ""):
            missing_git.append(e["word"])
    deadline = time.monotonic() + 60  # queued index updates are applied within seconds
    pending = list(stats.edits)
    while pending and time.monotonic() < deadline:
        still = []
        for e in pending:
            status, data = request(port, "GET", "/api/search?" + urllib.parse.urlencode({"q": e["word"]}))
            slugs = [h["slug"] for h in json.loads(data)["hits"]] if status == 200 else []
            if e["slug"] not in slugs:
                still.append(e)
        pending = still
        if pending:
            time.sleep(1)
    missing_search = [e["word"] for e in pending]
    return {"edits": len(stats.edits), "notes_edited": len(by_slug), "missing_in_file": missing_file,
            "missing_in_git": missing_git, "missing_in_search": missing_search}


def summary(stats: Stats, wall: float) -> dict:
    kinds = {}
    for kind, values in stats.latency.items():
        if values:
            kinds[kind] = {"count": len(values), "per_s": len(values) / wall,
                           "median_ms": statistics.median(values) * 1000, "p95_ms": pct(values, 95) * 1000,
                           "p99_ms": pct(values, 99) * 1000, "max_ms": max(values) * 1000}
    total = sum(len(v) for v in stats.latency.values())
    return {"wall_s": wall, "requests": total, "throughput_per_s": total / wall, "errors": len(stats.errors),
            "kinds": kinds}


def table(result: dict) -> str:
    s = result["summary"]
    lines = [f"{s['requests']} requests in {s['wall_s']:.1f} s: **{s['throughput_per_s']:.1f} requests/s**, "
             f"**{s['errors']} errors**", "",
             "| kind | requests | per second | median ms | p95 ms | p99 ms | max ms |", "|---|---|---|---|---|---|---|"]
    for kind, k in s["kinds"].items():
        lines.append(f"| {kind} | {k['count']} | {k['per_s']:.1f} | {k['median_ms']:.0f} | {k['p95_ms']:.0f} | "
                     f"{k['p99_ms']:.0f} | {k['max_ms']:.0f} |")
    v = result["verify"]
    lines += ["", f"Edits acknowledged: {v['edits']} on {v['notes_edited']} notes; missing afterwards: "
              f"{len(v['missing_in_file'])} in content/, {len(v['missing_in_git'])} in git history, "
              f"{len(v['missing_in_search'])} in search."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the temporary site")
    args = parser.parse_args(argv)
    args.seconds = max(1.0, min(args.seconds, 600.0))
    args.clients = max(1, min(args.clients, 64))
    info = machine()
    work = Path(tempfile.mkdtemp(prefix="kb-load-"))
    try:
        log(f"importing {CORPUS} into {work}")
        site, timings = build(work)
        log(f"{timings['import_output']} in {timings['import_s']:.1f} s; {len(site.public)} public notes")
        server = Server(site_env(site.root), workers=args.workers, log=work / "server.log")
        with server.start():
            log(f"gunicorn ({args.workers} workers) ready on {server.url} in {server.started_in:.1f} s; "
                f"{args.clients} clients for {args.seconds:.0f} s")
            stats, wall = run_load(server.port, site, args.clients, args.seconds)
            log(f"load done: {sum(len(v) for v in stats.latency.values())} requests; verifying edits")
            checked = verify(site, server.port, stats)
        result = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": info, "clients": args.clients,
                  "seconds": args.seconds, "workers": args.workers, "corpus_notes": len(list(CORPUS.rglob("*.md"))),
                  "build": timings, "server_start_s": server.started_in, "summary": summary(stats, wall),
                  "verify": checked, "errors": stats.errors[:50], "load_after": os.getloadavg()}
        OUT.mkdir(parents=True, exist_ok=True)
        out = OUT / f"load-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
        print(table(result))
        for e in stats.errors[:20]:
            print("error:", e)
        log(f"raw numbers in {out}")
        v = checked
        ok = not stats.errors and not (v["missing_in_file"] or v["missing_in_git"] or v["missing_in_search"])
        return 0 if ok else 1
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
