"""Relevance benchmark: recall@10 and MRR per kind of query, kb's search against SQLite FTS5 on the same notes.

    .venv/bin/python benchmarks/relevance.py                 # the shared corpus, 50 queries per kind
    .venv/bin/python benchmarks/relevance.py --per-kind 20 --json benchmarks/out/relevance.json

The evaluation set is generated (seeded), never hand-tuned: from the shared corpus (read where it lies,
never copied into the repository), each query names the one note it was made from, and a result list
is judged by where that note stands in its first ten. Kinds:

- ``title``: two to four words of a note's title, in any order;
- ``paraphrase``: a passage (one body sentence of 8-15 words) with about a fifth of its words dropped,
  a few neighbours swapped and about a sixth replaced by words of another note;
- ``filtered``: a title or paraphrase query with one of the note's regions or topics as a filter;
- ``unaccented``: a title or paraphrase query of a French or Arabic note with accents and diacritics removed;
- ``cross-language``: the title of a note's English or French translation (same file name in the other
  language's folder of the same source), searched with the note's language as the ``lang`` filter.

kb searches with the repository's content/glossary.yml, as the app does. The baseline is what the issue
measured against: FTS5 (unicode61, diacritics removed) with the OR of the
query's words ranked by bm25 (title 3, summary 2, body 1), filters as SQL conditions.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import re
import sqlite3
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb.errors import KbError  # noqa: E402
from kb.wiki.indexing import build_doc  # noqa: E402
from kb.model import parse_note  # noqa: E402
from kb.render import Renderer  # noqa: E402
from kb.search import IndexDoc, SearchIndex, SearchQuery, textnorm  # noqa: E402
from kb.taxonomy import Taxonomy  # noqa: E402

# the shared corpus beside the checkout (from a worktree in /work/wt/NAME: two levels up)
CORPUS = next((p for p in (ROOT.parent / "shared" / "corpus" / "notes", ROOT.parent.parent / "shared" / "corpus" / "notes")
               if p.is_dir()), ROOT.parent / "shared" / "corpus" / "notes")
KINDS = ("title", "paraphrase", "filtered", "unaccented", "cross-language")
SENTENCE_RE = re.compile(r"(?<=[.!?؟])\s+|\n")


def strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn" and ch != "\u0640")
    return unicodedata.normalize("NFC", kept)


def load(corpus: Path) -> tuple[list[IndexDoc], dict[str, tuple[str, str, str]]]:
    """The corpus's notes as index documents, and each slug's (source, language, file name)."""
    taxonomy = Taxonomy.load(ROOT / "content" / "taxonomy.yml")
    renderer = Renderer()
    docs, where = [], {}
    for path in sorted(corpus.rglob("*.md")):
        source, lang = path.parent.parent.name, path.parent.name
        slug = re.sub(r"[^a-z0-9]+", "-", f"{source}-{lang}-{path.stem}".lower()).strip("-")
        raw = path.read_bytes()
        try:
            note = parse_note(slug, raw.decode("utf-8"), taxonomy)
            docs.append(build_doc(note, raw, taxonomy, renderer))
        except (KbError, ValueError) as exc:
            print(f"skipped {path}: {exc}", file=sys.stderr)
            continue
        where[slug] = (source, lang, path.name)
    return docs, where


def meaningful(words: list[str]) -> list[str]:
    return [w for w in words if not textnorm.is_stopword(textnorm.normalize_word(w)) and not w.isdigit()]


def title_query(rng: random.Random, doc: IndexDoc) -> str | None:
    words = list(dict.fromkeys(meaningful(textnorm.WORD_RE.findall(doc.title))))
    if len(words) < 2:
        return None
    picked = rng.sample(words, min(len(words), rng.randint(2, 4)))
    return " ".join(picked)


def paraphrase_query(rng: random.Random, doc: IndexDoc, vocabulary: list[str]) -> str | None:
    sentences = [s for s in SENTENCE_RE.split(doc.text) if 8 <= len(textnorm.WORD_RE.findall(s))]
    if not sentences:
        return None
    words = textnorm.WORD_RE.findall(rng.choice(sentences))
    start = rng.randint(0, max(0, len(words) - 15))
    words = words[start:start + rng.randint(8, 15)]
    words = [w for w in words if rng.random() > 0.2]  # dropped
    for _ in range(max(1, len(words) // 5)):  # neighbours swapped
        i = rng.randrange(max(1, len(words) - 1))
        words[i:i + 2] = words[i:i + 2][::-1]
    words = [rng.choice(vocabulary) if rng.random() < 1 / 6 else w for w in words]  # replaced
    return " ".join(words) if len(meaningful(words)) >= 3 else None


def evaluation_set(docs: list[IndexDoc], where: dict, per_kind: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    vocabulary = sorted({w for d in rng.sample(docs, min(60, len(docs)))
                         for w in meaningful(textnorm.WORD_RE.findall(d.text[:3000]))})
    by_file = {(src, lang, name): d for d in docs for src, lang, name in [where[d.slug]]}
    cases: list[dict] = []

    def add(kind: str, doc: IndexDoc, q: str | None, **filters) -> bool:
        if q:
            cases.append({"kind": kind, "q": q, "want": doc.slug, "filters": filters})
        return bool(q)

    def fill(kind: str, pool: list[IndexDoc], make) -> None:
        pool = pool[:]
        rng.shuffle(pool)
        n = 0
        for doc in pool:
            if n >= per_kind:
                break
            n += make(doc)

    fill("title", docs, lambda d: add("title", d, title_query(rng, d)))
    fill("paraphrase", docs, lambda d: add("paraphrase", d, paraphrase_query(rng, d, vocabulary)))

    def filtered(d: IndexDoc) -> bool:
        q = title_query(rng, d) if rng.random() < 0.5 else paraphrase_query(rng, d, vocabulary)
        if rng.random() < 0.5 and d.regions:
            return add("filtered", d, q, places=[rng.choice(d.regions)])
        return add("filtered", d, q, topics=[rng.choice(d.topics)]) if d.topics else False
    fill("filtered", docs, filtered)

    def unaccented(d: IndexDoc) -> bool:
        q = title_query(rng, d) if rng.random() < 0.5 else paraphrase_query(rng, d, vocabulary)
        return add("unaccented", d, strip_marks(q)) if q and strip_marks(q) != q else False
    fill("unaccented", [d for d in docs if d.language in ("fr", "ar")], unaccented)

    def cross(d: IndexDoc) -> bool:
        src, lang, name = where[d.slug]
        other = next((by_file[(src, o, name)] for o in ("en", "fr") if o != lang and (src, o, name) in by_file),
                     None)
        if other is None:
            return False
        q = " ".join(textnorm.WORD_RE.findall(other.title))
        return add("cross-language", d, q if len(meaningful(q.split())) >= 2 else None, languages=[d.language])
    fill("cross-language", [d for d in docs if d.language in ("en", "fr")], cross)
    return cases


# --- the two engines --------------------------------------------------------------------------------------

def kb_ranking(index: SearchIndex, case: dict) -> list[str]:
    results = index.search(SearchQuery(q=case["q"], per_page=10, **case["filters"]), None)
    return [h.slug for h in results.hits]


def fts_build(docs: list[IndexDoc], path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path))
    db.executescript("""
        CREATE VIRTUAL TABLE fts USING fts5(title, summary, body, tokenize = 'unicode61 remove_diacritics 2');
        CREATE TABLE doc(id INTEGER PRIMARY KEY, slug TEXT, language TEXT);
        CREATE TABLE facet(doc INTEGER, name TEXT, value TEXT);
    """)
    for i, d in enumerate(docs, 1):
        db.execute("INSERT INTO fts(rowid, title, summary, body) VALUES (?, ?, ?, ?)", (i, d.title, d.summary, d.text))
        db.execute("INSERT INTO doc VALUES (?, ?, ?)", (i, d.slug, d.language))
        db.executemany("INSERT INTO facet VALUES (?, ?, ?)", [(i, "places", v) for v in d.places] +
                       [(i, "topics", v) for v in d.topics] + [(i, "languages", d.language)])
    db.executescript("CREATE INDEX facet_nv ON facet(name, value, doc); INSERT INTO fts(fts) VALUES ('optimize');")
    db.commit()
    return db


def fts_ranking(db: sqlite3.Connection, case: dict) -> list[str]:
    words = textnorm.WORD_RE.findall(case["q"])
    if not words:
        return []
    where, args = ["fts MATCH ?"], [" OR ".join(f'"{w}"' for w in words)]
    for name, values in case["filters"].items():
        where.append("doc.id IN (SELECT doc FROM facet WHERE name = ? AND value = ?)")
        args += [name, values[0]]
    rows = db.execute(f"SELECT doc.slug FROM fts JOIN doc ON doc.id = fts.rowid WHERE {' AND '.join(where)} "
                      "ORDER BY bm25(fts, 3.0, 2.0, 1.0) LIMIT 10", args).fetchall()
    return [slug for (slug,) in rows]


def score(cases: list[dict], rank) -> tuple[dict, list[float]]:
    """Per kind: queries, recall@10 and MRR (the one judged note among the first ten); and each latency."""
    out: dict = {}
    times = []
    for case in cases:
        started = time.perf_counter()
        found = rank(case)
        times.append(time.perf_counter() - started)
        cell = out.setdefault(case["kind"], {"n": 0, "recall@10": 0.0, "mrr": 0.0})
        cell["n"] += 1
        if case["want"] in found[:10]:
            cell["recall@10"] += 1
            cell["mrr"] += 1 / (found.index(case["want"]) + 1)
    total = {"n": len(cases), "recall@10": 0.0, "mrr": 0.0}
    for cell in out.values():
        total["recall@10"] += cell["recall@10"]
        total["mrr"] += cell["mrr"]
        cell["recall@10"], cell["mrr"] = cell["recall@10"] / cell["n"], cell["mrr"] / cell["n"]
    total["recall@10"], total["mrr"] = total["recall@10"] / max(1, len(cases)), total["mrr"] / max(1, len(cases))
    out["all"] = total
    return out, times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--per-kind", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers (and the set) here")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        parser.error(f"no corpus at {args.corpus}")
    docs, where = load(args.corpus)
    cases = evaluation_set(docs, where, args.per_kind, args.seed)
    with tempfile.TemporaryDirectory(prefix="kb-relevance-") as tmp:
        index = SearchIndex(Path(tmp) / "index")
        index.rebuild(docs)
        index.use_glossary(ROOT / "content" / "glossary.yml")  # kb's own vocabulary, as the app uses it
        index.warm()
        db = fts_build(docs, Path(tmp) / "fts.sqlite")
        kb, kb_times = score(cases, lambda c: kb_ranking(index, c))
        fts, fts_times = score(cases, lambda c: fts_ranking(db, c))
        index.close()
        db.close()
    print(f"{len(docs)} notes, {len(cases)} queries (seed {args.seed}); {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}\n")
    print("| kind | queries | kb recall@10 | FTS5 recall@10 | kb MRR | FTS5 MRR |\n|---|---|---|---|---|---|")
    for kind in (*KINDS, "all"):
        if kind in kb:
            k, f = kb[kind], fts[kind]
            print(f"| {kind} | {k['n']} | {k['recall@10']:.3f} | {f['recall@10']:.3f} | {k['mrr']:.3f} | {f['mrr']:.3f} |")
    p50 = lambda ts: sorted(ts)[len(ts) // 2] * 1000  # noqa: E731
    print(f"\nmedian per query: kb {p50(kb_times):.1f} ms, FTS5 {p50(fts_times):.1f} ms (top 10 only, no facets)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"kb": kb, "fts5": fts, "cases": cases}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
