"""Where a cache miss goes: SQL statements and time per page, in-process, page cache off.

For each page kind of ``pages_bench.py`` (same URLs) it renders every URL through the Flask test
client with ``PAGE_CACHE_SECONDS=0`` and reports the mean number of SQL statements, their time,
and the mean wall time per request (after one warm pass). ``--profile KIND`` also writes a
pyinstrument HTML profile of that kind's requests to bench/out/profile-KIND.html.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_perf \\
    SEARCH_INDEX_DIR=/tmp/perf/index .venv/bin/python bench/profile_pages.py [--profile browse]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


class SqlCounter:
    """Counts statements and their time on an engine (before/after_cursor_execute)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.count, self.seconds, self.texts = 0, 0.0, Counter()
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, params, context, executemany):
        conn.info["t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, params, context, executemany):
        self.count += 1
        self.seconds += time.perf_counter() - conn.info.pop("t0", time.perf_counter())
        self.texts[" ".join(statement.split())[:160]] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="", help="page kind to profile with pyinstrument")
    parser.add_argument("--limit", type=int, default=60, help="URLs per kind")
    parser.add_argument("--top", type=int, default=0, help="print the N most frequent statements per kind")
    args = parser.parse_args()
    os.environ.update(PAGE_CACHE_SECONDS="0", SEARCH_SYNC_INLINE="false", LOAD_DEMO_DATA="false",
                      RATELIMIT_ENABLED="false")
    os.environ.setdefault("SECRET_KEY", "bench")
    from pages_bench import pick_paths

    from app import create_app
    from marketplace.extensions import db

    app = create_app()
    paths = pick_paths(os.environ["DATABASE_URL"])
    with app.app_context():
        counter = SqlCounter(db.engine)
    client = app.test_client()
    results = {}
    for kind, urls in paths.items():
        urls = (urls * args.limit)[:args.limit] if kind == "home" else urls[:args.limit]
        for u in urls:  # warm pass: templates, dictionaries, per-process aggregates
            assert client.get(u).status_code == 200, u
        profiler = None
        if args.profile == kind:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
        counter.count, counter.seconds, counter.texts = 0, 0.0, Counter()
        started = time.perf_counter()
        for u in urls:
            client.get(u)
        wall = time.perf_counter() - started
        if profiler is not None:
            profiler.stop()
            OUT.mkdir(parents=True, exist_ok=True)
            (OUT / f"profile-{kind}.html").write_text(profiler.output_html())
            print(profiler.output_text(unicode=True, color=False, show_all=False)[:6000])
        n = len(urls)
        results[kind] = {"requests": n, "ms_per_request": round(wall / n * 1000, 1),
                         "sql_per_request": round(counter.count / n, 1),
                         "sql_ms_per_request": round(counter.seconds / n * 1000, 1)}
        print(kind, results[kind], flush=True)
        for text, c in counter.texts.most_common(args.top):
            print(f"   {c / n:5.1f}x  {text}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "profile_pages.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
