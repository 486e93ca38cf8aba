"""Fault tests against the production shape (`scripts/serve.sh`: gunicorn + supervised search
applier + PostgreSQL), with a prober reading pages throughout.

`make serve` runs both processes under honcho, which stops everything when one exits (as foreman
does); in production each is a systemd unit with `Restart=always` (README, production). Here
serve.sh runs only the web process and this script restarts the applier the way systemd would
(1 s after it exits), so the applier fault measures the production behaviour.

Faults, each followed by a recovery check:
  worker   kill -9 gunicorn workers while merchants' edits are being written
  applier  kill -9 the search applier while it commits a burst of index changes
  index    delete the index directory while serving
  pool     fill the database's connections (per-database limit reached, workers restarted)
  pgstop   stop PostgreSQL for 10 s and start it again (ONLY with --pgstop: it stops the
           machine's cluster for everyone)

For each: did users get a clear page (200, or the Chinese error page) rather than a hang (>10 s)
or a connection error; did the site recover by itself; was any acknowledged change lost from
the database or the index. Prints a Markdown table; bench/out/faults.json has the details.

    .venv/bin/python bench/faults.py [--only worker,applier,index,pool] [--pgstop]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import logging

logging.getLogger("httpx").setLevel(logging.WARNING)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load_test import as_form, form_fields, login  # noqa: E402

DB = os.environ.get("FAULTS_DB", "test_h7_faults")
ROLE = os.environ.get("FAULTS_ROLE", "h7_faults")  # a role of its own, so its connections can be capped
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"
SITE_PG = f"postgresql+psycopg://{ROLE}@127.0.0.1:5432/"
INDEX = Path(os.environ.get("FAULTS_INDEX", "/tmp/h7/faults/index"))
PASSWORD = "fault-test-merchant-pass-2026"
HANG_S = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    """All descendants of ``pid``."""
    kids: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Site:
    """scripts/serve.sh on its own database, port and index directory."""

    def __init__(self):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, SERVE_DB=DB, GUNICORN_BIND=f"127.0.0.1:{self.port}", GUNICORN_WORKERS="3",
                        SEARCH_INDEX_DIR=str(INDEX), SECRET_KEY="faults-secret", RATELIMIT_ENABLED="false",
                        DATABASE_URL=SITE_PG + DB, PGUSER=ROLE, GUNICORN_ACCESSLOG="/dev/null",
                        SERVE_PROCESSES="web")
        self.proc = None
        self.applier: subprocess.Popen | None = None
        self.stopping = threading.Event()

    def start(self):
        self.proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "serve.sh")], cwd=ROOT, env=self.env,
                                     stdout=open(OUT / "faults_serve.log", "a"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 600
        while not self.up():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("serve.sh did not come up; see bench/out/faults_serve.log")
            time.sleep(0.5)
        threading.Thread(target=self._supervise_applier, daemon=True).start()

    def _supervise_applier(self):
        """The search applier, restarted 1 s after it exits (systemd's Restart=always, RestartSec=1)."""
        env = dict(self.env, PRODUCTION="true", SEARCH_SYNC_INLINE="false",
                   SERVER_NAME_FOR_LINKS=self.base, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0")
        with open(OUT / "faults_applier.log", "a") as log:
            while not self.stopping.is_set():
                self.applier = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "search", "sync",
                                                 "--loop"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
                self.applier.wait()
                time.sleep(1)

    def up(self) -> bool:
        try:
            return httpx.get(self.base + "/", timeout=10).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self):
        self.stopping.set()
        if self.applier and self.applier.poll() is None:
            self.applier.terminate()
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)

    def gunicorn_master(self) -> int:
        return next(p for p in children(self.proc.pid) if "gunicorn" in cmdline(p) and
                    not any("gunicorn" in cmdline(q) for q in [int(Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1])]))

    def workers(self) -> list[int]:
        master = self.gunicorn_master()
        return children(master)

    def appliers(self) -> list[int]:
        return [self.applier.pid] if self.applier and self.applier.poll() is None else []


class Prober(threading.Thread):
    """Reads pages as a consumer would, all the time, and remembers what each answer was."""

    PATHS = ["/", "/enterprises", "/search?q=%E9%99%B6%E7%93%B7", "/search?q=meidi"]

    def __init__(self, base: str, ent_ids: list[int]):
        super().__init__(daemon=True)
        self.base, self.ent_ids = base, ent_ids
        self.stop = threading.Event()
        self.log: list[tuple[float, str, str, float]] = []  # (t, path, outcome, seconds)

    def run(self):
        rnd = random.Random(1)
        with httpx.Client(base_url=self.base, timeout=30) as c:
            while not self.stop.is_set():
                path = rnd.choice(self.PATHS + [f"/enterprises/{rnd.choice(self.ent_ids)}"])
                t = time.monotonic()
                try:
                    r = c.get(path)
                    if r.status_code == 200:
                        outcome = "200"
                    elif r.status_code >= 500 and ("服务" in r.text or "出错" in r.text):
                        outcome = f"{r.status_code} error page"
                    else:
                        outcome = f"{r.status_code} other"
                except httpx.HTTPError as exc:
                    outcome = f"no answer ({type(exc).__name__})"
                dt = time.monotonic() - t
                if dt > HANG_S:
                    outcome += " HANG"
                self.log.append((t, path, outcome, dt))
                time.sleep(0.05)

    def window(self, start: float, end: float) -> dict:
        rows = [r for r in self.log if start <= r[0] <= end]
        return {"requests": len(rows), "outcomes": dict(Counter(r[2] for r in rows)),
                "max_s": round(max((r[3] for r in rows), default=0), 2)}


def sql(statement: str, params: dict | None = None, db: str = DB):
    from sqlalchemy import create_engine, text

    engine = create_engine(PG + db, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            result = conn.execute(text(statement), params or {})
            return result.fetchall() if result.returns_rows else None
    finally:
        engine.dispose()


def api_total(site: Site, q: str) -> int:
    try:
        r = httpx.get(site.base + "/api/v1/search", params={"q": q, "kind": "enterprise", "per_page": 100}, timeout=30)
        return r.json().get("total", -1) if r.status_code == 200 else -1
    except (httpx.HTTPError, ValueError):
        return -1


def wait_for(check, timeout: float, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    while time.monotonic() < deadline:
        if check():
            return round(time.monotonic() - started, 1)
        time.sleep(interval)
    return None


# --------------------------------------------------------------------------- setup


def prepare_database() -> None:
    """A fresh database with the demo data (serve.sh loads it into the empty database)."""
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB], check=True)
    if not sql("SELECT 1 FROM pg_roles WHERE rolname = :r", {"r": ROLE}, db="postgres"):
        sql(f'CREATE ROLE "{ROLE}" LOGIN', db="postgres")
    sql(f'ALTER ROLE "{ROLE}" CONNECTION LIMIT -1', db="postgres")
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "-O", ROLE, DB], check=True)
    shutil.rmtree(INDEX, ignore_errors=True)
    INDEX.parent.mkdir(parents=True, exist_ok=True)


def make_merchants(n: int) -> list[dict]:
    """Merchant accounts that own certified demo enterprises (through the services)."""
    from sqlalchemy import select

    from marketplace import create_app
    from marketplace.extensions import db
    from marketplace.models import Enterprise, Role, Status
    from marketplace.services import accounts

    app = create_app({"INSTANCE_PATH": str(OUT / "faults_instance"), "DATABASE_URL": SITE_PG + DB,
                      "SEARCH_INDEX_DIR": str(INDEX), "SEARCH_SYNC_INLINE": False})
    out = []
    with app.app_context():
        ents = db.session.scalars(select(Enterprise).where(
            Enterprise.status == Status.CERTIFIED, Enterprise.owner_id.is_(None)).order_by(Enterprise.id).limit(n)).all()
        for i, ent in enumerate(ents):
            email = f"fault-m{i}-{uuid.uuid4().hex[:4]}@faults.example"
            user = accounts.create_user(email, PASSWORD, role=Role.MERCHANT)
            ent.owner_id = user.id
            out.append({"email": email, "enterprise_id": ent.id})
        db.session.commit()
    return out


def edit_burst(site: Site, merchants: list[dict], stop: threading.Event, acks: dict) -> None:
    """Merchants edit their descriptions continuously; record acknowledged edits."""
    def one(m):
        with httpx.Client(base_url=site.base, timeout=30) as c:
            try:
                login(c, m["email"], PASSWORD)
            except (SystemExit, httpx.HTTPError):
                return
            n = 0
            while not stop.is_set():
                try:
                    page = c.get(f"/merchant/enterprises/{m['enterprise_id']}/edit")
                    if page.status_code != 200:
                        continue
                    _a, fields = form_fields(page.text, "form-card")
                    n += 1
                    token = f"FAULTEDIT{m['enterprise_id']}X{n}"
                    data = [(k, v) for k, v in fields if k != "description"] + [("description", f"故障测试 {token} 描述")]
                    r = c.post(f"/merchant/enterprises/{m['enterprise_id']}/edit", data=as_form(data))
                    if r.status_code in (302, 303):
                        acks.setdefault(m["enterprise_id"], []).append(token)
                except httpx.HTTPError:
                    pass  # not acknowledged: the user saw an error and may retry
    threads = [threading.Thread(target=one, args=(m,)) for m in merchants]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def lost_edits(acks: dict) -> list[str]:
    problems = []
    for ent_id, tokens in acks.items():
        last = tokens[-1]
        live = sql("SELECT description FROM enterprise WHERE id=:e", {"e": ent_id})[0][0] or ""
        pending = [str(p) for (p,) in sql(
            "SELECT payload::text FROM application WHERE enterprise_id=:e AND status='pending'", {"e": ent_id})]
        if last not in live and not any(last in p for p in pending):
            problems.append(f"enterprise {ent_id}: acknowledged edit {last} lost")
    return problems


# --------------------------------------------------------------------------- faults


def fault_worker(site: Site, prober: Prober, merchants: list[dict]) -> dict:
    acks: dict = {}
    stop = threading.Event()
    writer = threading.Thread(target=edit_burst, args=(site, merchants, stop, acks))
    t0 = time.monotonic()
    writer.start()
    time.sleep(2)
    killed = []
    for _ in range(6):
        workers = site.workers()
        if workers:
            victim = random.choice(workers)
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
        time.sleep(1.5)
    stop.set()
    writer.join(60)
    t1 = time.monotonic()
    recovered = wait_for(site.up, 60)
    lost = lost_edits(acks)
    return {"what": f"kill -9 of {len(killed)} gunicorn workers during merchant edits",
            "during": prober.window(t0, t1), "recovered_after_s": recovered,
            "acknowledged_writes": sum(len(v) for v in acks.values()), "lost": lost}


def bulk_changes(token: str, count: int) -> list[int]:
    """Change ``count`` certified enterprises' descriptions in one process (through the ORM, so
    the outbox is written in the same transactions) and return their ids."""
    code = f"""
import sys
from marketplace import create_app
from marketplace.extensions import db
from marketplace.models import Enterprise, Status
from sqlalchemy import select
app = create_app({{"INSTANCE_PATH": {str(OUT / 'faults_instance')!r}, "DATABASE_URL": {SITE_PG + DB!r},
                  "SEARCH_INDEX_DIR": {str(INDEX)!r}, "SEARCH_SYNC_INLINE": False}})
with app.app_context():
    ents = db.session.scalars(select(Enterprise).where(Enterprise.status == Status.CERTIFIED)
                              .order_by(Enterprise.id).limit({count})).all()
    for i, e in enumerate(ents):
        e.description = (e.description or "").split(" ZZ")[0] + " ZZ {token} "
        if i % 20 == 19:
            db.session.commit()
    db.session.commit()
    print(",".join(str(e.id) for e in ents))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return [int(x) for x in out.stdout.strip().splitlines()[-1].split(",")]


def fault_applier(site: Site, prober: Prober) -> dict:
    token = "applierkill" + uuid.uuid4().hex[:6]
    t0 = time.monotonic()
    kills = 0
    changer = threading.Thread(target=lambda: ids.extend(bulk_changes(token, 200)))
    ids: list[int] = []
    changer.start()
    while changer.is_alive() or kills < 4:
        time.sleep(random.uniform(0.3, 1.2))
        for pid in site.appliers():
            os.kill(pid, signal.SIGKILL)
            kills += 1
        if kills >= 8:
            break
    changer.join()
    t1 = time.monotonic()
    found = wait_for(lambda: api_total(site, token) == len(ids), 180, 2)
    return {"what": f"kill -9 of the search applier {kills} times while 200 enterprise changes are indexed",
            "during": prober.window(t0, t1), "recovered_after_s": found,
            "acknowledged_writes": len(ids),
            "lost": [] if found is not None else [f"index has {api_total(site, token)} of {len(ids)} changed enterprises"]}


def fault_index(site: Site, prober: Prober) -> dict:
    brand = sql("SELECT b.name FROM brand b JOIN enterprise e ON e.id=b.enterprise_id "
                "WHERE e.status='certified' ORDER BY e.id LIMIT 1")[0][0]
    before = api_total(site, brand)
    t0 = time.monotonic()
    shutil.rmtree(INDEX, ignore_errors=True)
    time.sleep(20)
    t1 = time.monotonic()
    found = wait_for(lambda: api_total(site, brand) == before and INDEX.exists(), 240, 2)
    return {"what": "rm -rf of the search index directory while serving",
            "during": prober.window(t0, t1), "recovered_after_s": found, "acknowledged_writes": 0,
            "lost": [] if found is not None else [f"search for {brand}: {api_total(site, brand)} hits, {before} before"]}


def fault_pool(site: Site, prober: Prober) -> dict:
    """The database accepts no connection for the site: its role's limit is reached (set to 0
    here) and its pooled connections are cut, as when another client has taken every slot."""
    sql(f'ALTER ROLE "{ROLE}" CONNECTION LIMIT 0', db="postgres")
    try:
        sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r", {"r": ROLE}, db="postgres")
        t0 = time.monotonic()
        time.sleep(15)
        t1 = time.monotonic()
    finally:
        sql(f'ALTER ROLE "{ROLE}" CONNECTION LIMIT -1', db="postgres")
    recovered = wait_for(site.up, 120)
    token = "poolfull" + uuid.uuid4().hex[:6]
    ids = bulk_changes(token, 20)
    indexed = wait_for(lambda: api_total(site, token) == len(ids), 120, 2)
    return {"what": "no database connection available (role limit reached, pooled connections cut) for 15 s",
            "during": prober.window(t0, t1), "recovered_after_s": recovered, "acknowledged_writes": len(ids),
            "lost": [] if indexed is not None else ["changes after the fault are not indexed (applier dead?)"]}


def fault_pgstop(site: Site, prober: Prober, merchants: list[dict]) -> dict:
    acks: dict = {}
    stop = threading.Event()
    writer = threading.Thread(target=edit_burst, args=(site, merchants, stop, acks))
    writer.start()
    time.sleep(2)
    t0 = time.monotonic()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "stop", "-m", "fast"], check=True)
    try:
        time.sleep(10)
    finally:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "start"], check=True)
    t1 = time.monotonic()
    recovered = wait_for(site.up, 120)
    time.sleep(3)
    stop.set()
    writer.join(60)
    token = "pgstop" + uuid.uuid4().hex[:6]
    ids = bulk_changes(token, 20)
    indexed = wait_for(lambda: api_total(site, token) == len(ids), 120, 2)
    lost = lost_edits(acks) + ([] if indexed is not None else ["changes after the restart are not indexed"])
    return {"what": "PostgreSQL stopped for 10 s (pg_ctlcluster stop -m fast) and started",
            "during": prober.window(t0, t1), "recovered_after_s": recovered,
            "acknowledged_writes": sum(len(v) for v in acks.values()) + len(ids), "lost": lost}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="worker,applier,index,pool")
    parser.add_argument("--pgstop", action="store_true", help="also stop PostgreSQL for 10 s (affects everyone)")
    parser.add_argument("--reuse", action="store_true", help="keep the existing faults database")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.reuse:
        prepare_database()
    site = Site()
    site.start()
    results = {}
    try:
        merchants = make_merchants(4)
        ent_ids = [r[0] for r in sql("SELECT id FROM enterprise WHERE status='certified' LIMIT 50")]
        prober = Prober(site.base, ent_ids)
        prober.start()
        time.sleep(3)
        faults = [f for f in args.only.split(",") if f]
        if args.pgstop:
            faults.append("pgstop")
        for name in faults:
            print(f"== fault: {name}", file=sys.stderr, flush=True)
            fn = {"worker": lambda: fault_worker(site, prober, merchants), "applier": lambda: fault_applier(site, prober),
                  "index": lambda: fault_index(site, prober), "pool": lambda: fault_pool(site, prober),
                  "pgstop": lambda: fault_pgstop(site, prober, merchants)}[name]
            results[name] = fn()
            results[name]["after"] = None
            t = time.monotonic()
            time.sleep(5)
            results[name]["after"] = prober.window(t, time.monotonic())
            print(json.dumps(results[name], ensure_ascii=False), file=sys.stderr, flush=True)
        prober.stop.set()
    finally:
        site.stop()
    (OUT / "faults.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print("\n| fault | what users saw during it | slowest answer | recovered by itself | after (5 s) | acknowledged writes | lost |")
    print("|---|---|---:|---|---|---:|---|")
    for name, r in results.items():
        seen = ", ".join(f"{k} ×{v}" for k, v in r["during"]["outcomes"].items())
        after = ", ".join(f"{k} ×{v}" for k, v in (r["after"] or {}).get("outcomes", {}).items())
        rec = "no" if r["recovered_after_s"] is None else f"yes, {r['recovered_after_s']} s"
        print(f"| {r['what']} | {seen} | {r['during']['max_s']} s | {rec} | {after} | {r['acknowledged_writes']} | "
              f"{len(r['lost'])}{': ' + '; '.join(r['lost'][:3]) if r['lost'] else ''} |")


if __name__ == "__main__":
    main()
