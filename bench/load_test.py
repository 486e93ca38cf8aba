"""Load test on loopback: gunicorn + the search applier + PostgreSQL, a realistic mix, bounded time.

16 virtual users for ~60 s (closed loop, no think time):
- consumers (12): home, browse with filters, enterprise pages, search with varied queries
  (Chinese, pinyin, two words, no-hit), verify a shop URL, follow a shop link (/go/<id>);
- merchants (3): each edits the description of their own certified enterprise through the real
  form (GET form, POST with its CSRF token) — every edit goes to review as an application;
- staff (1): opens the review queue, approves the oldest pending application through the form.

Afterwards it checks that no write was lost: every acknowledged click-through has its
click_event row; the last acknowledged edit of each merchant is either live (approved) or in a
pending application; every acknowledged approval is approved in the database. It reports any
5xx, p50/p95 per page kind and the page cache's hit ratio on the anonymous public pages (home,
browse, enterprise, search: the share answered "hit" or "stale" by X-Page-Cache). Exit status 1 on any 5xx or lost write.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_h7_large \\
    SEARCH_INDEX_DIR=/tmp/h7/large/index .venv/bin/python bench/load_test.py [--duration 60]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import logging

logging.getLogger("httpx").setLevel(logging.WARNING)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

MERCHANT_PASSWORD = "load-test-merchant-pass-2026"
STAFF_PASSWORD = "load-test-reviewer-pass-2026"


class FormFields(HTMLParser):
    """The fields a browser would submit for the first <form> matching ``selector`` (by id/class)."""

    def __init__(self, want: str):
        super().__init__(convert_charrefs=True)
        self.want, self.depth, self.action = want, 0, None
        self.fields: list[tuple[str, str]] = []
        self._textarea = None
        self._select = None
        self._first_option = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form" and not self.depth and self.action is None:
            if self.want in (a.get("id", ""), *a.get("class", "").split()) or self.want == "*":
                self.depth, self.action = 1, a.get("action", "")
            return
        if not self.depth:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea":
            self._textarea = [a.get("name", ""), ""]
        elif tag == "select":
            self._select, self._first_option = a.get("name", ""), None
        elif tag == "option" and self._select is not None:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self.fields.append((self._select, a.get("value", "")))
                self._select = "__done__"

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            self.fields.append(tuple(self._textarea))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            if self._select != "__done__" and self._first_option is not None:
                self.fields.append((self._select, self._first_option))
            self._select = None
        elif tag == "form" and self.depth:
            self.depth = 0


def form_fields(html: str, want: str) -> tuple[str | None, list[tuple[str, str]]]:
    p = FormFields(want)
    p.feed(html)
    return p.action, p.fields


def as_form(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Repeated names (checkboxes) as lists, the shape httpx posts as a form."""
    out: dict[str, list[str]] = defaultdict(list)
    for k, v in fields:
        out[k].append(v)
    return dict(out)


class Stats:
    """Latencies and statuses per page kind, shared by all virtual users."""

    def __init__(self):
        self.lock = threading.Lock()
        self.lat = defaultdict(list)
        self.status = defaultdict(lambda: defaultdict(int))
        self.errors: list[str] = []
        self.cache = defaultdict(lambda: defaultdict(int))  # kind -> X-Page-Cache value -> count

    def record(self, kind: str, started: float, resp: httpx.Response | None, exc: Exception | None = None):
        ms = (time.perf_counter() - started) * 1000
        with self.lock:
            self.lat[kind].append(ms)
            code = resp.status_code if resp is not None else "exception"
            self.status[kind][code] += 1
            if resp is not None:
                self.cache[kind][resp.headers.get("X-Page-Cache", "none")] += 1
            if exc is not None or (resp is not None and resp.status_code >= 500):
                self.errors.append(f"{kind} {resp.request.url if resp is not None else ''} {code} {exc or ''}")


def timed(client: httpx.Client, stats: Stats, kind: str, method: str, url: str, **kw) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        resp = client.request(method, url, **kw)
    except httpx.HTTPError as exc:
        stats.record(kind, started, None, exc)
        return None
    stats.record(kind, started, resp)
    return resp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(run: str, merchants: int, staff: int) -> dict:
    """Accounts and ownership for the run, made through the services (not timed)."""
    from sqlalchemy import select, text

    from marketplace import create_app
    from marketplace.extensions import db
    from marketplace.models import Enterprise, Role, Status
    from marketplace.services import accounts

    app = create_app({"INSTANCE_PATH": str(OUT / "load_instance")})
    with app.app_context():
        picked = db.session.scalars(
            select(Enterprise).where(Enterprise.status == Status.CERTIFIED, Enterprise.owner_id.is_(None))
            .order_by(Enterprise.id.desc()).limit(merchants)).all()
        out = {"merchants": [], "staff": []}
        for i, ent in enumerate(picked):
            email = f"load-m{i}-{run}@load.example"
            user = accounts.create_user(email, MERCHANT_PASSWORD, role=Role.MERCHANT)
            ent.owner_id = user.id
            out["merchants"].append({"email": email, "enterprise_id": ent.id})
        for i in range(staff):
            email = f"load-s{i}-{run}@load.example"
            accounts.create_user(email, STAFF_PASSWORD, role=Role.STAFF)
            out["staff"].append({"email": email})
        db.session.commit()
        rows = db.session.execute(text(
            "SELECT s.id, s.url FROM shop s JOIN enterprise e ON e.id = s.enterprise_id "
            "WHERE s.status='certified' AND e.status='certified' ORDER BY random() LIMIT 300")).all()
        out["shops"] = [(r[0], r[1]) for r in rows]
        out["enterprises"] = [r[0] for r in db.session.execute(text(
            "SELECT id FROM enterprise WHERE status='certified' ORDER BY random() LIMIT 500"))]
        out["brands"] = [r[0] for r in db.session.execute(text(
            "SELECT b.name FROM brand b JOIN enterprise e ON e.id=b.enterprise_id "
            "WHERE e.status='certified' ORDER BY random() LIMIT 200"))]
        out["cities"] = [r[0] for r in db.session.execute(text("SELECT slug FROM city"))]
        out["industries"] = [r[0] for r in db.session.execute(text("SELECT slug FROM industry"))]
        out["start_clicks"] = {sid: 0 for sid, _ in out["shops"]}
        out["t0"] = db.session.scalar(text("SELECT now() AT TIME ZONE 'utc'"))
    return out


def login(client: httpx.Client, email: str, password: str) -> None:
    page = client.get("/account/login")
    _action, fields = form_fields(page.text, "*")
    data = dict(fields)
    data.update(email=email, password=password)
    resp = client.post("/account/login", data=data)  # (single-valued fields only)
    if resp.status_code not in (302, 303):
        raise SystemExit(f"login failed for {email}: {resp.status_code}")


def consumer(base, data, stats, stop, rnd, acks):
    from pypinyin import lazy_pinyin

    with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as c:
        while not stop.is_set():
            r = rnd.random()
            if r < 0.15:
                timed(c, stats, "home", "GET", "/")
            elif r < 0.35:
                city, ind = rnd.choice(data["cities"]), rnd.choice(data["industries"])
                url = rnd.choice([f"/enterprises?city={city}", f"/enterprises?industry={ind}&city={city}",
                                  f"/enterprises?industry={ind}&sort=name&page=2", "/enterprises"])
                timed(c, stats, "browse", "GET", url)
            elif r < 0.62:
                timed(c, stats, "enterprise", "GET", f"/enterprises/{rnd.choice(data['enterprises'])}")
            elif r < 0.85:
                b = rnd.choice(data["brands"])
                q = rnd.choice([b, "".join(lazy_pinyin(b)), f"{b} 旗舰店", "佛山 陶瓷", "家電", "meidi", "无此品牌xyz"])
                timed(c, stats, "search", "GET", f"/search?q={quote(q)}")
            elif r < 0.93:
                sid, url = rnd.choice(data["shops"])
                timed(c, stats, "verify", "GET", f"/verify?url={quote(url)}")
            else:
                sid, url = rnd.choice(data["shops"])
                resp = timed(c, stats, "go", "GET", f"/go/{sid}")
                if resp is not None and resp.status_code in (302, 303):
                    with stats.lock:
                        acks["clicks"][sid] += 1


def merchant(base, account, run, stats, stop, rnd, acks):
    with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as c:
        login(c, account["email"], MERCHANT_PASSWORD)
        ent_id = account["enterprise_id"]
        n = 0
        while not stop.is_set():
            timed(c, stats, "merchant_dashboard", "GET", "/merchant/")
            page = timed(c, stats, "merchant_edit_form", "GET", f"/merchant/enterprises/{ent_id}/edit")
            if page is None or page.status_code != 200:
                continue
            _action, fields = form_fields(page.text, "form-card")
            n += 1
            token = f"LOADTEST-{run}-{ent_id}-{n}"
            data = [(k, v) for k, v in fields if k != "description"]
            data.append(("description", f"负载测试修改 {token}。主营产品品质可靠，欢迎选购。"))
            resp = timed(c, stats, "merchant_edit_post", "POST", f"/merchant/enterprises/{ent_id}/edit",
                         data=as_form(data))
            if resp is not None and resp.status_code in (302, 303):
                with stats.lock:
                    acks["edits"][ent_id].append(token)
            time.sleep(rnd.uniform(0.5, 1.5))  # a person types between edits


def reviewer(base, account, stats, stop, rnd, acks):
    with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as c:
        login(c, account["email"], STAFF_PASSWORD)
        while not stop.is_set():
            queue = timed(c, stats, "staff_queue", "GET", "/staff/review")
            ids = re.findall(r'href="/staff/review/(\d+)', queue.text if queue is not None else "")
            if not ids:
                time.sleep(0.5)
                continue
            app_id = int(ids[0])
            page = timed(c, stats, "staff_application", "GET", f"/staff/review/{app_id}")
            if page is None or page.status_code != 200:
                continue
            action, fields = form_fields(page.text, "approve-form")
            if not action:
                continue
            resp = timed(c, stats, "staff_approve", "POST", action, data=as_form(fields))
            if resp is not None and resp.status_code in (302, 303):
                # A refused decision (the merchant changed the application after the reviewer
                # opened it: EditConflict) redirects back to the same application with a message;
                # only a redirect elsewhere acknowledges the approval.
                refused = urlsplit(resp.headers.get("location", "")).path.rstrip("/") == f"/staff/review/{app_id}"
                with stats.lock:
                    acks["refused" if refused else "approvals"].append(app_id)
            time.sleep(rnd.uniform(0.5, 1.0))


def check_writes(data: dict, acks: dict, database_url: str) -> list[str]:
    """Compare what the server acknowledged with what the database holds."""
    from sqlalchemy import create_engine, text

    problems = []
    engine = create_engine(database_url)
    with engine.connect() as conn:
        for sid, n in acks["clicks"].items():
            got = conn.execute(text("SELECT count(*) FROM click_event WHERE shop_id=:s AND at >= :t0"),
                               {"s": sid, "t0": data["t0"]}).scalar()
            if got < n:
                problems.append(f"shop {sid}: {n} click-throughs acknowledged, {got} recorded")
        for ent_id, tokens in acks["edits"].items():
            last = tokens[-1]
            live = conn.execute(text("SELECT description FROM enterprise WHERE id=:e"), {"e": ent_id}).scalar() or ""
            pending = [json.dumps(p, ensure_ascii=False) if not isinstance(p, str) else p for (p,) in conn.execute(text(
                "SELECT payload FROM application WHERE enterprise_id=:e AND status='pending'"), {"e": ent_id})]
            if last not in live and not any(last in p for p in pending):
                problems.append(f"enterprise {ent_id}: last acknowledged edit {last} is neither live nor pending")
        for app_id in acks["approvals"]:
            status = conn.execute(text("SELECT status FROM application WHERE id=:a"), {"a": app_id}).scalar()
            if status != "approved":
                problems.append(f"application {app_id}: approval acknowledged, status {status}")
    engine.dispose()
    return problems


PUBLIC_KINDS = ("home", "browse", "enterprise", "search")  # anonymous, cacheable


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--consumers", type=int, default=12)
    parser.add_argument("--merchants", type=int, default=3)
    parser.add_argument("--staff", type=int, default=1)
    parser.add_argument("--base-url", default="", help="use a running server instead of starting one")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgresql"):
        raise SystemExit("set DATABASE_URL to the PostgreSQL database to load (10,000 / 50,000 set)")
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SECRET_KEY", "bench-secret")
    os.environ["SEARCH_SYNC_INLINE"] = "false"
    run = uuid.uuid4().hex[:6]
    data = prepare(run, args.merchants, args.staff)
    procs = []
    base = args.base_url
    if not base:
        port = free_port()
        env = dict(os.environ, LOAD_DEMO_DATA="false", RATELIMIT_ENABLED="false",
                   SERVER_NAME_FOR_LINKS=f"http://127.0.0.1:{port}")  # the production shape requires it
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "search", "sync", "--loop"], cwd=ROOT, env=env,
            stdout=open(OUT / "load_applier.log", "w"), stderr=subprocess.STDOUT))
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
             "--access-logfile", "/dev/null"], cwd=ROOT, env=env,
            stdout=open(OUT / "load_gunicorn.log", "w"), stderr=subprocess.STDOUT))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(base + "/", timeout=30).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                for p in procs:
                    p.terminate()
                raise SystemExit("server did not start; see bench/out/load_gunicorn.log")
            time.sleep(0.3)
        for _ in range(3):  # warm every worker a little
            for path in ("/", "/enterprises", f"/enterprises/{data['enterprises'][0]}", "/search?q=陶瓷"):
                httpx.get(base + path, timeout=60)
    stats = Stats()
    acks = {"clicks": defaultdict(int), "edits": defaultdict(list), "approvals": [], "refused": []}
    stop = threading.Event()
    threads = []
    for i in range(args.consumers):
        threads.append(threading.Thread(target=consumer, args=(base, data, stats, stop, random.Random(i), acks)))
    for i, account in enumerate(data["merchants"]):
        threads.append(threading.Thread(target=merchant, args=(base, account, run, stats, stop, random.Random(100 + i), acks)))
    for i, account in enumerate(data["staff"]):
        threads.append(threading.Thread(target=reviewer, args=(base, account, stats, stop, random.Random(200 + i), acks)))
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(args.duration)
    stop.set()
    for t in threads:
        t.join(60)
    elapsed = time.monotonic() - started
    time.sleep(3)  # let the applier catch up before the server stops
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(30)
    problems = check_writes(data, acks, database_url)

    total = sum(len(v) for v in stats.lat.values())
    print(f"\n{len(threads)} users for {elapsed:.0f} s: {total} requests ({total / elapsed:.1f}/s), "
          f"load average before {load_before:.1f}\n")
    print("| page | requests | statuses | p50 ms | p95 ms | max ms | page cache hits |")
    print("|---|---:|---|---:|---:|---:|---:|")
    table = {}
    for kind in sorted(stats.lat):
        v = stats.lat[kind]
        sts = ", ".join(f"{k}: {n}" for k, n in sorted(stats.status[kind].items(), key=str))
        cache = dict(stats.cache[kind])
        hits = cache.get("hit", 0) + cache.get("stale", 0)
        ratio = f"{hits / len(v):.0%}" if kind in PUBLIC_KINDS and v else ""
        table[kind] = {"requests": len(v), "statuses": dict(stats.status[kind]), "p50_ms": round(pct(v, 50), 1),
                       "p95_ms": round(pct(v, 95), 1), "max_ms": round(max(v), 1), "page_cache": cache}
        print(f"| {kind} | {len(v)} | {sts} | {pct(v, 50):.0f} | {pct(v, 95):.0f} | {max(v):.0f} | {ratio} |")
    public = [k for k in stats.lat if k in PUBLIC_KINDS]
    public_total = sum(len(stats.lat[k]) for k in public)
    public_hits = sum(stats.cache[k].get("hit", 0) + stats.cache[k].get("stale", 0) for k in public)
    hit_ratio = round(public_hits / public_total, 3) if public_total else 0.0
    public_lat = [x for k in public for x in stats.lat[k]]
    print(f"\npublic pages ({', '.join(sorted(public))}): page cache hit ratio {hit_ratio:.1%} "
          f"({public_hits} of {public_total}), p95 {pct(public_lat, 95):.0f} ms")
    fivexx = [e for e in stats.errors]
    writes = {"click_throughs": sum(acks["clicks"].values()), "edits": sum(len(v) for v in acks["edits"].values()),
              "approvals": len(acks["approvals"]), "approvals_refused_as_outdated": len(acks["refused"])}
    print(f"\nacknowledged writes: {writes}")
    print(f"5xx / exceptions: {len(fivexx)}" + ("".join(f"\n  {e}" for e in fivexx[:20])))
    print(f"lost writes: {len(problems)}" + ("".join(f"\n  {p}" for p in problems[:20])))
    (OUT / "load.json").write_text(json.dumps({
        "users": len(threads), "seconds": round(elapsed), "requests": total, "pages": table,
        "writes": writes, "errors": fivexx, "page_cache_hit_ratio": hit_ratio,
        "public_p95_ms": round(pct(public_lat, 95), 1), "lost_writes": problems, "loadavg_before": load_before,
    }, indent=2, ensure_ascii=False, default=str))
    sys.exit(1 if fivexx or problems else 0)


if __name__ == "__main__":
    main()
