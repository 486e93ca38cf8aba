"""Concurrent writes to one record (issue 11 item 5): never a 500, never a silent lost update.

Enterprise, shop, application, complaint and featured slot carry a ``version``
(services/versioning.py). Two kinds of test:

* real concurrency — many threads post to a real threaded HTTP server at once (SQLite by default,
  PostgreSQL with TEST_DATABASE_URL): every answer is a redirect (saved) or the form again with
  "该资料刚被修改，请刷新后重试", and the stored record is consistent;
* two tabs — a form rendered before someone else's save is refused with that message, keeps what
  was typed, and changes nothing.
"""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from marketplace.extensions import db
from marketplace.models import AppKind, Application, AppStatus, Brand, Complaint, Enterprise, FeaturedSlot, Role, Shop
from tests import factories as f


def _codes(application):
    """Every shop's verification code marked as checked (services.shop_codes)."""
    from tests.factories import all_codes_verified
    return all_codes_verified(application)


def _codes_form(application):
    from tests.factories import approve_form_data
    return approve_form_data(application)

CONFLICT = "该资料刚被修改，请刷新后重试"
PASSWORD = "correct horse battery"


@pytest.fixture
def live_server(app):
    """The test app behind a real threaded WSGI server on a free local port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or \
        re.search(rf'value="([^"]*)"[^>]*name="{name}"', html)
    assert match, f"no {name} field"
    return match.group(1)


def _browser(base: str, user) -> requests.Session:
    """A logged-in browser session (through the real login form)."""
    browser = requests.Session()
    page = browser.get(f"{base}/account/login").text
    resp = browser.post(f"{base}/account/login", allow_redirects=False, data={
        "csrf_token": _hidden(page, "csrf_token"), "email": user.email, "password": PASSWORD})
    assert resp.status_code == 302, resp.text[:300]
    return browser


def _tab(browser: requests.Session) -> requests.Session:
    """Another tab of the same browser: same cookies, its own connection."""
    tab = requests.Session()
    tab.cookies.update(browser.cookies)
    return tab


def _post_all(base: str, browser, path: str, forms: list[dict]) -> list[tuple[int, str]]:
    """Post every form at once, each from its own tab; (status, body) in order."""
    barrier = threading.Barrier(len(forms))

    def post(form):
        tab = _tab(browser)
        barrier.wait(30)
        resp = tab.post(base + path, data=form, allow_redirects=False, timeout=120)
        return resp.status_code, resp.text

    with ThreadPoolExecutor(len(forms)) as pool:
        return list(pool.map(post, forms))


def _edit_form(html: str, **values) -> dict:
    form = {"csrf_token": _hidden(html, "csrf_token"), "version": _hidden(html, "version"),
            "name": "佛山并发测试电器有限公司", "brands": "并发牌", "city_id": str(f.city("佛山").id),
            "industry_ids": [str(f.industry("家电").id)], "description": "并发编辑测试。", "website": "",
            "founded_year": ""}
    form.update(values)
    return form


# --------------------------------------------------------------------------- real concurrency

def test_fifty_simultaneous_edits_of_one_enterprise(app, live_server):
    """50 tabs of the owner save the same enterprise at once: one is saved, 49 are told to
    refresh (before: all 50 "saved" over each other, on PostgreSQL some 500 on brand names)."""
    owner = f.make_user()
    ent = f.make_enterprise(owner=owner, status="draft", brands=["旧牌甲", "旧牌乙"], certificate=False)
    db.session.commit()
    browser = _browser(live_server, owner)
    page = browser.get(f"{live_server}/merchant/enterprises/{ent.id}/edit").text
    forms = [_edit_form(page, brands=f"新牌{n}；旧牌乙；共同牌", description=f"第 {n} 个标签页写的简介。")
             for n in range(50)]
    results = _post_all(live_server, browser, f"/merchant/enterprises/{ent.id}/edit", forms)
    codes = [code for code, _ in results]
    assert 500 not in codes
    assert codes.count(302) == 1
    refused = [body for code, body in results if code == 200]
    assert len(refused) == 49 and all(CONFLICT in body for body in refused)
    winner = codes.index(302)
    assert all(f"第 {n} 个标签页写的简介。" in body for n, (code, body) in enumerate(results) if code == 200)
    db.session.expire_all()
    stored = db.session.get(Enterprise, ent.id)
    assert stored.description == f"第 {winner} 个标签页写的简介。"
    assert stored.brand_names == [f"新牌{winner}", "旧牌乙", "共同牌"]


def test_simultaneous_edits_without_a_version_serialise(app, live_server):
    """Even a post that carries no version (an old page, a script) cannot race another edit into a
    500: concurrent edits queue on the record and the later ones are refused or applied in turn."""
    owner = f.make_user()
    ent = f.make_enterprise(owner=owner, status="draft", brands=["旧牌甲"], certificate=False)
    db.session.commit()
    browser = _browser(live_server, owner)
    page = browser.get(f"{live_server}/merchant/enterprises/{ent.id}/edit").text
    forms = [_edit_form(page, version="", brands=f"牌{n % 3}；共同牌") for n in range(20)]
    results = _post_all(live_server, browser, f"/merchant/enterprises/{ent.id}/edit", forms)
    assert {code for code, _ in results} <= {200, 302}
    assert all(CONFLICT in body for code, body in results if code == 200)
    assert [code for code, _ in results].count(302) >= 1
    db.session.expire_all()
    keys = db.session.scalars(select(Brand.name_key).where(Brand.enterprise_id == ent.id)).all()
    assert len(keys) == len(set(keys)) == 2


def test_simultaneous_staff_closing_one_complaint(app, live_server):
    staff = [f.make_user(Role.STAFF) for _ in range(2)]
    ent = f.make_enterprise(owner=f.make_user())
    complaint = f.make_complaint(ent)
    db.session.commit()
    browsers = [_browser(live_server, s) for s in staff]
    pages = [b.get(f"{live_server}/staff/complaints/{complaint.id}").text for b in browsers]
    barrier = threading.Barrier(10)

    def close(n):
        tab = _tab(browsers[n % 2])
        barrier.wait(30)
        return tab.post(f"{live_server}/staff/complaints/{complaint.id}/close", allow_redirects=False, timeout=120,
                        data={"csrf_token": _hidden(pages[n % 2], "csrf_token"), "outcome": "resolved",
                              "note": f"第 {n} 次处理说明"}).status_code

    with ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(close, range(10)))
    assert codes == [302] * 10  # each is told the outcome on the complaint page; none is a 500
    db.session.expire_all()
    closed = db.session.get(Complaint, complaint.id)
    assert closed.status == "resolved"
    assert db.session.scalar(select(func.count()).select_from(
        db.metadata.tables["audit_log"]).where(db.metadata.tables["audit_log"].c.action == "complaint.resolved")) == 1


# --------------------------------------------------------------------------- two tabs

def test_shop_edit_from_an_outdated_tab_is_refused_and_keeps_the_text(app, client, login_as):
    owner = f.make_user()
    ent = f.make_enterprise(owner=owner, status="draft", certificate=False)
    shop = f.make_shop(ent, status="draft", name="原来的店名")
    db.session.commit()
    login_as(owner)
    old_tab = client.get(f"/merchant/shops/{shop.id}/edit").get_data(as_text=True)
    base = {"platform_id": str(shop.platform_id), "url": shop.url, "shop_type": shop.shop_type}
    assert client.post(f"/merchant/shops/{shop.id}/edit", data={
        **base, "name": "另一个标签页的店名", "version": _hidden(old_tab, "version")}).status_code == 302
    resp = client.post(f"/merchant/shops/{shop.id}/edit", data={
        **base, "name": "这个标签页输入的店名", "version": _hidden(old_tab, "version")})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and CONFLICT in page and "这个标签页输入的店名" in page
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).name == "另一个标签页的店名"


def test_staff_cannot_approve_a_change_made_after_the_page_was_shown(app, client, login_as):
    owner = f.make_user()
    ent = f.make_enterprise(owner=owner)
    edit = f.make_application(ent, AppKind.ENTERPRISE_EDIT, payload={"description": "审核页上看到的简介"})
    staff = f.make_user(Role.STAFF)
    db.session.commit()
    login_as(staff)
    page = client.get(f"/staff/review/{edit.id}").get_data(as_text=True)
    seen = _hidden(page, "version")
    login_as(owner)
    form = client.get(f"/merchant/enterprises/{ent.id}/edit").get_data(as_text=True)
    assert client.post(f"/merchant/enterprises/{ent.id}/edit", data=_edit_form(
        form, name=ent.name, brands="；".join(ent.brand_names), city_id=str(ent.city_id),
        description="审核页打开后才改的简介")).status_code == 302
    login_as(staff)
    resp = client.post(f"/staff/review/{edit.id}/approve", data={"version": seen, **_codes_form(edit)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/staff/review/{edit.id}")
    with client.session_transaction() as sess:
        assert (("error", CONFLICT)) in sess["_flashes"]
    db.session.expire_all()
    assert db.session.get(Application, edit.id).status == AppStatus.PENDING
    assert db.session.get(Enterprise, ent.id).description != "审核页打开后才改的简介"


def test_featured_slot_edit_from_an_outdated_page(app, client, login_as):
    from datetime import timedelta

    from marketplace.clock import utc_now

    ent = f.make_enterprise()
    slot = FeaturedSlot(placement="carousel", enterprise=ent, position=1, starts_at=utc_now() - timedelta(days=1),
                        title="原标题")
    db.session.add(slot)
    staff = f.make_user(Role.STAFF)
    db.session.commit()
    login_as(staff)
    page = client.get(f"/staff/curation/{slot.id}").get_data(as_text=True)
    form = {"starts_at": "2026-01-01T09:00", "ends_at": "", "version": _hidden(page, "version")}
    assert client.post(f"/staff/curation/{slot.id}", data={**form, "title": "同事改的标题"}).status_code == 302
    resp = client.post(f"/staff/curation/{slot.id}", data={**form, "title": "我改的标题"})
    assert resp.status_code == 200 and CONFLICT in resp.get_data(as_text=True)
    assert "我改的标题" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(FeaturedSlot, slot.id).title == "同事改的标题"


def test_a_tampered_version_is_a_conflict_not_an_error(app, client, login_as):
    owner = f.make_user()
    ent = f.make_enterprise(owner=owner, status="draft", certificate=False)
    db.session.commit()
    login_as(owner)
    page = client.get(f"/merchant/enterprises/{ent.id}/edit").get_data(as_text=True)
    for bad in ("abc", "-1", "0", "9" * 30):
        resp = client.post(f"/merchant/enterprises/{ent.id}/edit", data=_edit_form(page, version=bad))
        assert resp.status_code == 200 and CONFLICT in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).name == ent.name
