"""Search benchmark: the shared corpus (and an N-times copy) through kb's real import, index and web paths.

    .venv/bin/python benchmarks/search_bench.py              # 743 notes, then the corpus x10
    .venv/bin/python benchmarks/search_bench.py --scale 5    # 743, then x5
    .venv/bin/python benchmarks/search_bench.py --quick      # 743 only, fewer repetitions (< 3 min)

Per scale, in a temporary folder (removed afterwards unless --keep): a content repository with the shipped
taxonomy, the notes imported with ``Wiki.import_paths`` (what ``kb import`` calls; copies get the file-name
suffixes -x2 … -xN, front matter kept), then: a full rebuild, the index size, the app start (drift check),
search latency through the Flask test client (``/api/search`` and ``/search``, anonymous and as a signed-in
focal point; facets and snippets are always computed), pathological queries, save-to-searchable latency
(``Wiki.save`` then ``/api/search`` until the new word is found), the same queries on SQLite FTS5 over the
same plain text, and known-item quality (title words and a distinctive 6-word body sentence, accents and
diacritics stripped). Prints Markdown tables; writes the raw numbers to benchmarks/out/ as JSON.
"""
from __future__ import annotations

import argparse
import bisect
import datetime as dt
import gc
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb import create_app  # noqa: E402
from kb.history import History  # noqa: E402
from kb.search import SearchQuery, textnorm  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "notes"
OUT = ROOT / "benchmarks" / "out"
PASSWORD = "benchmark password 2026"
FOCAL_REGIONS = ["North Africa", "Sahel"]
ADMIN = SimpleNamespace(is_authenticated=True, active=True, username="bench", role="admin", regions=[])

# One list per class; each query is (q, extra parameters). Filters use the facet parameters of the API.
QUERIES: dict[str, list[tuple[str, dict]]] = {
    "one word": [("trafficking", {}), ("vaccination", {}), ("refugees", {}), ("asylum", {}),
                 ("volunteers", {}), ("epidemie", {}), ("maladie", {}), ("securite", {}),
                 ("المساعدة", {}), ("مشروع", {})],
    "two words": [("child protection", {}), ("mental health", {}), ("foreign assistance", {}),
                  ("victims trafficking", {}), ("lavage mains", {}), ("malades epidemie", {}),
                  ("hand washing", {}), ("code conduct", {}), ("مشروع مفتوح", {}), ("المجتمع المساهمين", {})],
    "phrase": [('"child protection"', {}), ('"refugee status"', {}), ('"lavage des mains"', {}),
               ('"open source"', {}), ('"Secretary of State"', {}), ('"agents de sante"', {}),
               ('"المصدر المفتوح"', {})],
    "prefix": [("vaccin*", {}), ("protec*", {}), ("traff*", {}), ("réfug*", {}), ("epidem*", {}),
               ("volunt*", {}), ("مشرو*", {})],
    "filtered": [("trafficking", {"region": "North Africa"}),
                 ("health", {"topic": "child-protection", "lang": "en"}),
                 ("maladie", {"lang": "fr"}),
                 ("protection", {"region": "Sahel", "topic": "specialized-protection"}),
                 ("asylum", {"country": "Sudan"}),
                 ("", {"region": "Middle East"}),
                 ("children", {"since": "2020-01-01", "sort": "newest"})],
}
PATHOLOGICAL = [
    "*", "**", "a*", "*a*", "?", "[a TO z]", "{a TO z}", "word~5", "title:foo", "a" * 10_000, "x " * 5000,
    "(" * 1000 + "a" + ")" * 1000, "(((a OR b) AND (c", '"unbalanced', ")))",
    " ".join(f"w{i}" for i in range(500)), " OR ".join(f"w{i}" for i in range(2000)),
    "\x00\x01\x02\x1b[2J\x7f", "a\u200b\u202eb", "protection حماية réintégration 保护 защита", "OR OR AND NOT",
    "- - -", "pro*tect*", "the of and a", "' OR 1=1 --", "<script>alert(1)</script>",
    " ".join(["the"] * 40), "sta* sec* pro* con* int* ass* app* rep* per*",
    '"' + " ".join(["section"] * 30) + '"',
]


# --- small helpers ---------------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}" if seconds >= 0.0095 else f"{seconds * 1000:.1f}"


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def strip_marks(text: str) -> str:
    """What a reader types without accents or diacritics: combining marks and tatweel removed."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn" and ch != "\u0640")
    return unicodedata.normalize("NFC", kept)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class LoadSampler(threading.Thread):
    """The 1-minute load average every few seconds: other work on the machine shows in the timings."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(5.0):
            self.samples.append(os.getloadavg()[0])


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        kb = int(next(line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    import whoosh
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram": mem, "python": platform.python_version(),
            "whoosh": whoosh.versionstring(),
            "sqlite": sqlite3.sqlite_version, "load_before": os.getloadavg()}


# --- the site -----------------------------------------------------------------------------------------------

def sources(work: Path, corpus: Path, scale: int) -> list[Path]:
    """The corpus, plus (scale - 1) copies with -x2 … -xN before .md (same folders, front matter kept)."""
    if scale <= 1:
        return [corpus]
    copies = work / "copies"
    for path in sorted(corpus.rglob("*.md")):
        rel = path.relative_to(corpus)
        data = path.read_bytes()
        for k in range(2, scale + 1):
            dest = copies / rel.parent / f"{rel.stem}-x{k}.md"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
    return [corpus, copies]


def original_slug(slug: str) -> str:
    return re.sub(r"-x\d+$", "", slug)


@dataclass
class Site:
    root: Path
    config: dict
    app: object = None
    wiki: object = None
    clients: dict = field(default_factory=dict)


def make_site(work: Path) -> Site:
    root = work / "site"
    content = root / "content"
    content.mkdir(parents=True)
    shutil.copy(ROOT / "content" / "taxonomy.yml", content / "taxonomy.yml")
    if (ROOT / "content" / "glossary.yml").exists():  # queries expand across languages, as in the app
        shutil.copy(ROOT / "content" / "glossary.yml", content / "glossary.yml")
    History(content).init()
    config = {"KB_CONTENT_DIR": str(content), "KB_INDEX_DIR": str(root / "index"),
              "KB_INSTANCE_DIR": str(root / "instance"), "TESTING": True}
    return Site(root, config)


def sign_in(app, username: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    resp = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)})
    assert resp.status_code == 302, resp.status_code
    return client


def start_app(site: Site, results: dict) -> None:
    started = time.perf_counter()
    site.app = create_app(site.config)
    results["app_start_s"] = time.perf_counter() - started
    site.wiki = site.app.extensions["kb.wiki"]
    users = site.app.extensions["kb.users"]
    if users.by_username("focal") is None:
        users.add("focal", PASSWORD, "focal_point", regions=FOCAL_REGIONS)
    site.clients = {"anonymous": site.app.test_client(), "focal point": sign_in(site.app, "focal")}


def stop_app(site: Site) -> None:
    if site.app is not None:
        site.wiki.close()
        site.app.extensions["kb.users"].dispose()
        site.app = site.wiki = None


# --- measurements -----------------------------------------------------------------------------------------

def get(client, path: str, params: dict, cpu: list | None = None) -> tuple[float, object]:
    """Wall time of one request (and its CPU time appended to ``cpu``: the test client runs in-process)."""
    started, started_cpu = time.perf_counter(), time.process_time()
    resp = client.get(path, query_string=params)
    elapsed = time.perf_counter() - started
    if cpu is not None:
        cpu.append(time.process_time() - started_cpu)
    if resp.status_code != 200:
        raise RuntimeError(f"{path} {params!r:.80} answered {resp.status_code}")
    return elapsed, resp


def search_latency(site: Site, reps: int) -> dict:
    """Per class, endpoint and user: every request's time (warm: each query is run once before timing)."""
    out: dict = {"first_request_s": None, "classes": {}, "cpu": {}, "totals": {}}
    first = True
    for cls, queries in QUERIES.items():
        for q, extra in queries:
            elapsed, resp = get(site.clients["anonymous"], "/api/search", {"q": q, **extra})
            if first:
                out["first_request_s"], first = elapsed, False
            data = resp.get_json()
            out["totals"][f"{cls}: {q} {extra or ''}".strip()] = data["total"]
            get(site.clients["focal point"], "/search", {"q": q, **extra})
    for cls, queries in QUERIES.items():
        cell: dict[str, list[float]] = {}
        cpu: list[float] = []
        for _ in range(reps):
            for user, client in site.clients.items():
                for path in ("/api/search", "/search"):
                    times = cell.setdefault(f"{path} {user}", [])
                    for q, extra in queries:
                        times.append(get(client, path, {"q": q, **extra}, cpu)[0])
        out["classes"][cls] = cell
        out["cpu"][cls] = cpu
    return out


def pathological(site: Site) -> dict:
    worst: dict[str, float] = {}
    for q in PATHOLOGICAL:
        for path in ("/api/search", "/search"):
            elapsed, _ = get(site.clients["anonymous"], path, {"q": q})
            key = repr(q[:40]) + ("…" if len(q) > 40 else "")
            worst[key] = max(worst.get(key, 0.0), elapsed)
    return worst


def save_latency(site: Site, count: int, seed: int) -> dict:
    """Wiki.save of a public note with a new word, then /api/search (anonymous) until it is found."""
    wiki, client = site.wiki, site.clients["anonymous"]
    rng = random.Random(seed)
    slugs = wiki.store.slugs()
    rng.shuffle(slugs)
    notes = []
    for slug in slugs:  # public, published, not huge (parsing all 7,430 would take longer than the saves)
        raw = wiki.store.read_bytes(slug)
        if len(raw) < 20_000 and b"\nvisibility: public\n" in raw and (note := wiki._load_any(slug)) \
                and note.meta.status == "published":
            notes.append(note)
            if len(notes) == count:
                break
    total, saving, searching, attempts = [], [], [], []
    for i, note in enumerate(notes):
        slug = note.slug
        word = f"benchsave{seed}x{i:03d}"
        base = wiki.revision_of(slug)
        started = time.perf_counter()
        wiki.save(ADMIN, slug, note.meta, note.body + f"\n\nAdded for the benchmark: {word}.\n", base)
        saved = time.perf_counter()
        tries = 0
        while True:
            tries += 1
            hits = client.get("/api/search", query_string={"q": word}).get_json()["hits"]
            if any(h["slug"] == slug for h in hits) or time.perf_counter() - started > 30:
                break
            time.sleep(0.005)
        done = time.perf_counter()
        total.append(done - started)
        saving.append(saved - started)
        searching.append(done - saved)
        attempts.append(tries)
    wiki.index.flush(timeout=10)
    return {"total": total, "save": saving, "search": searching, "attempts": attempts}


# --- SQLite FTS5 reference --------------------------------------------------------------------------------

def fts_build(docs: list, path: Path) -> tuple[sqlite3.Connection, float]:
    started = time.perf_counter()
    db = sqlite3.connect(str(path))
    db.executescript("""
        CREATE VIRTUAL TABLE fts USING fts5(title, summary, body,
            tokenize = 'unicode61 remove_diacritics 2');
        CREATE TABLE doc(id INTEGER PRIMARY KEY, slug TEXT, language TEXT, updated INTEGER,
            visibility TEXT, status TEXT, title TEXT, summary TEXT);
        CREATE TABLE facet(doc INTEGER, name TEXT, value TEXT);
    """)
    for i, d in enumerate(docs, 1):
        db.execute("INSERT INTO fts(rowid, title, summary, body) VALUES (?, ?, ?, ?)",
                   (i, d.title, d.summary, d.text[:500_000]))
        db.execute("INSERT INTO doc VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (i, d.slug, d.language, int(d.updated.timestamp()), d.visibility, d.status, d.title,
                    d.summary))
        rows = [(i, "regions", v) for v in d.places] + [(i, "topics", v) for v in d.topics] + \
            [(i, "audience", v) for v in d.audience] + [(i, "language", d.language)] + \
            [(i, "countries", v) for v in d.places]
        db.executemany("INSERT INTO facet VALUES (?, ?, ?)", rows)
    db.executescript("CREATE INDEX facet_doc ON facet(doc); CREATE INDEX facet_nv ON facet(name, value, doc);"
                     "INSERT INTO fts(fts) VALUES ('optimize');")
    db.commit()
    return db, time.perf_counter() - started


def fts_match(q: str) -> str | None:
    """The kb query written for FTS5: quoted words (AND), "phrases", prefix*."""
    parts = []
    for m in re.finditer(r'"([^"]*)"|(\S+)', q):
        if m.group(1) is not None:
            words = textnorm.WORD_RE.findall(m.group(1))
            if words:
                parts.append('"' + " ".join(words) + '"')
        else:
            token = m.group(2)
            star = token.endswith("*")
            words = textnorm.WORD_RE.findall(token)
            parts += [f'"{w}"' for w in words[:-1]]
            if words:
                parts.append(f'"{words[-1]}"' + ("*" if star else ""))
    return " ".join(parts) or None


def fts_search(db: sqlite3.Connection, q: str, extra: dict) -> tuple[int, list, dict]:
    """Top 20 by bm25 (title 3, summary 2, body 1) with snippets, the total and the facet counts, as the
    anonymous reader (public, published)."""
    match = fts_match(q)
    where, args = ["doc.visibility = 'public'", "doc.status = 'published'"], []
    names = {"region": "regions", "country": "countries", "topic": "topics", "audience": "audience",
             "lang": "language"}
    for param, name in names.items():
        if param in extra:
            where.append("doc.id IN (SELECT doc FROM facet WHERE name = ? AND value = ?)")
            args += [name, extra[param]]
    if "since" in extra:
        where.append("doc.updated >= ?")
        args.append(int(dt.datetime.fromisoformat(extra["since"]).replace(tzinfo=dt.timezone.utc).timestamp()))
    cond = " AND ".join(where)
    if match:
        base = f"SELECT fts.rowid AS id FROM fts JOIN doc ON doc.id = fts.rowid WHERE fts MATCH ? AND {cond}"
        base_args = [match, *args]
        order = "ORDER BY bm25(fts, 3.0, 2.0, 1.0)" if extra.get("sort") != "newest" else "ORDER BY doc.updated DESC"
        top = db.execute(
            "SELECT doc.slug, doc.title, snippet(fts, 2, '<mark>', '</mark>', '…', 24) FROM fts "
            f"JOIN doc ON doc.id = fts.rowid WHERE fts MATCH ? AND {cond} {order} LIMIT 20", base_args).fetchall()
    else:
        base, base_args = f"SELECT doc.id AS id FROM doc WHERE {cond}", args
        top = db.execute(f"SELECT slug, title, summary FROM doc WHERE {cond} ORDER BY updated DESC LIMIT 20",
                         args).fetchall()
    total = db.execute(f"SELECT count(*) FROM ({base})", base_args).fetchone()[0]
    facets: dict = {}
    for name, value, n in db.execute(
            f"SELECT name, value, count(*) FROM facet WHERE name != 'countries' AND doc IN ({base}) "
            "GROUP BY name, value", base_args):
        facets.setdefault(name, {})[value] = n
    return total, top, facets


def fts_latency(db: sqlite3.Connection, reps: int) -> dict:
    out: dict = {}
    for cls, queries in QUERIES.items():
        for q, extra in queries:
            fts_search(db, q, extra)
        times = []
        for _ in range(reps):
            for q, extra in queries:
                started = time.perf_counter()
                fts_search(db, q, extra)
                times.append(time.perf_counter() - started)
        out[cls] = times
    return out


# --- known-item quality ------------------------------------------------------------------------------------

_SENTENCE_RE = re.compile(r"(?<=[.!?؟])\s+|\n")


def known_items(docs: list, per_language: int, seed: int) -> list[dict]:
    """Per sampled note: a title query and a distinctive 6-word window of one body sentence, stripped of
    accents and diacritics. 'Distinctive': the six words (folded) occur together in no other note of the
    original corpus, and at least three of them are not stop words."""
    rng = random.Random(seed)
    originals = [d for d in docs if original_slug(d.slug) == d.slug]
    texts, starts, pos = [], [], 0
    for d in originals:
        text = " " + " ".join(textnorm.fold(w) for w in textnorm.words(d.text)) + " \n"
        starts.append(pos)
        texts.append(text)
        pos += len(text)
    big = "".join(texts)

    def owners(key: str) -> set[str]:
        found, at = set(), big.find(key)
        while at >= 0 and len(found) < 2:
            found.add(originals[bisect.bisect_right(starts, at) - 1].slug)
            at = big.find(key, at + 1)
        return found
    cases = []
    for lang in ("en", "fr", "ar"):
        pool = [d for d in originals if d.language == lang]
        rng.shuffle(pool)
        for d in pool[:per_language]:
            case = {"slug": d.slug, "language": lang, "title": strip_marks(d.title), "sentence": None}
            windows = []
            for sentence in _SENTENCE_RE.split(d.text):
                words = textnorm.WORD_RE.findall(sentence)
                for i in range(0, max(0, len(words) - 5)):
                    window = words[i:i + 6]
                    if sum(not textnorm.is_stopword(textnorm.normalize_word(w)) for w in window) >= 3 \
                            and not any(w.isdigit() for w in window):
                        windows.append(window)
            rng.shuffle(windows)
            for window in windows[:40]:
                key = " " + " ".join(textnorm.fold(w) for w in textnorm.words(" ".join(window))) + " "
                if owners(key) == {d.slug}:
                    case["sentence"] = strip_marks(" ".join(window))
                    break
            cases.append(case)
    return cases


def known_item_quality(index, cases: list[dict]) -> dict:
    """Top-1 / top-3 rates per language and query kind. At larger scales the copies of one note are
    identical and would fill the top 3 in turn, so ranks count distinct notes (a copy counts as the note)."""
    out: dict = {}
    for case in cases:
        for kind in ("title", "sentence"):
            q = case[kind]
            if not q:
                continue
            results = index.search(SearchQuery(q=q, per_page=40), None)
            found = list(dict.fromkeys(original_slug(h.slug) for h in results.hits))[:3]
            cell = out.setdefault(f"{case['language']} {kind}", {"n": 0, "top1": 0, "top3": 0, "misses": []})
            cell["n"] += 1
            cell["top1"] += found[:1] == [case["slug"]]
            cell["top3"] += case["slug"] in found
            if case["slug"] not in found and len(cell["misses"]) < 5:
                cell["misses"].append({"q": q[:80], "want": case["slug"], "got": found})
    return out


# --- one scale ----------------------------------------------------------------------------------------------

def run_scale(scale: int, args) -> dict:
    results: dict = {"scale": scale}
    work = Path(tempfile.mkdtemp(prefix=f"kb-bench-{scale}x-", dir=args.workdir))
    site = make_site(work)
    try:
        log(f"scale {scale}: preparing sources in {work}")
        paths = sources(work, args.corpus, scale)

        from kb.wiki import Wiki
        wiki = Wiki(site.config["KB_CONTENT_DIR"], site.config["KB_INDEX_DIR"])
        started = time.perf_counter()
        report = wiki.import_paths(paths, author="bench")
        results["import_s"] = time.perf_counter() - started
        results["notes"] = len(report.added)
        results["import_errors"] = report.errors[:5]
        log(f"imported {len(report.added)} notes in {results['import_s']:.1f} s")

        gc.collect()
        started, started_cpu = time.perf_counter(), time.process_time()
        count, errors = wiki.rebuild_index()
        results["rebuild_s"] = time.perf_counter() - started
        results["rebuild_cpu_s"] = time.process_time() - started_cpu
        results["rebuild_load"] = os.getloadavg()[0]
        results["rebuild_docs"] = count
        results["index_bytes"] = dir_size(Path(site.config["KB_INDEX_DIR"]))
        results["content_bytes"] = sum(p.stat().st_size for p in Path(site.config["KB_CONTENT_DIR"]).glob("*.md"))
        log(f"rebuilt {count} notes in {results['rebuild_s']:.1f} s")

        # the documents alone (YAML, Markdown to text, git dates): the part of a rebuild before whoosh
        started = time.perf_counter()
        dates = wiki.history.last_changes()
        docs = [wiki.indexer.doc_for(s, dates) for s in wiki.store.slugs()]
        results["documents_s"] = time.perf_counter() - started
        wiki.close()

        start_app(site, results)
        log(f"app started in {results['app_start_s']:.2f} s; measuring searches")
        results["search"] = search_latency(site, args.reps)
        results["pathological"] = pathological(site)
        log("saves")
        results["saves"] = save_latency(site, args.saves, args.seed)

        log("known items")
        cases = known_items(docs, args.known, args.seed)
        results["known_items"] = known_item_quality(site.wiki.index, cases)
        stop_app(site)

        log("SQLite FTS5")
        db, build_s = fts_build(docs, work / "fts.sqlite")
        results["fts_build_s"] = build_s
        results["fts_bytes"] = (work / "fts.sqlite").stat().st_size
        results["fts"] = fts_latency(db, args.reps)
        db.close()
    finally:
        stop_app(site)
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return results


# --- report -------------------------------------------------------------------------------------------------

def summarise(r: dict) -> dict:
    s = {"notes": r["notes"], "rebuild_s": r["rebuild_s"], "docs_per_s": r["rebuild_docs"] / r["rebuild_s"],
         "index_mb": r["index_bytes"] / 1e6, "classes": {}}
    for cls, cells in r["search"]["classes"].items():
        all_times = [t for times in cells.values() for t in times]
        api_anon = cells["/api/search anonymous"]
        fts = r["fts"][cls]
        s["classes"][cls] = {
            "median": statistics.median(all_times), "p95": pct(all_times, 95),
            "api_anon_median": statistics.median(api_anon), "api_anon_p95": pct(api_anon, 95),
            "fts_median": statistics.median(fts), "fts_p95": pct(fts, 95),
            "cells": {k: (statistics.median(v), pct(v, 95)) for k, v in cells.items()},
            "cpu_median": statistics.median(r["search"]["cpu"][cls]), "cpu_p95": pct(r["search"]["cpu"][cls], 95),
        }
    saves = r["saves"]["total"]
    s["save_median"], s["save_p95"] = statistics.median(saves), pct(saves, 95)
    s["patho_worst"] = max(r["pathological"].values())
    s["patho_worst_q"] = max(r["pathological"], key=r["pathological"].get)
    return s


def table(all_results: list[dict], info: dict) -> str:
    sums = [summarise(r) for r in all_results]
    head = "| measure | " + " | ".join(f"{s['notes']:,} notes" for s in sums) + " |"
    lines = [head, "|---|" + "---|" * len(sums)]

    def row(label: str, fn) -> None:
        lines.append(f"| {label} | " + " | ".join(fn(r, s) for r, s in zip(all_results, sums)) + " |")

    row("import (`Wiki.import_paths`: validate, write, one git commit, index)", lambda r, s: f"{r['import_s']:.1f} s")
    row("full rebuild (`kb index rebuild` path): wall (docs/s); CPU",
        lambda r, s: f"{r['rebuild_s']:.1f} s ({s['docs_per_s']:.0f} docs/s); CPU {r['rebuild_cpu_s']:.1f} s")
    row("… of which building the documents (YAML, Markdown → text, git dates)",
        lambda r, s: f"{r['documents_s']:.1f} s")
    row("index size on disk", lambda r, s: f"{s['index_mb']:.1f} MB (notes: {r['content_bytes'] / 1e6:.1f} MB)")
    row("app start (drift check, nothing to repair)", lambda r, s: f"{r['app_start_s']:.2f} s")
    row("first search after start (caches cold)", lambda r, s: f"{ms(r['search']['first_request_s'])} ms")
    row("save-to-searchable median / p95",
        lambda r, s: f"{ms(s['save_median'])} / {ms(s['save_p95'])} ms")
    row("… of which `Wiki.save` (git commit + index write) median",
        lambda r, s: f"{ms(statistics.median(r['saves']['save']))} ms")
    for cls in QUERIES:
        row(f"search, {cls}: median / p95 (all four app cells)",
            lambda r, s, c=cls: f"{ms(s['classes'][c]['median'])} / {ms(s['classes'][c]['p95'])} ms")
    for cls in QUERIES:
        row(f"… CPU per request, {cls}: median / p95",
            lambda r, s, c=cls: f"{ms(s['classes'][c]['cpu_median'])} / {ms(s['classes'][c]['cpu_p95'])} ms")
    for cls in QUERIES:
        row(f"SQLite FTS5, {cls}: median (kb API anonymous ÷ FTS5)",
            lambda r, s, c=cls: f"{ms(s['classes'][c]['fts_median'])} ms "
                                f"(×{s['classes'][c]['api_anon_median'] / s['classes'][c]['fts_median']:.1f})")
    row("pathological queries: worst (of API and page)",
        lambda r, s: f"{ms(s['patho_worst'])} ms {s['patho_worst_q']}")
    row("FTS5 build / size", lambda r, s: f"{r['fts_build_s']:.1f} s / {r['fts_bytes'] / 1e6:.1f} MB")
    keys = sorted({k for r in all_results for k in r["known_items"]},
                  key=lambda k: (("en", "fr", "ar").index(k.split()[0]), k.split()[1]))
    for key in keys:
        row(f"known item, {key}: top-1 / top-3 (n)",
            lambda r, s, k=key: (lambda c: f"{c['top1'] / c['n']:.0%} / {c['top3'] / c['n']:.0%} ({c['n']})")(
                r["known_items"][k]) if k in r["known_items"] else "–")
    out = ["\n".join(lines), ""]
    out.append("Per cell (median / p95 ms):\n")
    cells = list(sums[-1]["classes"]["one word"]["cells"])
    out.append("| scale | class | " + " | ".join(cells) + " |")
    out.append("|---|---|" + "---|" * len(cells))
    for s in sums:
        for cls, c in s["classes"].items():
            out.append(f"| {s['notes']:,} | {cls} | " +
                       " | ".join(f"{ms(c['cells'][k][0])} / {ms(c['cells'][k][1])}" for k in cells) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10, help="the larger corpus is this many copies (default 10)")
    parser.add_argument("--quick", action="store_true", help="743 notes only, fewer repetitions")
    parser.add_argument("--only-scale", action="store_true", help="skip the 1x run and measure --scale only")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--reps", type=int, default=None, help="timed repetitions of each query (default 5, quick 3)")
    parser.add_argument("--saves", type=int, default=30)
    parser.add_argument("--known", type=int, default=None, help="known items per language (default 40, quick 20)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", default=None, help="where the temporary sites go (default: system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary sites")
    args = parser.parse_args(argv)
    args.reps = args.reps or (3 if args.quick else 5)
    args.known = args.known or (20 if args.quick else 40)
    if not args.corpus.is_dir():
        parser.error(f"no corpus at {args.corpus}")
    scales = [1] if args.quick else ([args.scale] if args.only_scale or args.scale == 1 else [1, args.scale])

    info = machine()
    sampler = LoadSampler()
    sampler.start()
    began = time.perf_counter()
    all_results = [run_scale(scale, args) for scale in scales]
    info["wall_s"] = time.perf_counter() - began
    info["load_after"] = os.getloadavg()
    sampler.stop.set()
    info["load_samples"] = sampler.samples
    try:
        info["kb_commit"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                           capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT / f"search-{stamp}.json").write_text(json.dumps({"machine": info, "results": all_results}, indent=1,
                                                         default=str, ensure_ascii=False), encoding="utf-8")
    print(f"# kb search benchmark, {dt.date.today().isoformat()}\n")
    print(f"{info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM, Python {info['python']}, "
          f"Whoosh {info['whoosh']}, SQLite {info['sqlite']}; 1-minute load average before "
          f"{info['load_before'][0]:.2f}, during {statistics.mean(info['load_samples'] or [0]):.2f} on average "
          f"(max {max(info['load_samples'] or [0]):.2f}), after {info['load_after'][0]:.2f}; "
          f"wall time {info['wall_s']:.0f} s\n")
    print(table(all_results, info))
    misses = [(r["notes"], k, c["misses"]) for r in all_results for k, c in r["known_items"].items() if c["misses"]]
    if misses:
        print("\nKnown-item misses (first few):")
        for notes, key, items in misses:
            for m in items[:3]:
                print(f"- {notes:,} {key}: {m['q']!r} → wanted {m['want']}, got {m['got']}")
    print("\nQuery totals (anonymous):")
    for key, total in all_results[-1]["search"]["totals"].items():
        print(f"- {key}: {total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
