"""Two "machines" on one PostgreSQL: is a change made through A visible on B within a second?

    createdb -h 127.0.0.1 -U postgres bench_two
    .venv/bin/python bench/two_machines.py --db postgresql+psycopg://postgres@127.0.0.1:5432/bench_two \
        [--changes 200] [--workers 2] [--out bench/out/two_machines.json]

Each machine is the production shape of one host, told apart by port: its own gunicorn
(``gunicorn.conf.py``, ``--workers``), its own search applier (``flask search sync --loop``, the
Procfile's ``search`` process), its own instance folder (secret key file, page cache) and its own
index directory. Both use the same database and the same Redis (rate-limit counters, one
namespace). The data is the demo data (``tests/e2e/e2e_wsgi.py``, as the browser journeys use).

Phases (each prints its figures; ``--out`` writes them as JSON):

1. **Propagation.** ``--changes`` times: a service call with A's configuration (an app built
   from A's environment, in this process) gives one certified enterprise a new description
   carrying a unique word and commits. From that commit, B's enterprise page and B's search for
   the word are polled every 10 ms until both show it (the page was requested on both machines
   just before the change, so it sits in their page caches): p50 / p95 / p99 / max of the page, the
   search and both. A is checked too (its own applier).
2. **Rebuild on B.** ``flask search rebuild`` with B's environment while A is asked a fixed set
   of searches in a loop: every answer must be a 200 with the same hits as before the rebuild.
3. **A's applier killed** (``kill -9``). More changes through A: B must still show each within
   the same second. A's search lags meanwhile (its pages do not: they read the database); A's
   applier is restarted (as systemd would) and must catch up.
4. **Nothing lost.** Every enterprise's latest word is found by the search of both machines, and
   every enterprise page shows it.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
E2E = ROOT / "tests" / "e2e"
sys.path.insert(0, str(ROOT))
POLL = 0.01  # seconds between polls of B


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))]


def load() -> float:
    return round(os.getloadavg()[0], 2)


class Machine:
    """One host: gunicorn + applier, own instance folder and index, on its own port."""

    def __init__(self, name: str, db_url: str, base: Path, workers: int, namespace: str):
        self.name = name
        self.port = free_port()
        self.instance = base / name
        self.instance.mkdir(parents=True, exist_ok=True)
        self.workers = workers
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "FLASK_"))}
        self.env.update(
            DATABASE_URL=db_url, SEARCH_INDEX_DIR=str(self.instance / "index"),
            SECRET_KEY="two-machines-bench-secret-key", E2E_INSTANCE_PATH=str(self.instance),
            PYTHONPATH=os.pathsep.join([str(ROOT), str(E2E)]), LOAD_DEMO_DATA="false", MAIL_SERVER="",
            SERVER_NAME_FOR_LINKS=f"http://127.0.0.1:{self.port}", RATELIMIT_NAMESPACE=namespace,
            RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0", SEARCH_SYNC_INLINE="false",
            GUNICORN_ACCESSLOG="",
        )
        self.web = None
        self.applier = None
        self.logs = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def flask(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flask", "--app", "e2e_wsgi:create", *args], env=self.env,
                              cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=True)

    def start_applier(self) -> None:
        log = open(self.instance / "applier.log", "a")
        self.logs.append(log)
        self.applier = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "e2e_wsgi:create", "search", "sync", "--loop"],
            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    def start(self) -> None:
        self.flask("search", "rebuild")  # deployment step: the index exists before traffic
        self.start_applier()
        log = open(self.instance / "gunicorn.log", "a")
        self.logs.append(log)
        self.web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind",
             f"127.0.0.1:{self.port}", "--workers", str(self.workers), "e2e_wsgi:create()"],
            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if get(self.base_url + "/")[0] == 200:
                return
            time.sleep(0.3)
        raise SystemExit(f"machine {self.name} did not start; see {self.instance}/gunicorn.log")

    def stop(self) -> None:
        for p in (self.web, self.applier):
            if p is not None and p.poll() is None:
                p.terminate()
        for p in (self.web, self.applier):
            if p is not None:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        for fh in self.logs:
            fh.close()


def get(url: str, timeout: float = 10) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except (urllib.error.URLError, OSError):
        return 0, ""


def search_url(m: Machine, q: str) -> str:
    return f"{m.base_url}/search?q={urllib.parse.quote(q)}"


def shows(m: Machine, ent_id: int, word: str) -> tuple[bool, bool]:
    """(B's enterprise page shows the word, B's search for the word finds the enterprise)."""
    page = get(f"{m.base_url}/enterprises/{ent_id}")
    found = get(search_url(m, word))
    return (page[0] == 200 and word in page[1],
            found[0] == 200 and f'/enterprises/{ent_id}"' in found[1])


def wait_visible(m: Machine, ent_id: int, word: str, t0: float, limit: float = 30.0) -> tuple[float, float]:
    """Seconds from ``t0`` until the page and until the search show ``word`` (inf if never)."""
    page_at = search_at = None
    while time.perf_counter() - t0 < limit:
        # measured when the answer has arrived: an upper bound of the moment it became visible
        if page_at is None:
            status, body = get(f"{m.base_url}/enterprises/{ent_id}")
            if status == 200 and word in body:
                page_at = time.perf_counter() - t0
        if search_at is None:
            status, body = get(search_url(m, word))
            if status == 200 and f'/enterprises/{ent_id}"' in body:
                search_at = time.perf_counter() - t0
        if page_at is not None and search_at is not None:
            break
        time.sleep(POLL)
    return (page_at if page_at is not None else float("inf"), search_at if search_at is not None else float("inf"))


class Changer:
    """Changes through A: a service call in an app built with A's configuration."""

    def __init__(self, a: Machine):
        os.environ.update({k: a.env[k] for k in ("DATABASE_URL", "SEARCH_INDEX_DIR", "SECRET_KEY",
                                                  "SEARCH_SYNC_INLINE", "LOAD_DEMO_DATA", "MAIL_SERVER")})
        from marketplace import create_app

        self.app = create_app({"INSTANCE_PATH": str(a.instance), "PAGE_CACHE_SECONDS": 0})
        with self.app.app_context():
            from sqlalchemy import select

            from marketplace.extensions import db
            from marketplace.models import Enterprise, enterprise_is_public

            self.ids = db.session.scalars(select(Enterprise.id).where(enterprise_is_public())
                                          .order_by(Enterprise.id)).all()
        self.latest: dict[int, str] = {}

    def change(self, i: int) -> tuple[int, str, float]:
        """Give enterprise number ``i`` (cycling) a description with a fresh word; commit time."""
        from marketplace.extensions import db
        from marketplace.models import Enterprise

        ent_id = self.ids[i % len(self.ids)]
        word = f"tm{i}q{secrets.token_hex(3)}"
        with self.app.app_context():
            ent = db.session.get(Enterprise, ent_id)
            base = (ent.description or "").split(" 〔")[0]
            ent.description = f"{base} 〔{word}〕"
            db.session.commit()
            t0 = time.perf_counter()
            db.session.remove()
        self.latest[ent_id] = word
        return ent_id, word, t0


def propagation(changer: Changer, a: Machine, b: Machine, n: int, offset: int) -> dict:
    page, search, both, on_a = [], [], [], []
    for i in range(offset, offset + n):
        for m in (a, b):  # the page is in both machines' page caches before the change
            get(f"{m.base_url}/enterprises/{changer.ids[i % len(changer.ids)]}")
        ent_id, word, t0 = changer.change(i)
        p, s = wait_visible(b, ent_id, word, t0)
        page.append(p)
        search.append(s)
        both.append(max(p, s))
        if a.applier is not None and a.applier.poll() is None:
            on_a.append(max(wait_visible(a, ent_id, word, t0)))
    return {"changes": n, "load": load(), **summary("B page", page), **summary("B search", search),
            **summary("B both", both), **(summary("A both", on_a) if on_a else {}),
            "over_1s": sum(x > 1.0 for x in both)}


def summary(label: str, xs: list[float]) -> dict:
    ms = [x * 1000 for x in xs]
    out = {f"{label} p50 ms": round(pct(ms, 50), 1), f"{label} p95 ms": round(pct(ms, 95), 1),
           f"{label} p99 ms": round(pct(ms, 99), 1), f"{label} max ms": round(max(ms), 1)}
    print("  " + label + ": " + ", ".join(f"{k.split()[-2]} {v}" for k, v in out.items()), flush=True)
    return out


def rebuild_on_b(a: Machine, b: Machine) -> dict:
    """A keeps answering the same searches with the same hits while B rebuilds its index."""
    queries = ["陶瓷", "佛山", "食品", "旗舰店", "家电", "meidi", "广州 服装"]
    expected = {q: get(search_url(a, q)) for q in queries}
    stop = threading.Event()
    stats = {"requests": 0, "non_200": 0, "different": 0, "slowest_ms": 0.0}

    def probe():
        while not stop.is_set():
            for q in queries:
                t = time.perf_counter()
                status, body = get(search_url(a, q))
                stats["slowest_ms"] = max(stats["slowest_ms"], (time.perf_counter() - t) * 1000)
                stats["requests"] += 1
                if status != 200:
                    stats["non_200"] += 1
                elif _hits(body) != _hits(expected[q][1]):
                    stats["different"] += 1

    th = threading.Thread(target=probe)
    th.start()
    t = time.perf_counter()
    b.flask("search", "rebuild")
    stats["rebuild_s"] = round(time.perf_counter() - t, 1)
    stop.set()
    th.join()
    stats["slowest_ms"] = round(stats["slowest_ms"], 1)
    stats["b_after"] = get(search_url(b, "陶瓷"))[0]
    stats["load"] = load()
    print(f"  rebuild on B {stats['rebuild_s']} s; A answered {stats['requests']} searches: "
          f"{stats['non_200']} not 200, {stats['different']} with other hits, slowest {stats['slowest_ms']} ms",
          flush=True)
    return stats


def _hits(body: str) -> list[str]:
    """The result links of a search page, in order."""
    import re

    return re.findall(r'href="(/enterprises/\d+)"', body)


def kill_applier(changer: Changer, a: Machine, b: Machine, n: int, offset: int) -> dict:
    os.kill(a.applier.pid, signal.SIGKILL)
    a.applier.wait()
    print(f"  A's applier killed (pid {a.applier.pid})", flush=True)
    res = propagation(changer, a, b, n, offset)
    ent_id, word = list(changer.latest.items())[-1]
    res["a_search_while_dead"] = shows(a, ent_id, word)[1]
    t = time.perf_counter()
    a.start_applier()
    a_search = wait_visible(a, ent_id, word, t, limit=120)[1]
    res["a_catch_up_s"] = round(a_search, 2)
    print(f"  A's search had the last change while its applier was dead: {res['a_search_while_dead']}; "
          f"after the restart it caught up in {res['a_catch_up_s']} s", flush=True)
    return res


def nothing_lost(changer: Changer, machines: list[Machine]) -> dict:
    missing = []
    for m in machines:
        for ent_id, word in changer.latest.items():
            page, found = shows(m, ent_id, word)
            if not (page and found):
                missing.append((m.name, ent_id, word, page, found))
    print(f"  {len(changer.latest)} enterprises x {len(machines)} machines checked: {len(missing)} missing",
          flush=True)
    return {"checked": len(changer.latest) * len(machines), "missing": missing}


def prepare(db_url: str, a: Machine) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    subprocess.run([sys.executable, str(E2E / "e2e_wsgi.py")], env=a.env, cwd=ROOT, check=True, timeout=900)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True, help="a PostgreSQL database of its own (its schema is dropped)")
    ap.add_argument("--changes", type=int, default=200)
    ap.add_argument("--dead-changes", type=int, default=20, help="changes while A's applier is dead")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers per machine")
    ap.add_argument("--check-seconds", type=float, default=None,
                    help="PAGE_CACHE_CHECK_SECONDS of both machines (default: the app's)")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "two_machines.json"))
    args = ap.parse_args()
    base = Path(args.workdir or tempfile.mkdtemp(prefix="two-machines-"))
    shutil.rmtree(base, ignore_errors=True)
    ns = f"two-machines-{os.getpid()}"
    a, b = (Machine(n, args.db, base, args.workers, ns) for n in ("A", "B"))
    if args.check_seconds is not None:
        for m in (a, b):
            m.env["PAGE_CACHE_CHECK_SECONDS"] = str(args.check_seconds)
    results: dict = {"load_start": load(), "check_seconds": args.check_seconds}
    print(f"preparing the database (demo data); load average {load()}", flush=True)
    prepare(args.db, a)
    try:
        for m in (a, b):
            m.start()
        for m in (a, b):
            m.wait_ready()
        changer = Changer(a)
        get(search_url(b, "预热"))
        print(f"1. {args.changes} changes through A, visible on B (load average {load()})", flush=True)
        results["propagation"] = propagation(changer, a, b, args.changes, 0)
        print(f"2. rebuild on B while A answers searches (load average {load()})", flush=True)
        results["rebuild_on_b"] = rebuild_on_b(a, b)
        print(f"3. A's applier killed; {args.dead_changes} more changes (load average {load()})", flush=True)
        results["a_applier_killed"] = kill_applier(changer, a, b, args.dead_changes, args.changes)
        print("4. nothing lost", flush=True)
        results["nothing_lost"] = nothing_lost(changer, [a, b])
    finally:
        for m in (a, b):
            m.stop()
    results["load_end"] = load()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"results in {args.out}; load average {load()}")


if __name__ == "__main__":
    main()
