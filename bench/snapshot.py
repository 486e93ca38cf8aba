"""Behaviour snapshots: record the public pages and the API on the demo data, compare two records.

Refactors must not change what visitors and API clients get. This tool makes that checkable:

    .venv/bin/python bench/snapshot.py record /tmp/snap/before      # on the old code
    .venv/bin/python bench/snapshot.py record /tmp/snap/after       # on the new code
    .venv/bin/python bench/snapshot.py compare /tmp/snap/before /tmp/snap/after

``record`` builds a fresh instance in a temporary folder (SQLite, its own search index, a fixed
``SECRET_KEY``), loads the shipped demo data exactly as ``python app.py`` does, and requests a
fixed list of URLs with the Flask test client: home, browse with filters, enterprise pages,
industry/city/platform pages, search, verify, certificates, badges, sitemaps, feeds and every
``/api/v1`` endpoint, including bad parameters. Each response (status, the headers that carry
meaning, body) goes to one file; ``index.json`` lists them.

What is pinned so two runs of the same code are byte-identical:
- the wall clock: ``time-machine`` stops it at ``--at`` (default 2026-03-10 04:00 UTC, noon in
  China, where the server's and China's dates agree). It patches the C-level clock, so code
  that still calls ``datetime.now()`` or ``date.today()`` is pinned as well as ``marketplace.clock``;
- randomness that reaches pages: certificate numbers come from ``secrets.randbelow``, which is
  replaced by a seeded generator for the duration of the run;
- caches that would make later requests depend on earlier ones are off (page cache), and the
  search index is applied once before the first request (no background applier thread).

``--late`` adds a second pass at 23:30 China time on the day the demo certificates expire and at
00:30 China time the day after, for the certificate pages and the API (where "today" matters).

``compare --squash-whitespace`` also ignores white space between tags and at line edges, for
template refactors that move layout white space only.

``compare`` normalises only what legitimately varies (CSRF tokens, the search box's random element
id) and prints a summary plus a
unified diff of each differing response (``--context``/``--max-lines`` bound the output).
"""
from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import random
import re
import secrets
import shutil
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_AT = "2026-03-10T04:00:00+00:00"
SEED = 20121108
HEADERS = ("Content-Type", "Location", "Cache-Control", "Content-Disposition", "Last-Modified", "ETag",
           "Access-Control-Allow-Origin", "X-Robots-Tag", "Vary")
SEARCH_QUERIES = ("陶瓷", "佛山 家电", "LED 灯具", "taoci", "岭苑", "旗舰店", "zz不存在的词", "電子產品", "dg")
VERIFY_HOSTS = ("https://evil.example/", "https://www.tmall.com/", "not a url")


# ------------------------------------------------------------------ record


def _build_app(workdir: Path):
    from marketplace import create_app

    return create_app({
        "INSTANCE_PATH": str(workdir / "instance"),
        "DATABASE_URL": f"sqlite:///{workdir / 'snapshot.sqlite3'}",
        "SEARCH_INDEX_DIR": str(workdir / "index"),
        "SECRET_KEY": "snapshot-fixed-secret-key",
        "SERVER_NAME_FOR_LINKS": "http://gdws.example",
        "LOAD_DEMO_DATA": True,
        "PAGE_CACHE_SECONDS": 0,
        "SEARCH_SYNC_INLINE": False,
        "RATELIMIT_ENABLED": False,
        "STATIC_COMPRESS": False,
        "LOG_LEVEL": "WARNING",
    })


def _pick(items: list, count: int) -> list:
    """``count`` items spread evenly over ``items`` (deterministic)."""
    if len(items) <= count:
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def _requests(app) -> list[str]:
    """The fixed request list, filled in from the (deterministic) demo database."""
    from sqlalchemy import select

    from marketplace.extensions import db
    from marketplace.models import Badge, Certification, City, Enterprise, Industry, Platform, Shop

    with app.app_context():
        ent_ids = list(db.session.scalars(select(Enterprise.id).order_by(Enterprise.id)))
        shops = list(db.session.execute(select(Shop.id, Shop.url).order_by(Shop.id)))
        certs = list(db.session.scalars(select(Certification.number).order_by(Certification.id)))
        usccs = list(db.session.scalars(select(Enterprise.uscc).order_by(Enterprise.id)))
        industries = list(db.session.scalars(select(Industry.slug).order_by(Industry.id)))
        cities = list(db.session.scalars(select(City.slug).order_by(City.id)))
        platforms = list(db.session.scalars(select(Platform.slug).order_by(Platform.id)))
        badges = list(db.session.scalars(select(Badge.slug).order_by(Badge.id)))

    urls = ["/", "/about", "/platforms", "/enterprises", "/enterprises?page=2", "/enterprises?page=999",
            "/enterprises?page=abc", "/enterprises?sort=name", "/enterprises?sort=popular", "/enterprises?sort=bogus",
            "/robots.txt", "/sitemap.xml", "/sitemaps/1.xml", "/sitemaps/2.xml", "/feeds/new.atom", "/developers",
            "/api", "/complaints/lookup", "/complaints/lookup?ref=X-1", "/report", "/search", "/verify",
            "/account/login", "/account/register", "/account/forgot"]
    for ind, city, plat in zip(industries[:3], cities[:3], platforms[:3]):
        urls += [f"/enterprises?industry={ind}", f"/enterprises?city={city}&industry={ind}",
                 f"/enterprises?platform={plat}&sort=name", f"/enterprises?region=珠三角&platform={plat}"]
    urls += [f"/enterprises?badge={badges[0]}", "/enterprises?shop_type=旗舰店", "/enterprises?industry=nope",
             "/enterprises?city=guangzhou&region=粤东"]
    urls += [f"/industries/{s}" for s in industries] + [f"/industries/{industries[0]}?page=2&sort=name"]
    urls += [f"/cities/{s}" for s in cities] + [f"/cities/{cities[0]}?industry={industries[0]}"]
    urls += [f"/platforms/{s}" for s in platforms] + ["/industries/nope", "/cities/nope", "/platforms/nope"]
    urls += [f"/feeds/industries/{industries[0]}.atom", f"/feeds/cities/{cities[0]}.atom"]
    picked = _pick(ent_ids, 20)
    urls += [f"/enterprises/{i}" for i in picked] + [f"/enterprises/{ent_ids[-1] + 1000}"]
    urls += [f"/qr/enterprises/{picked[0]}.svg"]
    for number in _pick(certs, 6):
        urls += [f"/certificates/{number}", f"/badges/{number}.svg", f"/qr/certificates/{number}.svg"]
    urls += ["/certificates/GDWS-2020-000000", "/certificates/nonsense", "/badges/GDWS-2020-000000.svg"]
    for q in SEARCH_QUERIES:
        urls += [f"/search?{urlencode({'q': q})}", f"/api/v1/search?{urlencode({'q': q})}",
                 f"/api/v1/suggest?{urlencode({'q': q})}"]
    urls += [f"/search?{urlencode({'q': '陶瓷', 'kind': 'shop', 'sort': 'newest', 'page': 2})}",
             f"/search?{urlencode({'q': '家电', 'industry': industries[1], 'city': cities[3]})}",
             f"/search?{urlencode({'q': '家电', 'sort': 'visits'})}", "/search?q=%E9%99%B6&page=abc",
             "/api/v1/search?q=%E9%99%B6&per_page=500", "/api/v1/search?q=a&sort=bogus"]
    picked_shops = _pick(shops, 8)
    urls += [f"/verify?{urlencode({'q': url})}" for _, url in picked_shops[:5]]
    urls += [f"/verify?{urlencode({'url': h})}" for h in VERIFY_HOSTS]
    urls += [f"/verify?{urlencode({'certificate': n})}" for n in _pick(certs, 2)] + ["/verify?certificate=GDWS-1"]
    urls += [f"/verify?{urlencode({'uscc': u})}" for u in _pick(usccs, 2)] + ["/verify?uscc=123", "/verify?q=岭苑"]
    urls += ["/api/v1/", "/api/v1/openapi.json", "/api/v1/industries", "/api/v1/cities", "/api/v1/platforms",
             "/api/v1/enterprises", "/api/v1/enterprises?page=2&per_page=5", "/api/v1/enterprises?sort=name",
             f"/api/v1/enterprises?industry={industries[0]}&city={cities[0]}", "/api/v1/enterprises?industry=nope",
             "/api/v1/enterprises?page=0", "/api/v1/enterprises?page=abc", "/api/v1/enterprises?per_page=101",
             "/api/v1/enterprises?region=bogus", "/api/v1/enterprises?sort=bogus", "/api/v1/enterprises?badge=x",
             f"/api/v1/enterprises?platform={platforms[0]}&shop_type=旗舰店", "/api/v1/shops",
             f"/api/v1/shops?platform={platforms[1]}&per_page=3", "/api/v1/shops?shop_type=x",
             "/api/v1/verify", "/api/v1/verify?url=https://evil.example/"]
    urls += [f"/api/v1/enterprises/{i}" for i in picked[:10]] + ["/api/v1/enterprises/0", "/api/v1/enterprises/99999"]
    urls += [f"/api/v1/shops/{sid}" for sid, _ in picked_shops] + ["/api/v1/shops/99999"]
    urls += [f"/api/v1/verify?{urlencode({'url': url})}" for _, url in picked_shops[:4]]
    urls += [f"/api/v1/verify?{urlencode({'certificate': n})}" for n in _pick(certs, 3)]
    urls += [f"/api/v1/verify?{urlencode({'uscc': u})}" for u in _pick(usccs, 2)]
    # /go/ counts a click (a write): last, so no earlier page sees the counts change.
    urls += [f"/go/{sid}" for sid, _ in picked_shops[:3]] + ["/go/99999"]
    return urls


def _late_requests(app) -> list[str]:
    """Requests whose answer depends on which China day it is (certificate validity)."""
    from sqlalchemy import select

    from marketplace.extensions import db
    from marketplace.models import Certification, Enterprise, Shop

    with app.app_context():
        cert = db.session.scalars(select(Certification).order_by(Certification.id)).first()
        ent_id, number, uscc = cert.enterprise_id, cert.number, db.session.get(Enterprise, cert.enterprise_id).uscc
        shop_url = db.session.scalar(select(Shop.url).where(Shop.enterprise_id == ent_id).order_by(Shop.id))
    return [f"/enterprises/{ent_id}", f"/certificates/{number}", f"/badges/{number}.svg",
            f"/verify?{urlencode({'certificate': number})}", f"/verify?{urlencode({'url': shop_url})}",
            f"/verify?{urlencode({'uscc': uscc})}", f"/api/v1/verify?{urlencode({'certificate': number})}",
            f"/api/v1/verify?{urlencode({'url': shop_url})}", f"/api/v1/enterprises/{ent_id}", "/sitemaps/1.xml"]


def _file_name(prefix: str, url: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", url.strip("/"))[:60] or "root"
    return f"{prefix}{slug}-{hashlib.sha1(url.encode()).hexdigest()[:8]}.txt"


def _save(out: Path, prefix: str, client, urls: list[str], index: dict) -> None:
    for url in urls:
        resp = client.get(url)
        headers = {h: resp.headers[h] for h in HEADERS if h in resp.headers}
        body = resp.get_data()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = "<binary sha256=" + hashlib.sha256(body).hexdigest() + ">"
        name = _file_name(prefix, url)
        head = "\n".join([f"GET {url}", f"status: {resp.status_code}"] + [f"{k}: {v}" for k, v in headers.items()])
        (out / name).write_text(head + "\n\n" + text, encoding="utf-8")
        index[prefix + url] = name


def record(out: Path, at: datetime, late: bool) -> None:
    import time_machine

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    workdir = Path(tempfile.mkdtemp(prefix="gdws-snapshot-"))
    seeded = random.Random(SEED)
    original_randbelow = secrets.randbelow
    secrets.randbelow = seeded.randrange  # certificate numbers, deterministic for this run only
    index: dict[str, str] = {}
    try:
        with time_machine.travel(at, tick=False):
            app = _build_app(workdir)
            from marketplace.bootstrap import prepare_site

            with app.app_context():
                prepare_site(app)
            urls = _requests(app)
            _save(out, "", app.test_client(), urls, index)
        if late:
            _record_late(app, out, at, index)
    finally:
        secrets.randbelow = original_randbelow
        shutil.rmtree(workdir, ignore_errors=True)
    meta = {"at": at.isoformat(), "late": late, "requests": index}
    (out / "index.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"recorded {len(index)} responses into {out}")


def _record_late(app, out: Path, at: datetime, index: dict) -> None:
    """Requests at 23:30 China time on the expiry day of the demo certificates, and 00:30 after."""
    import time_machine
    from sqlalchemy import select

    from marketplace.extensions import db
    from marketplace.models import Certification

    with time_machine.travel(at, tick=False), app.app_context():
        expires = db.session.scalars(select(Certification.valid_until).order_by(Certification.id)).first()
        urls = _late_requests(app)
    eve = datetime(expires.year, expires.month, expires.day, 15, 30, tzinfo=timezone.utc)  # 23:30 China
    for label, instant in (("late-eve--", eve), ("late-after--", eve + timedelta(hours=1))):
        with time_machine.travel(instant, tick=False):
            _save(out, label, app.test_client(), urls, index)


# ------------------------------------------------------------------ compare

_NORMALISE = [
    (re.compile(r'(name="csrf_token"[^>]*value=")[^"]*(")'), r"\1<csrf>\2"),
    (re.compile(r'(<meta name="csrf-token" content=")[^"]*(")'), r"\1<csrf>\2"),
    (re.compile(r'\bq-\d{6}\b'), "q-<random>"),  # search box element id: Jinja's ``random`` per render
]


_BETWEEN_TAGS = re.compile(r">\s+<")
_LINE_EDGES = re.compile(r"^[ \t]+|[ \t]+$", re.M)


def normalise(text: str, squash_whitespace: bool = False) -> str:
    """Replace what legitimately differs between two runs of the same code (CSRF tokens, random ids).

    ``squash_whitespace`` also drops white space between tags and at line edges: what a template
    refactor moves around without changing what a browser shows (outside ``<pre>``, which no
    recorded page uses).
    """
    for pattern, repl in _NORMALISE:
        text = pattern.sub(repl, text)
    if squash_whitespace:
        text = _BETWEEN_TAGS.sub("><", _LINE_EDGES.sub("", text)).replace("\n<", "<").replace(">\n", ">")
    return text


def compare(a: Path, b: Path, context: int, max_lines: int, squash_whitespace: bool = False) -> int:
    ia = json.loads((a / "index.json").read_text(encoding="utf-8"))["requests"]
    ib = json.loads((b / "index.json").read_text(encoding="utf-8"))["requests"]
    only_a, only_b = sorted(set(ia) - set(ib)), sorted(set(ib) - set(ia))
    same, differ = 0, []
    for url in [u for u in ia if u in ib]:
        ta = normalise((a / ia[url]).read_text(encoding="utf-8"), squash_whitespace)
        tb = normalise((b / ib[url]).read_text(encoding="utf-8"), squash_whitespace)
        if ta == tb:
            same += 1
        else:
            differ.append((url, ta, tb))
    for url, ta, tb in differ:
        print(f"=== differs: {url}")
        lines = list(difflib.unified_diff(ta.splitlines(), tb.splitlines(), str(a / ia[url]), str(b / ib[url]),
                                          n=context, lineterm=""))
        print("\n".join(lines[:max_lines]) + (f"\n... ({len(lines) - max_lines} more diff lines)" if len(lines) > max_lines else ""))
    for url in only_a:
        print(f"=== only in {a}: {url}")
    for url in only_b:
        print(f"=== only in {b}: {url}")
    print(f"\nsummary: {same} identical, {len(differ)} differ, {len(only_a)} only in {a.name}, "
          f"{len(only_b)} only in {b.name}")
    return 1 if differ or only_a or only_b else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="record the responses into DIR (replaced)")
    rec.add_argument("dir", type=Path)
    rec.add_argument("--at", default=DEFAULT_AT, help=f"the pinned instant (ISO 8601, default {DEFAULT_AT})")
    rec.add_argument("--no-late", dest="late", action="store_false",
                     help="skip the pass at 23:30 / 00:30 China time around the certificates' expiry")
    cmp_ = sub.add_parser("compare", help="compare two recorded directories; exit 1 if they differ")
    cmp_.add_argument("a", type=Path)
    cmp_.add_argument("b", type=Path)
    cmp_.add_argument("--context", type=int, default=1)
    cmp_.add_argument("--max-lines", type=int, default=40)
    cmp_.add_argument("--squash-whitespace", action="store_true",
                      help="ignore white space between tags and at line edges (template layout only)")
    args = parser.parse_args(argv)
    if args.command == "record":
        record(args.dir, datetime.fromisoformat(args.at), args.late)
        return 0
    return compare(args.a, args.b, args.context, args.max_lines, args.squash_whitespace)


if __name__ == "__main__":
    sys.exit(main())
