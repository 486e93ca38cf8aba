"""URL-parser differentials against every URL entry point (RELIABILITY.md "URLs a browser will
follow"; issue 11 item 1).

``ENTRY_POINTS`` lists each place a URL enters or leaves the site. Each entry point is run against
every case of ``tests/url_cases.py`` and the test reports every case it lets through at once.
A new form or route that accepts a URL adds one function here; ``test_every_url_form_field_is_an_
entry_point`` fails until it does.

An entry point "lets a case through" when it stores it, vouches for it (verify says certified),
marks it ✔ for staff, or redirects to it.
"""
from __future__ import annotations

import csv
import io
import logging
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import AppKind, Application, Enterprise, Shop, Status
from marketplace.services import review_checks
from marketplace.services.importer.writer import run_import
from marketplace.services.url_audit import check_stored_urls
from tests import factories as f
from tests.url_cases import CLEAN_TMALL_SHOPS, HOST_DIFFERENTIALS, SHOP_URL_CASES

ENT_HEADER = "uscc,name,brands,city,industries,description,website,founded,badges,certified"


@pytest.fixture
def ctx(app, client, login_as):
    """A merchant with a draft enterprise and shop and a certified enterprise and shop, logged in."""
    merchant = f.make_user()
    draft = f.make_enterprise("岭南测试有限公司", owner=merchant, status=Status.DRAFT,
                              uscc=f.make_uscc(700001))
    draft_shop = f.make_shop(draft, url="https://mine.tmall.com/", status=Status.DRAFT)
    certified = f.make_enterprise("佛山真品电器有限公司", brands=["真品"], owner=merchant)
    cert_shop = f.make_shop(certified, url="https://good.tmall.com/")
    db.session.commit()
    login_as(merchant)
    return SimpleNamespace(client=client, merchant=merchant, draft=draft, draft_shop=draft_shop,
                           certified=certified, cert_shop=cert_shop, seq=iter(range(710000, 720000)))


def _shop_form(url: str) -> dict:
    return {"platform_id": str(f.platform("tmall").id), "name": "测试旗舰店", "url": url, "shop_type": "旗舰店"}


def _csv(header: str, row: list[str]) -> bytes:
    buf = io.StringIO()
    buf.write(header + "\n")
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue().encode()


def _stored(ctx, url: str, *, status: str = Status.CERTIFIED) -> Shop | None:
    """A shop of the certified enterprise whose URL was stored as ``url`` before today's rules
    (as old data or a direct database edit would have it); None when a database cannot hold it."""
    if "\x00" in url:
        return None
    shop = f.make_shop(ctx.certified, url=url, status=status, name=f"旧数据店铺{next(ctx.seq)}")
    db.session.commit()
    return shop


# --------------------------------------------------------------------------- entry points
# Each takes (ctx, url) and returns None when the URL was refused, else what let it through.

def merchant_shop_new(ctx, url):
    before = len(ctx.draft.shops)
    ctx.client.post(f"/merchant/enterprises/{ctx.draft.id}/shops/new", data=_shop_form(url))
    db.session.expire_all()
    return "shop stored" if len(db.session.get(Enterprise, ctx.draft.id).shops) != before else None


def merchant_shop_edit_draft(ctx, url):
    ctx.client.post(f"/merchant/shops/{ctx.draft_shop.id}/edit", data=_shop_form(url))
    db.session.expire_all()
    shop = db.session.get(Shop, ctx.draft_shop.id)
    stored, shop.url = shop.url, "https://mine.tmall.com/"  # back for the next case
    db.session.commit()
    return f"stored as {stored}" if stored != "https://mine.tmall.com/" else None


def merchant_shop_edit_certified(ctx, url):
    ctx.client.post(f"/merchant/shops/{ctx.cert_shop.id}/edit", data=_shop_form(url))
    db.session.expire_all()
    pending = db.session.scalars(select(Application).where(
        Application.kind == AppKind.SHOP_EDIT, Application.shop_id == ctx.cert_shop.id)).all()
    queued = [a.payload.get("url") for a in pending if (a.payload or {}).get("url") not in (None, ctx.cert_shop.url)]
    for a in pending:  # back for the next case
        db.session.delete(a)
    db.session.commit()
    return f"queued for review as {queued[0]}" if queued else None


def importer_shops_csv(ctx, url):
    report = run_import(None, _csv("uscc,platform,name,url,shop_type", [ctx.draft.uscc, "tmall", "导入店", url, ""]),
                        dry_run=False)
    db.session.rollback()
    return "imported" if report.ok else None


def verify_api(ctx, url):
    """Verify must not vouch for a certified shop whose stored URL is the hostile one."""
    hostile = _stored(ctx, url)
    resp = ctx.client.get("/api/v1/verify", query_string={"url": url})
    if resp.status_code == 400:
        return None
    data = resp.get_json()
    named = (data["shop"] or {}).get("id")
    if data["result"] == "certified" and (hostile is None or named == hostile.id):
        return f"answered certified for shop {named}"
    return None


def verify_page(ctx, url):
    hostile = _stored(ctx, url)
    html = ctx.client.get("/verify", query_string={"url": url}).get_data(as_text=True)
    if "✓ 认证有效" in html and (hostile is None or f"<dt>店铺</dt><dd>{hostile.name}（" in html):
        return "page says 认证有效"
    return None


def review_check(ctx, url):
    shop = _stored(ctx, url, status=Status.PENDING)
    if shop is None:
        return None
    application = f.make_application(ctx.certified, AppKind.SHOP, shop=shop, applicant=ctx.merchant)
    checks = review_checks.shop_checks(application)
    return "shown ✔ to staff" if checks[0]["host_ok"] else None


def go_redirect(ctx, url):
    shop = _stored(ctx, url)
    if shop is None:
        return None
    resp = ctx.client.get(f"/go/{shop.id}")
    return f"redirected to {resp.headers.get('Location')}" if resp.status_code != 404 else None


def check_urls_apply(ctx, url):
    shop = _stored(ctx, url)
    if shop is None:
        return None
    check_stored_urls(apply=True)
    db.session.commit()
    return "still certified" if db.session.get(Shop, shop.id).status == Status.CERTIFIED else None


SHOP_ENTRY_POINTS = {
    "merchant shop form (new)": merchant_shop_new,
    "merchant shop form (edit draft)": merchant_shop_edit_draft,
    "merchant shop form (edit certified)": merchant_shop_edit_certified,
    "importer shops.csv": importer_shops_csv,
    "GET /api/v1/verify?url=": verify_api,
    "GET /verify?url=": verify_page,
    "staff review shop check": review_check,
    "GET /go/<id>": go_redirect,
    "flask check-urls --apply": check_urls_apply,
}


def merchant_website(ctx, url):
    uscc = f.make_uscc(next(ctx.seq))
    ctx.client.post("/merchant/enterprises/new", data={
        "name": f"网址测试有限公司{uscc[-6:]}", "uscc": uscc, "brands": "", "city_id": "",
        "industry_ids": [str(f.industry("家电").id)], "description": "", "website": url, "founded_year": ""})
    db.session.expire_all()
    return "stored" if db.session.scalar(select(Enterprise).where(Enterprise.uscc == uscc)) else None


def importer_website(ctx, url):
    uscc = f.make_uscc(next(ctx.seq))
    report = run_import(_csv(ENT_HEADER, [uscc, "网址测试有限公司", "", "佛山", "", "", url, "", "", "是"]), None,
                        dry_run=False)
    db.session.rollback()
    return "imported" if report.ok else None


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.hrefs += [v for k, v in attrs if k == "href" and v]


def enterprise_page_link(ctx, url):
    if "\x00" in url:
        return None
    ctx.certified.website = url
    db.session.commit()
    parser = _Links()
    parser.feed(ctx.client.get(f"/enterprises/{ctx.certified.id}").get_data(as_text=True))
    return "linked" if url in parser.hrefs else None


WEBSITE_ENTRY_POINTS = {
    "merchant enterprise form website": merchant_website,
    "importer enterprises.csv website": importer_website,
    "enterprise page website link": enterprise_page_link,
}

ENTRY_POINTS = {**SHOP_ENTRY_POINTS, **WEBSITE_ENTRY_POINTS}
# Form fields that carry a URL -> the entry point that covers them.
COVERED_FIELDS = {
    ("ShopForm", "url"): "merchant shop form (new)",
    ("EnterpriseForm", "website"): "merchant enterprise form website",
}


# --------------------------------------------------------------------------- tests

@pytest.mark.parametrize("entry", list(SHOP_ENTRY_POINTS))
def test_shop_url_entry_point_refuses_every_differential(ctx, entry):
    through = {}
    for case, url in SHOP_URL_CASES:
        outcome = SHOP_ENTRY_POINTS[entry](ctx, url)
        if outcome:
            through[case] = outcome
    assert through == {}, f"{entry} let through: {through}"


@pytest.mark.parametrize("entry", list(WEBSITE_ENTRY_POINTS))
def test_website_entry_point_refuses_every_host_differential(ctx, entry):
    through = {}
    for case, url in HOST_DIFFERENTIALS:
        outcome = WEBSITE_ENTRY_POINTS[entry](ctx, url)
        if outcome:
            through[case] = outcome
    assert through == {}, f"{entry} let through: {through}"


def test_clean_shop_urls_pass_every_entry_point(ctx):
    """The rules refuse hostile URLs, not ordinary ones: each typed form is stored canonically."""
    for typed, stored in CLEAN_TMALL_SHOPS:
        resp = ctx.client.post(f"/merchant/enterprises/{ctx.draft.id}/shops/new", data=_shop_form(typed))
        assert resp.status_code == 302, (typed, resp.get_data(as_text=True)[:300])
        shop = db.session.scalar(select(Shop).where(Shop.url == stored))
        assert shop is not None, typed
        db.session.delete(shop)
        db.session.commit()
    report = check_stored_urls(apply=True)
    assert report.failures == [] and report.suspended == []
    assert ctx.client.get(f"/go/{ctx.cert_shop.id}").headers["Location"] == "https://good.tmall.com/"
    # positive controls for the verify entry points' checks
    data = ctx.client.get("/api/v1/verify", query_string={"url": "https://good.tmall.com/"}).get_json()
    assert data["result"] == "certified" and data["shop"]["id"] == ctx.cert_shop.id
    html = ctx.client.get("/verify", query_string={"url": "good.tmall.com"}).get_data(as_text=True)
    assert "✓ 认证有效" in html and f"<dt>店铺</dt><dd>{ctx.cert_shop.name}（" in html


def test_every_url_form_field_is_an_entry_point(app):
    """Any form field named like a URL must be listed in COVERED_FIELDS (and so in ENTRY_POINTS)."""
    import re

    from flask_wtf import FlaskForm

    import marketplace.views  # noqa: F401  (registers every form class)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    found = set()
    for form in subclasses(FlaskForm):
        for name in dir(form):
            if re.search(r"url|website|link|homepage|href", name, re.I) and hasattr(getattr(form, name), "field_class"):
                found.add((form.__name__, name))
    assert found <= set(COVERED_FIELDS), f"URL fields without an entry point here: {found - set(COVERED_FIELDS)}"
    assert set(COVERED_FIELDS.values()) <= set(ENTRY_POINTS)


def test_one_url_parser(app):
    """Only ``validation/urls.py`` reads a host out of a URL: no other module calls ``urlsplit`` /
    ``urlparse`` to decide where a link goes (``security.safe_next`` uses it only to refuse any
    scheme or host in a local path)."""
    import ast
    from pathlib import Path

    import marketplace

    allowed = {"validation/urls.py", "security.py"}
    root = Path(marketplace.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node, "attr", None) or getattr(node, "id", None)
            if name in ("urlsplit", "urlparse", "hostname", "netloc"):
                offenders.append(f"{rel}:{node.lineno} {name}")
    assert offenders == []


def test_go_refusal_logs_an_alert(ctx, caplog):
    shop = _stored(ctx, "https://evil.example\\.tmall.com/")
    with caplog.at_level(logging.ERROR):
        assert ctx.client.get(f"/go/{shop.id}").status_code == 404
    assert any("ALERT" in r.getMessage() and str(shop.id) in r.getMessage() for r in caplog.records)
    assert db.session.scalar(select(func.count()).select_from(Shop).where(Shop.click_count > 0)) == 0


def test_issue_11_backslash_shop_is_refused_everywhere(ctx, login_as):
    """The reported case end to end: ``https://evil.example\\.tmall.com/`` as a 天猫 shop."""
    url = "https://evil.example\\.tmall.com/"
    resp = ctx.client.post(f"/merchant/enterprises/{ctx.draft.id}/shops/new", data=_shop_form(url))
    assert resp.status_code == 200 and "反斜杠" in resp.get_data(as_text=True)
    report = run_import(None, _csv("uscc,platform,name,url,shop_type", [ctx.draft.uscc, "天猫", "店", url, ""]),
                        dry_run=False)
    assert not report.ok and "反斜杠" in report.errors[0].reason
    db.session.rollback()
    resp = ctx.client.get("/api/v1/verify", query_string={"url": url})
    assert resp.status_code == 400 and "反斜杠" in resp.get_json()["error"]
    # stored before this rule: staff see ✘, /go/ refuses
    shop = _stored(ctx, url, status=Status.PENDING)
    application = f.make_application(ctx.certified, AppKind.SHOP, shop=shop, applicant=ctx.merchant)
    staff = f.make_user(role="staff")
    db.session.commit()
    page = login_as(staff).get(f"/staff/review/{application.id}").get_data(as_text=True)
    assert "✘" in page and "反斜杠" in page and "✔ evil.example" not in page
    shop.status = Status.CERTIFIED
    db.session.commit()
    assert ctx.client.get(f"/go/{shop.id}").status_code == 404
