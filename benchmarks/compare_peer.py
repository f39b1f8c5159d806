"""kb beside An Otter Wiki (its nearest peer), the same pages in both, both served by gunicorn on loopback.

    .venv/bin/python benchmarks/compare_peer.py [--scales 1,10] [--view-seconds 10] [--search-budget 90]

Installs the `otterwiki` package (with gunicorn) into its own virtual environment, benchmarks/out/otterwiki-venv
(git-ignored; made once, reused). Then, per scale (1: the shared corpus, 743 pages; 10: the corpus and nine
copies, 7,430 pages), in a temporary folder: kb gets the pages with `kb import`; Otter Wiki gets the same
pages as files in its git repository (each note's body under a "# title" line, no front matter, same names);
each wiki is started with gunicorn (2 workers) on a free 127.0.0.1 port and measured in turn, the other
stopped:

- cold start: launch to the first 200 on the home page (kb checks its index against content/ meanwhile);
- search: the same plain-word queries through each wiki's HTML search page, one at a time: median and p95
  (Otter Wiki scans every file per query, so its queries run within --search-budget seconds and the count
  done is reported);
- page views: 4 concurrent clients for --view-seconds on random pages: requests per second and median;
- page weight: HTML bytes of the sample pages (median), and one page with its stylesheets and scripts;
- memory: resident set size (RSS, /proc) of each worker and of the master after the views.

Prints a Markdown table per scale and writes the raw numbers to benchmarks/out/peer-<timestamp>.json.
Loopback only; every loop is bounded in time and count.
"""
from __future__ import annotations

import argparse
import http.client
import json
import random
import re
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

from search_bench import CORPUS, OUT, log, machine, make_site, pct, sources  # noqa: E402

from kb.model import parse_note  # noqa: E402
from kb.taxonomy import Taxonomy  # noqa: E402
from tests.liveserver import Server, rss_kib, site_env  # noqa: E402

OTTER_VENV = ROOT / "benchmarks" / "out" / "otterwiki-venv"
OTTER_REQUIREMENTS = ["otterwiki>=2.20,<3", "gunicorn>=22,<24"]  # the gunicorn kb runs on
# Plain words and two-word searches, English, French and Arabic, typed the same into both wikis.
QUERIES = ["trafficking", "vaccination", "refugees", "asylum", "volunteers", "epidemie", "maladie", "protection",
           "child protection", "mental health", "hand washing", "code of conduct", "lavage des mains",
           "open source", "Secretary of State", "المساعدة", "مشروع", "rumours", "safeguarding", "consent"]
VIEW_CLIENTS = 4
TIMEOUT = 120.0


def otter_python() -> Path:
    """The peer's own virtual environment, made on first use."""
    python = OTTER_VENV / "bin" / "python"
    marker = OTTER_VENV / ".kb-requirements"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(OTTER_VENV)], check=True)
    if not marker.exists() or marker.read_text() != " ".join(OTTER_REQUIREMENTS):
        log(f"installing {' '.join(OTTER_REQUIREMENTS)} into {OTTER_VENV}")
        subprocess.run([str(python), "-m", "pip", "install", "-q", *OTTER_REQUIREMENTS], check=True)
        marker.write_text(" ".join(OTTER_REQUIREMENTS))
    return python


def otter_version(python: Path) -> str:
    return subprocess.run([str(python), "-c", "import otterwiki.version as v; print(v.__version__)"],
                          capture_output=True, text=True).stdout.strip()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


# --- the sites ------------------------------------------------------------------------------------------

def kb_import(root: Path, paths: list[Path]) -> float:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "kb", "import", *map(str, paths)], cwd=ROOT,
                          env=site_env(root), capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise SystemExit(f"kb import failed: {proc.stderr[-2000:]}")
    return time.perf_counter() - started


def otter_pages(kb_content: Path, repo: Path) -> list[str]:
    """Write every kb note as an Otter Wiki page of the same name (title line + body), commit; return all the
    names, and those of the public, published notes (the pages views and weights are measured on)."""
    tax = Taxonomy.load(kb_content / "taxonomy.yml")
    repo.mkdir(parents=True, exist_ok=True)
    if not (repo / ".git").exists():
        git(repo, "init", "-q", "-b", "main")
        git(repo, "config", "user.name", "bench")
        git(repo, "config", "user.email", "bench@localhost")
    (repo / "home.md").write_text("# Practice notes\n\nThe same pages as kb's.\n", encoding="utf-8")  # "/"
    names, public = [], []
    for path in sorted(kb_content.glob("*.md")):
        slug = path.stem
        note = parse_note(slug, path.read_text(encoding="utf-8"), tax)
        names.append(slug)
        if note.meta.visibility == "public" and note.meta.status == "published":
            public.append(slug)  # what an anonymous reader may open in kb too
        page = repo / f"{slug}.md"
        if not page.exists():
            page.write_text(f"# {note.meta.title}\n\n{note.body}", encoding="utf-8")
    git(repo, "add", "-A")
    if git(repo, "status", "--porcelain").strip():
        git(repo, "commit", "-q", "-m", f"{len(names)} pages")
    return names, public


def otter_env(work: Path, repo: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(work), "REPOSITORY": str(repo),
            "SECRET_KEY": secrets.token_hex(32), "SITE_NAME": "Otter", "LOG_LEVEL": "WARNING",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'otter.sqlite'}", "READ_ACCESS": "ANONYMOUS"}


# --- measurements ---------------------------------------------------------------------------------------

def get(port: int, path: str) -> tuple[int, bytes, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    started = time.perf_counter()
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, body, time.perf_counter() - started
    finally:
        conn.close()


def search_latency(port: int, path_for, budget: float, reps: int) -> dict:
    times, errors = [], 0
    deadline = time.monotonic() + budget
    done = 0
    for _ in range(reps):
        for q in QUERIES:
            if time.monotonic() >= deadline:
                break
            try:
                status, _, elapsed = get(port, path_for(q))
            except (OSError, http.client.HTTPException) as exc:
                log(f"search {q!r}: {exc!r}")
                status, elapsed = 0, 0.0
            done += 1
            if status == 200:
                times.append(elapsed)
            else:
                errors += 1
    out = {"queries": done, "of": reps * len(QUERIES), "errors": errors}
    if times:
        out.update(median_ms=statistics.median(times) * 1000, p95_ms=pct(times, 95) * 1000,
                   max_ms=max(times) * 1000)
    return out


def timed_views(port: int, paths: list[str], seconds: float) -> tuple[list[float], int, float]:
    """VIEW_CLIENTS clients asking for random pages for ``seconds``: (times of the 200s, errors, wall time)."""
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(n)
        for _ in range(100_000):
            if time.monotonic() >= stop_at:
                return
            try:
                status, _, elapsed = get(port, rng.choice(paths))
            except OSError:
                status, elapsed = 0, 0.0
            with lock:
                if status == 200:
                    times.append(elapsed)
                else:
                    errors[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(VIEW_CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + TIMEOUT)
    wall = time.perf_counter() - started
    return times, errors[0], wall


def view_throughput(port: int, paths: list[str], seconds: float) -> dict:
    times, errors, wall = timed_views(port, paths, seconds)
    return {"requests": len(times), "per_s": len(times) / wall, "errors": errors,
            "median_ms": statistics.median(times) * 1000 if times else None}


_ASSET_RE = re.compile(r'<(?:link[^>]+rel="?stylesheet"?[^>]*href|script[^>]+src)="([^"]+)"', re.I)


def page_weight(port: int, paths: list[str], typical: str) -> dict:
    """HTML sizes of the sample pages, and the typical page with the stylesheets and scripts it loads."""
    sizes = []
    for path in paths:
        status, body, _ = get(port, path)
        if status == 200:
            sizes.append(len(body))
    status, body, _ = get(port, typical)
    assets = 0
    for ref in sorted(set(_ASSET_RE.findall(body.decode("utf-8", "replace")))):
        if ref.startswith(("http:", "https:", "//")):
            continue
        a_status, a_body, _ = get(port, urllib.parse.urljoin(typical, ref))
        if a_status == 200:
            assets += len(a_body)
    return {"html_median_bytes": statistics.median(sizes) if sizes else None, "pages": len(sizes),
            "typical_page": typical, "typical_html_bytes": len(body), "typical_assets_bytes": assets,
            "typical_total_bytes": len(body) + assets}


def memory(server: Server) -> dict:
    workers = [rss_kib(pid) for pid in server.worker_pids()]
    private = [_rollup_kib(pid, "Anonymous") for pid in server.worker_pids()]
    return {"workers_rss_mib": [round(w / 1024, 1) for w in workers],
            "worker_mean_rss_mib": round(sum(workers) / len(workers) / 1024, 1) if workers else None,
            # RSS counts the pages of the mapped index files a worker touched, which the workers and the page
            # cache share; its own (anonymous) memory is the part that grows with each worker
            "workers_anon_mib": [round(w / 1024, 1) for w in private],
            "master_rss_mib": round(rss_kib(server.proc.pid) / 1024, 1) if server.proc else None}


def _rollup_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(name: str, server: Server, search_path, page_path, pages: list[str], typical: str, args) -> dict:
    with server.start(timeout=180):
        log(f"{name}: ready in {server.started_in:.1f} s; searching")
        result = {"cold_start_s": server.started_in}
        result["search"] = search_latency(server.port, search_path, args.search_budget, args.search_reps)
        rng = random.Random(7)
        sample = [page_path(p) for p in rng.sample(pages, min(len(pages), 200))]
        log(f"{name}: page views for {args.view_seconds:.0f} s")
        get(server.port, sample[0])  # warm both workers a little before timing
        result["views"] = view_throughput(server.port, sample, args.view_seconds)
        result["weight"] = page_weight(server.port, sample[:30], page_path(typical))
        result["memory"] = memory(server)
    return result


def kb_search(q: str) -> str:
    return "/search?" + urllib.parse.urlencode({"q": q})


def otter_search(q: str) -> str:
    return "/-/search/" + urllib.parse.quote(q, safe="")


# --- report ---------------------------------------------------------------------------------------------

def table(scale_result: dict) -> str:
    kb, ot = scale_result["kb"], scale_result["otterwiki"]

    def f(v, fmt="{:.0f}"):
        return "—" if v is None else fmt.format(v)

    def searched(r):
        s = r["search"]
        return f"{f(s.get('median_ms'))} / {f(s.get('p95_ms'))}" + (
            f" ({s['queries']} of {s['of']} in budget)" if s["queries"] < s["of"] else "")

    rows = [
        ("Cold start (launch to first page), s", f(kb["cold_start_s"], "{:.1f}"), f(ot["cold_start_s"], "{:.1f}")),
        ("Search median / p95, ms", searched(kb), searched(ot)),
        ("Search errors", str(kb["search"]["errors"]), str(ot["search"]["errors"])),
        (f"Page views, {VIEW_CLIENTS} clients: requests/s", f(kb["views"]["per_s"], "{:.1f}"),
         f(ot["views"]["per_s"], "{:.1f}")),
        ("Page view median, ms", f(kb["views"]["median_ms"]), f(ot["views"]["median_ms"])),
        ("Page view errors", str(kb["views"]["errors"]), str(ot["views"]["errors"])),
        ("Page HTML median, kB", f(kb["weight"]["html_median_bytes"] / 1024, "{:.1f}"),
         f(ot["weight"]["html_median_bytes"] / 1024, "{:.1f}")),
        ("Typical page (median-size note) with its CSS and JS, kB",
         f(kb["weight"]["typical_total_bytes"] / 1024, "{:.1f}"),
         f(ot["weight"]["typical_total_bytes"] / 1024, "{:.1f}")),
        ("Memory per worker (RSS), MiB", f(kb["memory"]["worker_mean_rss_mib"], "{:.1f}"),
         f(ot["memory"]["worker_mean_rss_mib"], "{:.1f}")),
    ]
    lines = [f"**{scale_result['pages']} pages** (views and weights on the {scale_result['public_pages']} "
             "public ones)", "", "| | kb | An Otter Wiki |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="1,10", help="comma-separated corpus multiples, e.g. 1,10")
    parser.add_argument("--view-seconds", type=float, default=10.0)
    parser.add_argument("--search-budget", type=float, default=90.0, help="seconds of searching per wiki and scale")
    parser.add_argument("--search-reps", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    scales = sorted({max(1, min(int(s), 20)) for s in args.scales.split(",")})
    args.view_seconds = max(1.0, min(args.view_seconds, 120.0))
    args.search_budget = max(5.0, min(args.search_budget, 900.0))
    python = otter_python()
    info = machine()
    info["otterwiki"] = otter_version(python)
    work = Path(tempfile.mkdtemp(prefix="kb-peer-"))
    results = []
    try:
        site = make_site(work)
        repo = work / "otter-repo"
        for scale in scales:  # a larger scale adds copies to the same sites (kb import is idempotent)
            log(f"scale {scale}: importing into kb")
            kb_s = kb_import(site.root, sources(work / f"copies-{scale}", CORPUS, scale))
            pages, public = otter_pages(site.root / "content", repo)
            by_size = sorted(public, key=lambda p: (site.root / "content" / f"{p}.md").stat().st_size)
            typical = by_size[len(by_size) // 2]
            log(f"scale {scale}: {len(pages)} pages in both (kb import {kb_s:.0f} s)")
            kb_server = Server(site_env(site.root), workers=2, log=work / "kb.log")
            kb_result = measure("kb", kb_server, kb_search, lambda p: f"/notes/{p}", public, typical, args)
            otter_server = Server(otter_env(work, repo), app="otterwiki.server:app", workers=2, python=str(python),
                                  cwd=work, log=work / "otter.log")
            ot_result = measure("otterwiki", otter_server, otter_search, lambda p: f"/{p}", public, typical, args)
            results.append({"scale": scale, "pages": len(pages), "public_pages": len(public), "kb_import_s": kb_s,
                            "kb": kb_result, "otterwiki": ot_result})
            print(table(results[-1]), "\n", flush=True)
        out = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": info, "args": vars(args), "queries": QUERIES,
               "results": results}
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"peer-{time.strftime('%Y%m%d-%H%M%S')}.json"
        path.write_text(json.dumps(out, indent=1, default=str), encoding="utf-8")
        log(f"raw numbers in {path}")
        return 0
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
