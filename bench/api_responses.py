"""Record the public API's answers for a fixed set of requests on the demo data, to show that a
change of code leaves them identical (or exactly how it changes them).

    python bench/api_responses.py build /tmp/api_base           # once: demo data, a few hidden listings
    python bench/api_responses.py record /tmp/api_base out.json # copy the base, replay, write answers
    python bench/api_responses.py compare before.json after.json

``record`` answers ~300 requests: every /api/v1 endpoint with valid, blank, duplicated and bad
arguments (several bad at once too), hidden and missing records, conditional requests, HEAD,
OPTIONS, POST, CORS and a rate-limit breach. Each answer is its status, headers (less the
rate-limit clock) and body. Run ``record`` with the same ``PYTHONHASHSEED`` and on the same day
(Last-Modified is never earlier than today's start) for recordings that can be compared byte for
byte; to record older code, run this file with ``PYTHONPATH`` pointing at an export of it.
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import urllib.parse
from pathlib import Path

from sqlalchemy import select


def config(d: Path, **extra) -> dict:
    return {"INSTANCE_PATH": str(d / "instance"), "DATABASE_URL": f"sqlite:///{d / 'db.sqlite3'}",
            "SEARCH_INDEX_DIR": str(d / "index"), "SECRET_KEY": "record", "SERVER_NAME_FOR_LINKS": "http://localhost",
            "PAGE_CACHE_SECONDS": 0, "STATIC_COMPRESS": False, "API_RATE_LIMIT": "100000/minute", **extra}


def build(base: Path) -> None:
    """Demo data and its search index, with one enterprise revoked, one suspended, one shop suspended."""
    from marketplace import create_app
    from marketplace.bootstrap import prepare_site
    from marketplace.extensions import db
    from marketplace.models import Enterprise, Shop, Status

    base.mkdir(parents=True, exist_ok=True)
    app = create_app(config(base))
    with app.app_context():
        prepare_site(app)
        ents = db.session.scalars(select(Enterprise).order_by(Enterprise.id)).all()
        ents[3].status = Status.REVOKED
        ents[4].status = Status.SUSPENDED
        shops = db.session.scalars(select(Shop).order_by(Shop.id)).all()
        shops[5].status = Status.SUSPENDED
        db.session.commit()
        print(len(ents), "enterprises", len(shops), "shops")


def _facts(app) -> dict:
    """Ids, slugs and values of the recorded database that the requests use."""
    from marketplace.extensions import db
    from marketplace.models import Badge, City, Enterprise, Industry, Platform, Shop, Status

    with app.app_context():
        ents = db.session.scalars(select(Enterprise).order_by(Enterprise.id)).all()
        shops = db.session.scalars(select(Shop).order_by(Shop.id)).all()
        public = [e for e in ents if e.status == Status.CERTIFIED]
        public_shops = [s for s in shops if s.is_public]
        return {
            "e0": public[0].id, "e1": public[1].id, "name": public[0].display_name,
            "cert": public[0].certificate.number, "uscc": public[0].uscc,
            "hidden_e": [e.id for e in ents if e.status != Status.CERTIFIED],
            "hidden_s": [s.id for s in shops if not s.is_public],
            "shops": [public_shops[0].id, public_shops[1].id], "shop_url": public_shops[0].url,
            "hidden_shop_url": next(s.url for s in shops if not s.is_public),
            "industries": db.session.scalars(select(Industry.slug).order_by(Industry.id)).all(),
            "cities": db.session.scalars(select(City.slug).order_by(City.id)).all(),
            "platforms": db.session.scalars(select(Platform.slug).order_by(Platform.id)).all(),
            "badges": db.session.scalars(select(Badge.slug).order_by(Badge.id)).all(),
        }


def _list_paths(base: str, f: dict) -> list[str]:
    """``base`` (enterprises or shops) with paging, order and each filter, alone and combined."""
    q = urllib.parse.urlencode
    out = [base + suffix for suffix in (
        "", "?page=2&per_page=5", "?sort=name&per_page=7", "?sort=popular", "?sort=newest&page=3", "?page=100000",
        "?per_page=100", "?page=%20", "?page=", "?per_page=", "?page=+2+", "?sort=", "?page=0", "?page=-1",
        "?page=abc", "?page=1000000000000", "?page=100001", "?page=%EF%BC%91", "?per_page=0", "?per_page=101",
        "?page=1.5", "?page=2&page=x", "?page=x&page=2", "?sort=random", "?sort=NAME", "?unknown=1&page=2",
        "?city=foshan%00", "?industry=%20" + f["industries"][0] + "%20")]
    values = {"industry": f["industries"][:3] + ["no-such", "\x00", "x" * 101, "x" * 100],
              "city": f["cities"][:3] + ["beijing"], "region": ["珠三角", "粤东", "粤西", "粤北", "华北", " 粤东 "],
              "platform": f["platforms"][:4] + ["amazon"], "shop_type": ["旗舰店", "专卖店", "专营店", "官方商城", "地摊"],
              "badge": f["badges"][:2] + ["x"]}
    out += [base + "?" + q({name: value}) for name, choices in values.items() for value in choices]
    combined = [{"city": "foshan", "region": "粤东"}, {"city": "foshan", "region": "珠三角", "platform": f["platforms"][0],
                                                      "sort": "name"},
                {"city": "foshan", "region": "粤东", "platform": "amazon"}, {"city": "beijing", "region": "华北"},
                {"region": "华北", "industry": "bad"}, {"industry": f["industries"][0], "page": "0", "sort": "x"},
                {"sort": "x", "page": "0"}, {"page": "0", "per_page": "0"}, {"badge": "x", "sort": "x"},
                {"shop_type": "x", "badge": "x"}, {"industry": f["industries"][0], "city": "foshan", "per_page": "3"}]
    return out + [base + "?" + q(args) for args in combined]


def _detail_paths(f: dict) -> list[str]:
    """Shops of one enterprise, and single enterprises and shops: public, hidden, missing, malformed."""
    q = urllib.parse.urlencode
    out = ["/api/v1/shops?" + q({"enterprise": raw}) for raw in (
        str(f["e1"]), "0", "abc", "-1", "99999999999", "2147483647", "2147483648", f" {f['e1']} ",
        str(f["hidden_e"][0]), "", "\x00")]
    out += ["/api/v1/shops?" + q({"enterprise": "abc", "page": "0"}),
            "/api/v1/shops?" + q({"enterprise": "abc", "platform": "amazon"})]
    out += [f"/api/v1/enterprises/{i}" for i in (f["e0"], f["e1"], *f["hidden_e"], 0, 999999, 2147483647, 2147483648,
                                                 99999999999)]
    out += ["/api/v1/enterprises/-1", "/api/v1/enterprises/abc", f"/api/v1/enterprises/{f['e0']}?page=0"]
    return out + [f"/api/v1/shops/{i}" for i in (*f["shops"], *f["hidden_s"][:3], 0, 999999, 2147483648)]


def _verify_and_search_paths(f: dict) -> list[str]:
    q = urllib.parse.urlencode
    cert, uscc = f["cert"], f["uscc"]
    verify = [{"url": f["shop_url"]}, {"url": f["shop_url"] + "?spm=a1z10&ali_trackid=abc"},
              {"url": f["hidden_shop_url"]}, {"url": "https://m.tb.cn/h.abc"}, {"url": "https://unknown.example.com/"},
              {"url": "javascript:alert(1)"}, {"url": "a.com"},
              {"url": "【淘宝】" + f["name"] + " 旗舰店 https://m.tb.cn/h.xyz"},
              {"certificate": cert}, {"certificate": cert.lower()}, {"certificate": "GDWS-2099-999999"},
              {"certificate": "<x>"}, {"uscc": uscc}, {"uscc": "123"}, {"uscc": "91350100M000100Y43"},
              {"uscc": " " + uscc + " "}, {}, {"url": ""}, {"url": "  "}, {"url": "a.com", "uscc": uscc},
              {"url": "", "uscc": uscc}, {"certificate": cert, "uscc": uscc}, {"url": "x" * 4001},
              {"url": "https://a.com/" + "x" * 3990}, {"url": "a\x00b"}, {"url": "x" * 4001, "uscc": uscc},
              {"uscc": "x" * 41}, {"certificate": "x" * 41}]
    out = ["/api/v1/verify?" + q(args) for args in verify] + ["/api/v1/verify?url=a.com&url=b.com"]
    search = [{"q": f["name"]}, {"q": "家电", "per_page": "3"}, {"q": "x", "page": "0"}, {"q": "", "kind": "bad"},
              {"q": "陶瓷", "kind": "enterprise", "sort": "newest"}]
    out += ["/api/v1/search?" + q(args) for args in search]
    return out + ["/api/v1/suggest?" + q({"q": text}) for text in (f["name"][:1], "", "x" * 300)]


def request_paths(app) -> list[str]:
    """The fixed requests: every endpoint, valid and invalid arguments, hidden listings."""
    f = _facts(app)
    out = ["/api/v1/", "/api/v1", "/api/v1/nope", "/api/v1/platforms", "/api/v1/industries", "/api/v1/cities"]
    out += _list_paths("/api/v1/enterprises", f) + _list_paths("/api/v1/shops", f)
    return out + _detail_paths(f) + _verify_and_search_paths(f)


def _answer(resp) -> dict:
    headers = [[k, v] for k, v in resp.headers.items() if k not in {"X-RateLimit-Reset", "Retry-After", "Date"}]
    return {"status": resp.status_code, "headers": headers, "body": resp.get_data(as_text=True)}


def _fresh_app(base: Path, **extra):
    from marketplace import create_app

    work = Path(tempfile.mkdtemp(prefix="api-responses-"))
    shutil.copytree(base, work, symlinks=True, dirs_exist_ok=True)
    return create_app(config(work, **extra))


def _http_variants(c, path: str, results: dict) -> None:
    """Conditional requests, HEAD, OPTIONS (preflight), POST and a cross-origin GET of ``path``."""
    first = c.get(path)
    if etag := first.headers.get("ETag"):
        results["INM " + path] = _answer(c.get(path, headers={"If-None-Match": etag}))
        results["INM-wrong " + path] = _answer(c.get(path, headers={"If-None-Match": '"nope"'}))
    if last_modified := first.headers.get("Last-Modified"):
        results["IMS " + path] = _answer(c.get(path, headers={"If-Modified-Since": last_modified}))
        old = {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
        results["IMS-old " + path] = _answer(c.get(path, headers=old))
    results["HEAD " + path] = _answer(c.head(path))
    results["OPTIONS " + path] = _answer(c.options(path, headers={
        "Origin": "https://other.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "If-None-Match"}))
    results["POST " + path] = _answer(c.post(path, data={}))
    results["Origin " + path] = _answer(c.get(path, headers={"Origin": "https://other.example"}))


def record(base: Path, out: Path) -> None:
    app = _fresh_app(base)
    c = app.test_client()
    results = {"GET " + path: _answer(c.get(path)) for path in request_paths(app)}
    for path in ("/api/v1/enterprises", "/api/v1/cities", "/api/v1/enterprises?sort=name", "/api/v1/",
                 "/api/v1/verify?uscc=123"):
        _http_variants(c, path, results)
    limited = _fresh_app(base, API_RATE_LIMIT="3/minute").test_client()
    for i, path in enumerate(["/api/v1/platforms"] * 4 + ["/api/v1/cities", "/api/v1/enterprises?page=0",
                                                          "/api/v1/verify?uscc=1"]):
        results[f"RL{i} " + path] = _answer(limited.get(path))
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    print(len(results), "answers ->", out)


def compare(a: Path, b: Path) -> None:
    before, after = json.loads(a.read_text()), json.loads(b.read_text())
    changed = [k for k in before if before[k] != after.get(k)] + [k for k in after if k not in before]
    for key in changed:
        print("DIFFERENT:", key)
    print(f"{len(before)} / {len(after)} answers, {len(changed)} different")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["build", "record", "compare"])
    parser.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args()
    if args.command == "build":
        build(args.paths[0])
    elif args.command == "record":
        record(args.paths[0], args.paths[1])
    else:
        compare(args.paths[0], args.paths[1])


if __name__ == "__main__":
    main()
