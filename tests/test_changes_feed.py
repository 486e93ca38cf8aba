"""The certification changes feed (``GET /api/v1/changes``) and the full list
(``GET /api/v1/certified-shops``): every certification event in commit order with a cursor, in
the exact shape of issue 13 §6, only public facts, backfilled from the audit log; the full list
paged with an ETag and 304."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from marketplace.extensions import db
from marketplace.models import CertificationEvent, Role, Shop
from marketplace.services import changes, review
from marketplace.services.changes import event_type
from marketplace.services.importer.writer import run_import
from marketplace.services.lifecycle import expire_certificates
from tests.factories import end_gongshi, make_application, make_enterprise, make_shop, make_user, make_uscc


def _codes(application):
    """Every shop's verification code marked as checked (services.shop_codes)."""
    from tests.factories import all_codes_verified
    return all_codes_verified(application)


def _codes_form(application):
    from tests.factories import approve_form_data
    return approve_form_data(application)

EVENT_KEYS = {"id", "type", "at", "enterprise", "shop", "certificate"}


def _approve_new_enterprise(name="广东变更测试有限公司"):
    """A merchant's enterprise with one shop, approved by staff through review (the real path)."""
    owner = make_user()
    ent = make_enterprise(name, status="pending", owner=owner, certificate=False)
    shop = make_shop(ent, status="pending", url=f"https://feed{ent.id}.tmall.com/")
    app_row = make_application(ent)
    staff = make_user(Role.STAFF)
    review.approve(app_row.id, staff, shop_checks=_codes(app_row))
    db.session.commit()
    end_gongshi()  # certified (and in the feed) when its 公示 takes effect
    return ent, shop, staff


def _feed(client, **params):
    resp = client.get("/api/v1/changes", query_string=params)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_event_types_from_status_transitions():
    assert event_type("enterprise", {"status": "pending"}, {"status": "certified"}) == "certified"
    assert event_type("shop", None, {"status": "certified"}) == "certified"  # an import
    assert event_type("enterprise", {"status": "suspended"}, {"status": "certified"}) == "reinstated"
    assert event_type("shop", {"status": "revoked"}, {"status": "certified"}) == "reinstated"
    assert event_type("enterprise", {"status": "expired"}, {"status": "certified"}) == "certified"
    assert event_type("shop", {"status": "certified"}, {"status": "suspended"}) == "suspended"
    assert event_type("shop", {"status": "suspended"}, {"status": "revoked"}) == "revoked"
    assert event_type("certificate", {"status": "certified"}, {"status": "expired"}) == "expired"
    assert event_type("shop", {"status": "certified"}, {"status": "suspended", "cause": "authorization"}) \
        == "authorization_withdrawn"
    assert event_type("shop", {"status": "certified"}, None) == "revoked"  # a certified shop removed
    # never-public listings and non-certification entries are no events
    assert event_type("enterprise", {"status": "draft"}, {"status": "pending"}) is None
    assert event_type("enterprise", {"status": "pending"}, {"status": "rejected"}) is None
    assert event_type("shop", {"status": "draft"}, None) is None
    assert event_type("shop", {"status": "pending"}, {"status": "suspended"}) is None
    assert event_type("enterprise", {"owner_id": None}, {"owner_id": 3}) is None
    assert event_type("certificate", {"status": "revoked"}, {"status": "revoked", "certificate": "X"}) is None
    assert event_type("complaint", {"status": "certified"}, {"status": "suspended"}) is None


def test_feed_lists_every_event_in_order_with_the_exact_shape(app, client, login_as):
    ent, shop, staff = _approve_new_enterprise()
    login_as(staff)
    client.post(f"/staff/shops/{shop.id}/status", data={"action": "suspended", "reason": "核查中"})
    client.post(f"/staff/shops/{shop.id}/reinstate", data={"note": ""})
    client.post(f"/staff/enterprises/{ent.id}/status", data={"action": "revoked", "reason": "售假查实"})
    body = _feed(app.test_client())
    assert set(body) == {"events", "next"}
    events = body["events"]
    assert [(e["type"], e["shop"] and e["shop"]["id"]) for e in events] == [
        ("certified", None), ("suspended", shop.id), ("reinstated", shop.id), ("revoked", None)]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert body["next"] == str(events[-1]["id"])
    for e in events:
        assert set(e) == EVENT_KEYS and isinstance(e["id"], int)
        assert e["at"].endswith("Z") and "T" in e["at"]
        assert e["enterprise"] == {"id": ent.id, "name": "广东变更测试有限公司", "display_name": ent.display_name,
                                   "uscc": ent.uscc, "url": f"http://localhost/enterprises/{ent.id}"}
        assert e["certificate"] == ent.certificate.number
    assert events[1]["shop"] == {"id": shop.id, "name": shop.name, "url": shop.url, "shop_type": "旗舰店",
                                 "platform": {"id": shop.platform.id, "name": "天猫", "slug": "tmall"}}


def test_cursor_pages_through_and_then_waits(app, client):
    for n in range(3):
        _approve_new_enterprise(f"广东游标测试有限公司{n}")
    first = _feed(client, limit=2)
    assert len(first["events"]) == 2
    second = _feed(client, since=first["next"], limit=2)
    assert len(second["events"]) == 1 and second["events"][0]["id"] > first["events"][-1]["id"]
    done = _feed(client, since=second["next"])
    assert done == {"events": [], "next": second["next"]}  # nothing new: ask again with the same cursor
    _approve_new_enterprise("广东游标测试有限公司新")
    assert [e["enterprise"]["name"] for e in _feed(client, since=second["next"])["events"]] == ["广东游标测试有限公司新"]


def test_bad_cursor_or_limit_is_a_chinese_400(client):
    for params in ({"since": "abc"}, {"since": "-1"}, {"since": "9" * 25}, {"since": "１２"},
                   {"limit": "0"}, {"limit": "1001"}, {"limit": "x"}):
        resp = client.get("/api/v1/changes", query_string=params)
        assert resp.status_code == 400
        assert "since" in resp.get_json()["error"] or "limit" in resp.get_json()["error"]
    assert client.get("/api/v1/changes", query_string={"since": str(2**63 - 1)}).get_json()["events"] == []


def test_never_public_listings_never_appear(app, client, login_as):
    owner = make_user()
    hidden = make_enterprise("广东从未公开有限公司", status="pending", owner=owner, certificate=False)
    make_shop(hidden, status="pending")
    app_row = make_application(hidden)
    staff = make_user(Role.STAFF)
    review.reject(app_row.id, staff, "资料不全")
    draft = make_enterprise("广东草稿店铺有限公司", owner=owner)
    draft_shop = make_shop(draft, status="draft")
    db.session.commit()
    login_as(owner)
    client.post(f"/merchant/shops/{draft_shop.id}/delete", data={})
    assert db.session.get(Shop, draft_shop.id) is None
    body = app.test_client().get("/api/v1/changes").get_data(as_text=True)
    assert "从未公开" not in body and "草稿店铺" not in body and hidden.uscc not in body


def test_a_certified_shop_removed_by_its_merchant_is_revoked_in_the_feed(app, client, login_as):
    ent, shop, _staff = _approve_new_enterprise()
    login_as(ent.owner)
    assert client.post(f"/merchant/shops/{shop.id}/delete", data={}).status_code == 302
    last = _feed(app.test_client())["events"][-1]
    assert last["type"] == "revoked" and last["shop"]["id"] == shop.id and last["shop"]["url"] == shop.url


def test_expiry_and_import_are_events_too(app, client, runner):
    ent = make_enterprise("广东到期测试有限公司")
    ent.certificate.valid_until = ent.certificate.issued_on - timedelta(days=1)
    expire_certificates()
    db.session.commit()
    csv = ("uscc,name,brands,city,industries,description,website,founded,badges,certified\n"
           f"{make_uscc()},广东导入事件有限公司,导入牌,佛山,家电,一家企业。,,2001,,是\n").encode()
    report = run_import(csv, None, dry_run=False)
    assert report.ok
    db.session.commit()
    events = _feed(client)["events"]
    assert [(e["type"], e["enterprise"]["name"]) for e in events] == [
        ("expired", "广东到期测试有限公司"), ("certified", "广东导入事件有限公司")]
    assert events[0]["certificate"] == ent.certificate.number and events[1]["certificate"].startswith("GDWS-")


def test_backfill_recreates_history_from_the_audit_log_and_is_idempotent(app, client, runner, login_as):
    ent, shop, staff = _approve_new_enterprise()
    login_as(staff)
    client.post(f"/staff/shops/{shop.id}/status", data={"action": "revoked", "reason": "售假查实"})
    live = [(e.type, e.shop_id, e.certificate, e.audit_id) for e in db.session.scalars(
        select(CertificationEvent).order_by(CertificationEvent.id))]
    db.session.execute(delete(CertificationEvent))  # as before the feed existed
    db.session.commit()
    assert "补录认证变更事件 2 条" in runner.invoke(args=["changes-backfill"]).output
    again = [(e.type, e.shop_id, e.certificate, e.audit_id) for e in db.session.scalars(
        select(CertificationEvent).order_by(CertificationEvent.id))]
    assert again == live
    assert "补录认证变更事件 0 条" in runner.invoke(args=["changes-backfill"]).output
    assert db.session.scalar(select(func.count()).select_from(CertificationEvent)) == 2


def test_rolled_back_changes_leave_no_event(app):
    ent, shop, staff = _approve_new_enterprise()
    before = changes.head()
    from marketplace.services.lifecycle import set_shop_status
    set_shop_status(shop, "suspended", staff, "将回滚")
    db.session.rollback()
    db.session.commit()
    assert changes.head() == before


# --------------------------------------------------------------------------- certified-shops

def test_certified_shops_lists_public_shops_paged_with_etag_and_304(app, client):
    ent = make_enterprise("广东全量列表有限公司")
    shops = [make_shop(ent) for _ in range(3)]
    make_shop(ent, status="suspended")
    hidden = make_enterprise("广东未公开全量有限公司", status="suspended")
    make_shop(hidden)
    db.session.commit()
    first = client.get("/api/v1/certified-shops", query_string={"per_page": 2})
    assert first.status_code == 200 and first.headers["ETag"]
    body = first.get_json()
    assert body["total"] == 3 and body["pages"] == 2 and body["changes_cursor"] == str(changes.head())
    assert [s["id"] for s in body["results"]] == [shops[0].id, shops[1].id]
    item = body["results"][0]
    assert set(item) == {"id", "name", "url", "shop_type", "platform", "enterprise", "certificate", "authorizations"}
    assert item["certificate"]["number"] == ent.certificate.number and item["authorizations"] == []
    page2 = client.get("/api/v1/certified-shops", query_string={"per_page": 2, "page": 2}).get_json()
    assert [s["id"] for s in page2["results"]] == [shops[2].id]
    again = client.get("/api/v1/certified-shops", query_string={"per_page": 2},
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    db.session.get(Shop, shops[0].id).status = "revoked"
    db.session.commit()
    changed = client.get("/api/v1/certified-shops", query_string={"per_page": 2},
                         headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    assert "未公开全量" not in changed.get_data(as_text=True)


def test_certified_shops_bad_paging_is_a_chinese_400(client):
    for params in ({"per_page": "1001"}, {"page": "0"}, {"page": "x"}):
        resp = client.get("/api/v1/certified-shops", query_string=params)
        assert resp.status_code == 400 and "页" in resp.get_json()["error"]


def test_both_endpoints_are_in_the_openapi_document_and_the_index(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["paths"]["/api/v1/changes"]["get"]["operationId"] == "listChanges"
    assert spec["paths"]["/api/v1/certified-shops"]["get"]["operationId"] == "listCertifiedShops"
    event = spec["components"]["schemas"]["ChangeEvent"]
    assert set(event["required"]) == EVENT_KEYS
    assert set(event["properties"]["type"]["enum"]) == {
        "certified", "suspended", "revoked", "expired", "reinstated", "authorization_withdrawn"}
    endpoints = client.get("/api/v1/").get_json()["endpoints"]
    assert "http://localhost/api/v1/changes" in endpoints and "http://localhost/api/v1/certified-shops" in endpoints
    page = client.get("/developers").get_data(as_text=True)
    assert "/api/v1/changes" in page and "changes_cursor" in page


def test_event_writers_take_turns_on_postgresql(app):
    """Two transactions writing events cannot commit them out of order: the second waits for the
    first one's commit before it takes its ids (the advisory lock of ``changes._lock``)."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers itself")
    first, second = Session(db.engine), Session(db.engine)
    try:
        changes._lock(first)
        taken = second.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": changes.LOCK_KEY}).scalar()
        assert taken is False
        second.rollback()
        first.commit()
        assert second.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": changes.LOCK_KEY}).scalar() is True
    finally:
        first.close()
        second.close()
