"""How each cost of one kb node grows with the notes: 743 → 7,430 (→ 100,000 with --huge). Issue 16, item 5.

    .venv/bin/python benchmarks/scale.py [--sizes 1,10] [--huge] [--view-seconds 20] [--code DIR] [--label L]

Per size, in a temporary folder: the shared corpus (../shared/corpus/notes, read in place, never copied into
the repository) and N-1 copies of it, each copy's notes with their own names (-x2 … -xN) and titles
("… (copy 2)"), imported with `kb import` as an operator would; then, with gunicorn (2 sync workers) on a
loopback port:

- cold start: launch to the first 200 on the home page, the first time after the import (a full index check)
  and again (the check of what changed since);
- search: every query of search_bench.QUERIES (words, phrases, prefixes, facet filters) twice through the
  HTML results page (facets and snippets), one at a time, anonymous: median and p95;
- note pages: 200 random public notes one at a time, first views (median, p95), two more passes (each of
  the two workers keeps its own cache), then 4 clients for --view-seconds on the same pages: requests/s,
  median and p95;
- worker memory (RSS) before and after 10 saves through the API (PUT /api/notes/<slug>), and for each save
  the time until /api/search finds its new word (save-to-searchable);
- import of 1,000 new notes into the site (`kb import`), then `kb index rebuild`.

``--fast-build`` (for ``--huge``: importing 100,000 notes takes hours here) imports the corpus once, copies
the imported notes inside content/ with the same names and titles, commits them at once and times
`kb index rebuild` of the whole site as the rebuild (the rebuild at the end is then skipped).

``--code DIR`` serves and runs the command line from another checkout (e.g. the main branch, for a
before/after comparison). ``--git-files 100000 --code A,B`` only times a save's git commit (History.commit
of one note) in a flat folder of that many notes, with each checkout's git calls. Writes benchmarks/out/scale-<timestamp>.json and prints a Markdown table.
Loopback only; every loop is bounded in time and count.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from compare_peer import VIEW_CLIENTS, get, memory, timed_views  # noqa: E402
from search_bench import CORPUS, OUT, QUERIES, log, machine, make_site, pct  # noqa: E402

from kb.history import History  # noqa: E402
from tests.liveserver import Server, site_env  # noqa: E402

TIMEOUT = 120.0
WARM_PASSES = 2
SAVES = 10
IMPORT_NOTES = 1000
_TITLE_RE = re.compile(r"^title:[ \t]*(.*)$", re.M)
# ../shared beside the main checkout; a worktree one level deeper finds it one level up
CORPUS = next((p for p in (CORPUS, ROOT.parent.parent / "shared" / "corpus" / "notes") if p.is_dir()), CORPUS)


def retitled(data: bytes, k: int) -> bytes:
    """The note with " (copy k)" at the end of its title's first line (inside quotes when quoted)."""
    text = data.decode("utf-8")
    match = _TITLE_RE.search(text)
    if not match:
        return data
    value = match.group(1).rstrip()
    if len(value) > 1 and value[0] in "\"'" and value[-1] == value[0]:
        new = f"{value[:-1]} (copy {k}){value[-1]}"
    else:
        new = f"{value} (copy {k})"
    return (text[:match.start(1)] + new + text[match.start(1) + len(match.group(1)):]).encode("utf-8")


def copies(dest: Path, first: int, last: int, limit: int | None = None) -> int:
    """Copies first..last of the corpus under ``dest`` (names -xK, titles "(copy K)"); how many files."""
    count = 0
    for path in sorted(CORPUS.rglob("*.md")):
        rel = path.relative_to(CORPUS)
        data = path.read_bytes()
        for k in range(first, last + 1):
            if limit is not None and count >= limit:
                return count
            out = dest / rel.parent / f"{rel.stem}-x{k}.md"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(retitled(data, k))
            count += 1
    return count


def copy_imported(content: Path, first: int, last: int) -> int:
    """Copies first..last of the notes `kb import` wrote into ``content`` (names -xK, titles "(copy K)"),
    written there directly and committed at once: a 100,000-note site in minutes, not the hours its
    import takes. The notes kb's import checked (and made drafts of, where personal data was found) are
    the ones copied, so the site holds what an import would have made of the same files."""
    count = 0
    for path in sorted(content.glob("*.md")):
        data = path.read_bytes()
        for k in range(first, last + 1):
            (content / f"{path.stem}-x{k}.md").write_bytes(retitled(data, k))
            count += 1
    subprocess.run(["git", "add", "-A"], cwd=content, check=True, capture_output=True)
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "-m",
                    f"{count} copies"], cwd=content, check=True, capture_output=True)
    return count


def kb(code: Path, root: Path, *args: str, timeout: float = 7200) -> float:
    env = site_env(root, PYTHONPATH=str(code))
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "kb", *args], cwd=code, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit(f"kb {' '.join(args)[:80]} failed: {proc.stderr[-2000:]}")
    return time.perf_counter() - started


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, data, time.perf_counter() - started
    finally:
        conn.close()


def summary(times: list[float]) -> dict:
    return {"n": len(times), "median_ms": round(statistics.median(times) * 1000, 1) if times else None,
            "p95_ms": round(pct(times, 95) * 1000, 1) if times else None}


def search_latency(port: int) -> dict:
    per_class: dict[str, list[float]] = {}
    errors = 0
    for _ in range(2):
        for kind, queries in QUERIES.items():
            for q, extra in queries:
                status, _, elapsed = get(port, "/search?" + urllib.parse.urlencode({"q": q, **extra}))
                if status == 200:
                    per_class.setdefault(kind, []).append(elapsed)
                else:
                    errors += 1
    every = [t for ts in per_class.values() for t in ts]
    return {"all": summary(every), "errors": errors, **{k: summary(v) for k, v in per_class.items()}}


def page_views(port: int, paths: list[str], seconds: float) -> dict:
    first = []
    for path in paths:  # one at a time: each page's first view in this server
        status, _, elapsed = get(port, path)
        if status == 200:
            first.append(elapsed)
    for _ in range(WARM_PASSES):  # each worker keeps its own pages: let both see each page before timing
        for path in paths:
            get(port, path)
    times, errors, wall = timed_views(port, paths, seconds)
    return {"first_views": summary(first), "clients": VIEW_CLIENTS, "per_s": round(len(times) / wall, 1),
            "errors": errors, **summary(times)}


def saves(port: int, token: str, slugs: list[str]) -> dict:
    """SAVES edits through the API, each followed by /api/search until its new word is found."""
    auth = {"Authorization": f"Bearer {token}"}
    save_s, searchable_s, errors = [], [], []
    for i, slug in enumerate(slugs[:SAVES]):
        status, data, _ = request(port, "GET", f"/api/notes/{slug}", headers=auth)
        if status != 200:
            errors.append(f"read {slug}: {status}")
            continue
        note = json.loads(data)
        word = f"scalesave{secrets.token_hex(3)}x{i}"
        body = json.dumps({"base_revision": note["revision"], "message": f"Scale benchmark {word}",
                           "body": note["body"].rstrip("\n") + f"\n\nChecked: {word}.\n"}).encode()
        started = time.perf_counter()
        status, data, elapsed = request(port, "PUT", f"/api/notes/{slug}", body,
                                        {**auth, "Content-Type": "application/json"})
        if status != 200:
            errors.append(f"save {slug}: {status} {data[:200]!r}")
            continue
        save_s.append(elapsed)
        while time.perf_counter() - started < 60:
            _, found, _ = request(port, "GET", "/api/search?" + urllib.parse.urlencode({"q": word}))
            if slug in {h["slug"] for h in json.loads(found).get("hits", [])}:
                break
            time.sleep(0.01)
        searchable_s.append(time.perf_counter() - started)
    return {"save": summary(save_s), "searchable": summary(searchable_s), "errors": errors}


def prepare_accounts(code: Path, root: Path) -> str:
    """An admin with an API token, made with the checkout's own code (its database schema)."""
    script = ("import sys, secrets; from kb.users import UserStore; s = UserStore(sys.argv[1]); s.create_all(); "
              "s.add('scalebench', secrets.token_urlsafe(16), 'admin'); "
              "print(s.create_token('scalebench', 'scale benchmark')[1])")
    env = site_env(root, PYTHONPATH=str(code))
    env["KB_CHECK_INDEX_ON_START"] = "0"
    db = f"sqlite:///{root / 'instance' / 'kb.sqlite'}"
    (root / "instance").mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, "-c", script, db], cwd=code, env=env, capture_output=True, text=True,
                          timeout=300)
    if proc.returncode != 0:
        raise SystemExit(f"accounts: {proc.stderr[-2000:]}")
    return proc.stdout.strip().splitlines()[-1]


def public_notes(content: Path, limit: int, seed: int) -> list[str]:
    names = sorted(p.stem for p in content.glob("*.md"))
    random.Random(seed).shuffle(names)
    out = []
    for name in names:
        raw = (content / f"{name}.md").read_bytes()
        head = raw.split(b"\n---", 2)[0] if raw.startswith(b"---") else b""
        if b"\nvisibility: public" in head + b"\n" and b"\nstatus: draft" not in head and len(raw) < 60_000:
            out.append(name)
            if len(out) == limit:
                break
    return out


def run_size(n: int, args) -> dict:
    code = Path(args.code).resolve()
    with tempfile.TemporaryDirectory(prefix=f"kb-scale-{n}-") as tmp:
        work = Path(tmp)
        site = make_site(work)
        root = site.root
        result: dict = {"copies": n}
        paths = [CORPUS]
        if args.fast_build:  # the corpus imported, then copied inside content/ and committed at once
            log(f"x{n}: importing the corpus, then copying it")
            started = time.perf_counter()
            kb(code, root, "import", str(CORPUS))
            copy_imported(root / "content", 2, n)
            result["build_import_s"] = time.perf_counter() - started
            log(f"x{n}: rebuilding the index of the copies")
            result["rebuild_s"] = round(kb(code, root, "index", "rebuild"), 1)
        else:
            if n > 1:
                copies(work / "copies", 2, n)
                paths.append(work / "copies")
            log(f"x{n}: importing")
            result["build_import_s"] = kb(code, root, "import", *map(str, paths))
        result["notes"] = len(list((root / "content").glob("*.md")))
        token = prepare_accounts(code, root)
        env = site_env(root, PYTHONPATH=str(code), KB_SECRET_KEY=secrets.token_hex(32))
        server = Server(env, cwd=code, log=work / "server.log")
        with server.start(timeout=900):
            result["first_start_s"] = round(server.started_in, 2)
        log(f"x{n}: {result['notes']} notes; first start {result['first_start_s']} s")
        with server.start(timeout=900):
            result["cold_start_s"] = round(server.started_in, 2)
            port = server.port
            log(f"x{n}: cold start {result['cold_start_s']} s; searching")
            result["search"] = search_latency(port)
            pages = public_notes(root / "content", 200, seed=n)
            log(f"x{n}: note pages")
            result["pages"] = page_views(port, [f"/notes/{p}" for p in pages], args.view_seconds)
            result["rss_before_saves"] = memory(server)
            log(f"x{n}: saves")
            result["saves"] = saves(port, token, pages[-SAVES:])
            time.sleep(2)
            result["rss_after_saves"] = memory(server)
        log(f"x{n}: importing {IMPORT_NOTES} more")
        extra = work / "extra"
        copies(extra, n + 1, n + 2, limit=IMPORT_NOTES)
        result["import_1000_s"] = round(kb(code, root, "import", str(extra)), 1)
        if not args.fast_build:  # (the fast build's rebuild, of the whole site, is measured above)
            log(f"x{n}: rebuilding the index")
            result["rebuild_s"] = round(kb(code, root, "index", "rebuild"), 1)
        log(f"x{n}: {json.dumps(result)[:400]}")
        return result


_COMMITS = """
import sys, time
from pathlib import Path
from kb.history import History
repo, files, times = Path(sys.argv[1]), int(sys.argv[2]), []
for i in range(5):
    name = f"note-{i * 997 % files:06d}.md"
    (repo / name).write_text((repo / name).read_text() + f"edit {time.time_ns()}\\n")
    started = time.perf_counter()
    History(repo).commit([name], f"Edit {i}", "bench")
    times.append(time.perf_counter() - started)
print(" ".join(f"{t:.3f}" for t in times))
"""


def git_commits(code: Path, files: int, repo: Path) -> list[float]:
    """History.commit of one changed note (five times) in a flat folder of ``files`` notes, with the git
    calls of ``code``; the folder is made once (git add of all) and reused by the next checkout."""
    if not (repo / ".git").exists():
        repo.mkdir(parents=True)
        for i in range(files):
            (repo / f"note-{i:06d}.md").write_text(f"---\ntitle: Note {i}\n---\nBody of note {i}.\n")
        History(repo).init()
    proc = subprocess.run([sys.executable, "-c", _COMMITS, str(repo), str(files)], cwd=code, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(code)}, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"git commits: {proc.stderr[-2000:]}")
    return [float(t) for t in proc.stdout.split()]


def table(results: list[dict], info: dict, label: str, heads: list[str] | None = None) -> str:
    head = "| | " + " | ".join(heads or [f"{r['notes']:,} notes" for r in results]) + " |"
    rows = [head, "|---" * (len(results) + 1) + "|"]

    def row(name: str, fn) -> None:
        cells = []
        for r in results:
            try:
                cells.append(fn(r))
            except (KeyError, TypeError):
                cells.append("–")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    row("search median / p95, ms (HTML page, facets, snippets)",
        lambda r: f"{r['search']['all']['median_ms']:.0f} / {r['search']['all']['p95_ms']:.0f}")
    for kind in QUERIES:
        row(f"· {kind}: median / p95, ms", lambda r, k=kind: f"{r['search'][k]['median_ms']:.0f} / {r['search'][k]['p95_ms']:.0f}")
    row("note page, first view: median / p95, ms",
        lambda r: f"{r['pages']['first_views']['median_ms']:.0f} / {r['pages']['first_views']['p95_ms']:.0f}")
    row(f"note pages, {VIEW_CLIENTS} clients: requests/s", lambda r: f"{r['pages']['per_s']:.0f}")
    row(f"note pages, {VIEW_CLIENTS} clients: median / p95, ms",
        lambda r: f"{r['pages']['median_ms']:.0f} / {r['pages']['p95_ms']:.0f}")
    row("worker RSS before → after 10 saves, MiB", lambda r: "{} → {}".format(
        max(r["rss_before_saves"]["workers_rss_mib"]), max(r["rss_after_saves"]["workers_rss_mib"])))
    row("· of which the worker's own (anonymous) memory, MiB", lambda r: "{} → {}".format(
        max(r["rss_before_saves"].get("workers_anon_mib") or ["–"]),
        max(r["rss_after_saves"].get("workers_anon_mib") or ["–"])))
    row("save (PUT) median / p95, ms", lambda r: f"{r['saves']['save']['median_ms']:.0f} / {r['saves']['save']['p95_ms']:.0f}")
    row("save to searchable median / p95, ms",
        lambda r: f"{r['saves']['searchable']['median_ms']:.0f} / {r['saves']['searchable']['p95_ms']:.0f}")
    row("first start after the import (full index check), s", lambda r: f"{r['first_start_s']:.1f}")
    row("cold start (launch to first page), s", lambda r: f"{r['cold_start_s']:.1f}")
    row("`kb import` of 1,000 notes into the site, s", lambda r: f"{r['import_1000_s']:.1f}")
    row("`kb index rebuild`, s", lambda r: f"{r['rebuild_s']:.1f}")
    row("building the site (`kb import` of all), s", lambda r: f"{r['build_import_s']:.0f}")
    errors = sum(r["search"]["errors"] + r["pages"]["errors"] + len(r["saves"]["errors"]) for r in results)
    if heads:
        return "\n".join(rows) + "\n"
    return (f"**{label}** ({info['date']}; {info['machine']['nproc']} cores, {info['machine']['cpu']}, "
            f"{info['machine']['ram']}, Python {info['machine']['python']}, Whoosh {info['machine']['whoosh']}; "
            f"load average {info['load_before'][0]:.1f} before, {info['load_after'][0]:.1f} after; "
            f"{errors} errors)\n\n" + "\n".join(rows) + "\n")


def compare(files: list[str]) -> str:
    """One table of several runs (e.g. before and after), their columns side by side per size."""
    runs = [json.loads(Path(f).read_text(encoding="utf-8")) for f in files]
    cols, heads, lines = [], [], []
    for run in runs:
        info = run["info"]
        label = info.get("label") or Path(info.get("code", "")).name
        lines.append(f"- {label}: {info['date']}, load average {info['load_before'][0]:.1f} before, "
                     f"{info['load_after'][0]:.1f} after")
    for i in range(max(len(run["results"]) for run in runs)):
        for run in runs:
            if i < len(run["results"]):
                cols.append(run["results"][i])
                heads.append(f"{run['results'][i]['notes']:,}: {run['info'].get('label') or Path(run['info']['code']).name}")
    return "\n".join(lines) + "\n\n" + table(cols, runs[-1]["info"], "", heads)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,10", help="copies of the corpus per site (1 = 743 notes)")
    parser.add_argument("--huge", action="store_true", help="add a site of about 100,000 notes (135 copies)")
    parser.add_argument("--view-seconds", type=float, default=20.0)
    parser.add_argument("--code", default=str(ROOT), help="the kb checkout to serve and run")
    parser.add_argument("--label", default="")
    parser.add_argument("--fast-build", action="store_true",
                        help="build each site by importing the corpus once and copying it inside content/ (one "
                             "commit), then `kb index rebuild` (measured as the rebuild): for --huge")
    parser.add_argument("--git-files", type=int, default=0,
                        help="only time a save's git commit in a flat folder of this many notes, per --code")
    parser.add_argument("--compare", default="", help="only print one table of these raw files (comma-separated)")
    args = parser.parse_args(argv)
    if args.compare:
        print(compare(args.compare.split(",")))
        return 0
    if args.git_files:
        with tempfile.TemporaryDirectory(prefix="kb-scale-git-") as tmp:
            for code in args.code.split(","):
                times = git_commits(Path(code).resolve(), args.git_files, Path(tmp) / "repo")
                print(f"{code}: commit of one note among {args.git_files:,}: median {statistics.median(times):.2f} s "
                      f"(each: {', '.join(f'{t:.2f}' for t in times)})")
        return 0
    if not CORPUS.is_dir():
        raise SystemExit(f"the shared corpus is not at {CORPUS}")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()] + ([135] if args.huge else [])
    info = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(),
            "load_before": os.getloadavg(), "code": args.code, "label": args.label}
    results = [run_size(n, args) for n in sizes]
    info["load_after"] = os.getloadavg()
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"scale-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"info": info, "results": results}, indent=1, default=str), encoding="utf-8")
    print(table(results, info, args.label or f"kb at {args.code}"))
    log(f"raw numbers: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
