"""Search quality on the demo data: nDCG@10 of the judged query set (not a test module).

    python -m tests.search_quality                 # per category and overall, this tree
    python -m tests.search_quality --worst 15      # also the 15 weakest queries with their results
    python tests/search_quality.py --root OLD_TREE --api before   # the same set against older code

The demo data is imported into a temporary SQLite database (through the normal importer, with the
shipped synonyms), the index is built, and every judged query goes through the same path as the
search page (``search_sync.querying.search``: synonyms, places, database check), first 10 hits.

Scoring: each hit counts as its enterprise (a shop as the enterprise it belongs to, a platform
as ``platform:<slug>``); an enterprise counts once, at its first position. Gain 2^grade - 1,
discount log2(rank + 1), divided by the best possible ordering of the judged enterprises. A query
whose right answer is "nothing" (``expect_empty``) scores 1 when nothing is returned, else 0.
``tests/test_search_quality.py`` runs this and fails below a threshold.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JUDGED = Path(__file__).resolve().parent / "data" / "search_judged.json"
K = 10


def dcg(gains: list[int]) -> float:
    return sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg(ranked_keys: list[str], grades: dict[str, int], k: int = K) -> float:
    """nDCG@k of a ranked list of keys (later repeats of a key gain nothing)."""
    seen: set[str] = set()
    gains = []
    for key in ranked_keys[:k]:
        gains.append(0 if key in seen else grades.get(key, 0))
        seen.add(key)
    ideal = dcg(sorted(grades.values(), reverse=True)[:k])
    return dcg(gains) / ideal if ideal else 0.0


def score(judged: list[dict], run) -> list[dict]:
    """Per query: its nDCG@10, total and first keys; ``run(q)`` returns (total, ranked keys)."""
    rows = []
    for j in judged:
        total, keys = run(j["q"])
        value = (1.0 if total == 0 else 0.0) if j["expect_empty"] else ndcg(keys, j["grades"])
        rows.append({"q": j["q"], "category": j["category"], "ndcg": value, "total": total, "keys": keys[:K]})
    return rows


def summary(rows: list[dict]) -> dict[str, float]:
    """Mean nDCG per category and overall (key ``all``)."""
    cats: dict[str, list[float]] = {}
    for r in rows:
        cats.setdefault(r["category"], []).append(r["ndcg"])
    out = {c: sum(v) / len(v) for c, v in cats.items()}
    out["all"] = sum(r["ndcg"] for r in rows) / len(rows)
    return out


def hit_key(hit) -> str:
    """The judged key of a resolved search hit."""
    if hit.kind == "enterprise":
        return hit.obj.uscc
    if hit.kind == "shop":
        return hit.obj.enterprise.uscc
    return f"platform:{hit.obj.slug}"


def demo_app(workdir: str, synonyms: bool = True):
    """An app on a fresh SQLite database with the demo data imported (and the shipped synonyms
    unless ``synonyms`` is false: code from before them) and the index built."""
    from marketplace import create_app
    from marketplace.extensions import db
    from marketplace.search_sync.applier import rebuild
    from marketplace.services.importer.writer import run_import
    from marketplace.services.reference_data import seed_reference_data

    app = create_app({"TESTING": True, "INSTANCE_PATH": f"{workdir}/instance",
                      "DATABASE_URL": f"sqlite:///{workdir}/quality.sqlite3", "SEARCH_INDEX_DIR": f"{workdir}/index",
                      "SECRET_KEY": "quality", "LOAD_DEMO_DATA": False, "PAGE_CACHE_SECONDS": 0,
                      "SEARCH_SYNC_INLINE": False})
    demo = ROOT / "marketplace" / "data" / "demo"
    with app.app_context():
        db.create_all()
        seed_reference_data()
        if synonyms:
            from marketplace.services.synonyms import seed_synonyms

            seed_synonyms()
        report = run_import((demo / "enterprises.csv").read_bytes(), (demo / "shops.csv").read_bytes(),
                            dry_run=False, filenames=("enterprises.csv", "shops.csv"))
        assert report.ok, report.errors[:3]
        db.session.commit()
        rebuild()
    return app


def runner(api: str):
    """``run(q) -> (total, keys)`` through the search path of this tree (``now``) or of the code
    before synonyms and places (``before``: ``search_sync.search(SearchRequest)``)."""
    if api == "before":
        from marketplace import search_sync
        from search_index import SearchRequest

        def run(q):
            out = search_sync.search(SearchRequest(q=q, per_page=K))
            return out.response.total, [hit_key(h) for h in out.hits]
    else:
        from marketplace.search_sync.querying import search

        def run(q):
            out = search(q, per_page=K)
            return out.response.total, [hit_key(h) for h in out.hits]
    return run


def evaluate(judged_path: Path = JUDGED, api: str = "now") -> list[dict]:
    """Build the demo app in a temporary directory and score every judged query."""
    from marketplace.extensions import db

    judged = json.loads(judged_path.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="search-quality-") as workdir:
        app = demo_app(workdir, synonyms=api == "now")
        with app.app_context():
            rows = score(judged, runner(api))
            db.session.remove()
            db.engine.dispose()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=str(ROOT), help="the source tree to evaluate (default: this one)")
    ap.add_argument("--api", choices=("now", "before"), default="now")
    ap.add_argument("--judged", default=str(JUDGED))
    ap.add_argument("--worst", type=int, default=0, help="list the N weakest queries")
    ap.add_argument("--json", help="also write the per-query rows to this file")
    args = ap.parse_args()
    sys.path.insert(0, args.root)
    rows = evaluate(Path(args.judged), args.api)
    for cat, value in summary(rows).items():
        n = sum(r["category"] == cat for r in rows) if cat != "all" else len(rows)
        print(f"{cat:<8}{n:>5} queries  nDCG@10 {value:.3f}")
    for r in sorted(rows, key=lambda r: r["ndcg"])[:args.worst]:
        print(f"  {r['ndcg']:.3f}  {r['category']}  {r['q']!r}  total={r['total']}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
