"""Page benchmark: the site under gunicorn (gunicorn.conf.py) against PostgreSQL, compared with a
minimal Flask "hello" app run by the same gunicorn settings in the same run.

For home, a browse page, enterprise pages and search pages it reports requests/s, p50/p95/p99 and
the ratio to "hello" throughput (hello is measured first, then each page kind in slices of
``--slice`` seconds alternating with hello, and a page's ratio is the median of its slices' ratios:
this machine's speed drifts by 10-20 % over tens of seconds; the ratio to the first hello is
reported too); plus memory per worker (peak RSS from VmHWM; PSS from smaps_rollup, with the workers' total
under ``pss_mb_workers_total``, the figure to compare with preloading) and cold start time (process
start to first 200). Load comes from `wrk` (Debian package) with 16 connections on loopback.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_h7_large \\
    SEARCH_INDEX_DIR=/tmp/h7/large/index .venv/bin/python bench/pages_bench.py [--duration 15]

The database must hold the data to measure (see bench/README.md: generate-data + import-data +
search rebuild). Results go to stdout (a Markdown table) and bench/out/pages.json.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"

# The baseline: the smallest useful Flask response, under the same server settings.
hello_app = Flask("hello")


@hello_app.route("/")
def hello():
    """The baseline endpoint: no template, no database."""
    return "hello"


LUA = r"""
local paths = {%s}
local i = math.random(#paths)
request = function()
  i = (i %% #paths) + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  io.write(string.format('JSON {"requests":%%d,"duration_us":%%d,"p50":%%d,"p95":%%d,"p99":%%d,"max":%%d,' ..
    '"non2xx":%%d,"connect":%%d,"read":%%d,"write":%%d,"timeout":%%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_status(url: str, timeout: float = 30) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code
    except (urllib.error.URLError, OSError):
        return 0


def start_gunicorn(app_spec: str, port: int, env: dict, workers: int, threads: int, log: Path,
                   extra_path: str = "") -> tuple[subprocess.Popen, float]:
    """Start gunicorn with the project's gunicorn.conf.py; return it and the cold start time."""
    env = dict(env, SERVER_NAME_FOR_LINKS=f"http://127.0.0.1:{port}")  # the production shape requires it
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join([extra_path, str(ROOT)])
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads), "--access-logfile", "/dev/null", app_spec],
        cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT,
    )
    deadline = started + 300
    while get_status(f"http://127.0.0.1:{port}/", timeout=30) != 200:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{app_spec} did not start; see {log}")
        time.sleep(0.1)
    return proc, time.monotonic() - started


def worker_pids(master: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            pids.append(int(stat.parent.name))
    return pids


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the peak resident set size of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pss_mb(pid: int) -> float:
    """Proportional set size of a process in MiB (/proc/<pid>/smaps_rollup): pages shared with the
    master or other workers (copy-on-write after a preload) count once in total, split among them."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def memory_report(master: int) -> dict:
    """Per-worker PSS and peak RSS, plus the totals (workers alone, and with the master)."""
    pids = worker_pids(master)
    pss = sorted(round(pss_mb(p), 1) for p in pids)
    return {
        "pss_mb_per_worker": pss,
        "pss_mb_workers_total": round(sum(pss), 1),
        "pss_mb_master": round(pss_mb(master), 1),
        "peak_rss_mb_per_worker": sorted(round(peak_rss_mb(p), 1) for p in pids),
    }


def wrk(base: str, paths: list[str], duration: int, connections: int, threads: int = 2) -> dict:
    """Run wrk over ``paths`` (round robin) and return its figures."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(LUA % ", ".join(json.dumps(p) for p in paths))
        script = fh.name
    try:
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", script, base],
            capture_output=True, text=True, timeout=duration + 60, check=True,
        ).stdout
    finally:
        os.unlink(script)
    data = json.loads(re.search(r"^JSON (.*)$", out, re.M).group(1))
    secs = data["duration_us"] / 1e6
    return {
        "rps": round(data["requests"] / secs, 1), "requests": data["requests"],
        "p50_ms": round(data["p50"] / 1000, 1), "p95_ms": round(data["p95"] / 1000, 1),
        "p99_ms": round(data["p99"] / 1000, 1), "max_ms": round(data["max"] / 1000, 1),
        "errors": data["non2xx"] + data["connect"] + data["read"] + data["write"] + data["timeout"],
    }


def pick_paths(database_url: str, seed: int = 7) -> dict[str, list[str]]:
    """URLs per page kind, taken from the data being measured."""
    from sqlalchemy import create_engine, text

    rnd = random.Random(seed)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        ent_ids = [r[0] for r in conn.execute(text("SELECT id FROM enterprise WHERE status='certified'"))]
        brands = [r[0] for r in conn.execute(text(
            "SELECT b.name FROM brand b JOIN enterprise e ON e.id=b.enterprise_id WHERE e.status='certified' LIMIT 2000"))]
        cities = [(r[0], r[1]) for r in conn.execute(text("SELECT slug, name FROM city"))]
        industries = [(r[0], r[1]) for r in conn.execute(text("SELECT slug, name FROM industry"))]
        platforms = [r[0] for r in conn.execute(text("SELECT slug FROM platform"))]
        shop_urls = [r[0] for r in conn.execute(text("SELECT url FROM shop WHERE status='certified' ORDER BY id"))]
    engine.dispose()
    from urllib.parse import quote

    from pypinyin import lazy_pinyin

    browse = []
    for _ in range(30):
        (cslug, _cn), (islug, _in) = rnd.choice(cities), rnd.choice(industries)
        browse.append(rnd.choice([
            f"/enterprises?city={cslug}&industry={islug}",
            f"/enterprises?industry={islug}&platform={rnd.choice(platforms)}",
            f"/enterprises?city={cslug}&sort=name",
            f"/enterprises?industry={islug}&page=2",
        ]))
    queries = rnd.sample(brands, 20)
    queries += ["".join(lazy_pinyin(b)) for b in rnd.sample(brands, 10)]
    queries += [f"{c[1]} {i[1]}" for c, i in zip(rnd.sample(cities, 6), rnd.sample(industries, 6))]
    queries += ["旗舰店", "陶瓷", "佛山", "家電", "meidi", "不存在的品牌名"]
    return {
        "home": ["/"],
        "browse": browse,
        "enterprise": [f"/enterprises/{i}" for i in rnd.sample(ent_ids, min(300, len(ent_ids)))],
        "search": [f"/search?q={quote(q)}" for q in queries],
        # not cached (a form's answer): measured by profile_pages.py and load_test.py only
        "verify": [f"/verify?url={quote(u)}" for u in rnd.sample(shop_urls, min(60, len(shop_urls)))],
    }


def measure_page(base: str, urls: list[str], hello_base: str, hello_at_start: float, args) -> dict:
    """One page kind's figures, measured in slices of ``--slice`` seconds alternating with hello
    (``hello_rps_next_to_it``): this machine's speed drifts by 10-20 % over tens of seconds, and a
    ratio taken between runs a quarter of a minute apart moved with it. ``ratio_to_hello`` is the
    median of the slices' ratios; ``ratio_to_hello_at_start`` is to the hello measured first.
    Latencies are the slices' medians (``max_ms`` their maximum)."""
    load = os.getloadavg()[0]
    pages, hellos = [], []
    for _ in range(max(1, round(args.duration / args.slice))):
        hellos.append(wrk(hello_base, ["/"], args.slice, args.connections))
        pages.append(wrk(base, urls, args.slice, args.connections))
    r = {"rps": _overall_rps(pages), "requests": sum(p["requests"] for p in pages)}
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        r[key] = round(statistics.median(p[key] for p in pages), 1)
    r["max_ms"] = max(p["max_ms"] for p in pages)
    r["errors"] = sum(p["errors"] for p in pages)
    r["loadavg_before"] = load
    r["hello_rps_next_to_it"] = _overall_rps(hellos)
    # a hello slice that served nothing (the machine stalled) has no ratio to give
    r["slice_ratios"] = [round(p["rps"] / h["rps"], 3) for p, h in zip(pages, hellos) if h["rps"]]
    r["ratio_to_hello"] = round(statistics.median(r["slice_ratios"]), 3) if r["slice_ratios"] else 0.0
    r["ratio_to_hello_at_start"] = round(r["rps"] / hello_at_start, 3)
    return r


def _overall_rps(runs: list[dict]) -> float:
    """Requests per second over several wrk runs taken together (0 when none served a request)."""
    seconds = sum(x["requests"] / x["rps"] for x in runs if x["rps"])
    return round(sum(x["requests"] for x in runs) / seconds, 1) if seconds else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per page kind")
    parser.add_argument("--slice", type=int, default=2,
                        help="seconds per slice: each page kind alternates with hello slice by slice")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: gunicorn.conf.py)")
    parser.add_argument("--threads", type=int, default=0, help="threads per worker (default: gunicorn.conf.py)")
    parser.add_argument("--pages", default="home,browse,enterprise,search",
                        help="comma-separated page kinds to measure (default: all four)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgresql"):
        raise SystemExit("set DATABASE_URL to the PostgreSQL database holding the data to measure")
    import multiprocessing

    workers = args.workers or min(2 * multiprocessing.cpu_count() + 1, 8)
    threads = args.threads or 1
    OUT.mkdir(parents=True, exist_ok=True)
    page_cache_dir = tempfile.mkdtemp(prefix="pages-bench-cache-")  # each run starts with an empty shared cache
    env = dict(os.environ, SEARCH_SYNC_INLINE="false", LOAD_DEMO_DATA="false",
               PAGE_CACHE_DIR=os.environ.get("PAGE_CACHE_DIR") or page_cache_dir,
               SECRET_KEY=os.environ.get("SECRET_KEY") or "bench-secret", RATELIMIT_ENABLED="false")
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "build-static"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)  # compressed static files, as in production
    paths = {kind: urls for kind, urls in pick_paths(database_url).items() if kind in args.pages.split(",")}
    results: dict = {"page_cache_seconds": os.environ.get("PAGE_CACHE_SECONDS", "default"), "connections": args.connections, "duration_s": args.duration, "workers": workers,
                     "threads": threads, "loadavg_before": os.getloadavg()[0], "pages": {}}

    # hello first, alone on the machine (its figures, cold start and memory); it stays up, idle,
    # and is measured again right before each page kind: this machine's speed drifts by 10-20 %
    # over minutes, so a page's ratio is taken to the hello measured next to it.
    hello_port = free_port()
    hello, cold = start_gunicorn("pages_bench:hello_app", hello_port, env, workers, threads, OUT / "hello.log",
                                 extra_path=str(ROOT / "bench"))
    hello_base = f"http://127.0.0.1:{hello_port}"
    proc = None
    try:
        wrk(hello_base, ["/"], 3, args.connections)  # warm-up
        results["hello"] = wrk(hello_base, ["/"], args.duration, args.connections)
        results["hello"]["cold_start_s"] = round(cold, 2)
        mem = memory_report(hello.pid)
        results["hello"]["peak_rss_mb"] = max(mem["peak_rss_mb_per_worker"])
        results["hello"]["pss_mb_workers_total"] = mem["pss_mb_workers_total"]

        port = free_port()
        proc, cold = start_gunicorn("app:create_app()", port, env, workers, threads, OUT / "site.log")
        results["cold_start_s"] = round(cold, 2)
        results["memory_at_start"] = memory_report(proc.pid)
        base = f"http://127.0.0.1:{port}"
        for kind, urls in paths.items():  # every URL answers 200 before anything is timed
            bad = [(u, s) for u in urls if (s := get_status(base + u)) != 200]
            if bad:
                raise SystemExit(f"{kind}: not 200: {bad[:5]}")
        wrk(base, [u for urls in paths.values() for u in urls], 5, args.connections)  # warm-up
        for kind, urls in paths.items():
            results["pages"][kind] = measure_page(base, urls, hello_base, results["hello"]["rps"], args)
            print(f"{kind}: {results['pages'][kind]}", file=sys.stderr, flush=True)
        results.update(memory_report(proc.pid))  # after every page kind ran: warm workers
    finally:
        for p in (proc, hello):
            if p is not None:
                p.terminate()
                p.wait(30)
        shutil.rmtree(page_cache_dir, ignore_errors=True)
    results["loadavg_after"] = os.getloadavg()[0]
    (OUT / "pages.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))

    targets = {"home": 100, "browse": 100, "enterprise": 100, "search": 200}
    cache = os.environ.get("PAGE_CACHE_SECONDS", "default")
    print(f"\n{workers} workers, {args.connections} connections, {args.duration}s per page in {args.slice}-s slices "
          f"alternating with hello, PAGE_CACHE_SECONDS={cache}, "
          f"load average before {results['loadavg_before']:.1f}\n")
    print("| page | req/s | hello in its slices | ratio: median of slices (min–max) | ratio to hello at start | p50 ms | p95 ms | p99 ms "
          "| errors | p95 target |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    h = results["hello"]
    print(f"| hello | {h['rps']} | | 1.000 | 1.000 | {h['p50_ms']} | {h['p95_ms']} | {h['p99_ms']} | {h['errors']} | |")
    for kind, r in results["pages"].items():
        ok = "met" if r["p95_ms"] < targets[kind] else "MISSED"
        spread = f" ({min(r['slice_ratios']):.3f}–{max(r['slice_ratios']):.3f})" if r['slice_ratios'] else ""
        print(f"| {kind} | {r['rps']} | {r['hello_rps_next_to_it']} | {r['ratio_to_hello']:.3f}{spread} | "
              f"{r['ratio_to_hello_at_start']:.3f} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['errors']} "
              f"| < {targets[kind]} ms: {ok} |")
    print(f"\ncold start (process start to first 200): site {results['cold_start_s']} s, hello {h['cold_start_s']} s")
    print(f"peak RSS per worker (MiB): site {results['peak_rss_mb_per_worker']}, hello {h['peak_rss_mb']:.1f}")
    print(f"PSS per worker (MiB, smaps_rollup, after the run): {results['pss_mb_per_worker']}; "
          f"workers total {results['pss_mb_workers_total']} (at start {results['memory_at_start']['pss_mb_workers_total']}), "
          f"master {results['pss_mb_master']}; hello workers total {h['pss_mb_workers_total']}")


if __name__ == "__main__":
    main()
