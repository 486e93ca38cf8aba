"""Suspend / revoke / reinstate, badges, and the daily expire-certificates job."""
from datetime import timedelta

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AuditLog, Certification, Enterprise, Role, Shop
from marketplace.clock import china_today
from marketplace.services.mail import queued_mail, read_outbox
from tests.factories import badge, make_certificate, make_enterprise, make_shop, make_user


def _staff(login_as):
    user = make_user(Role.STAFF)
    db.session.commit()
    login_as(user)
    return user


def test_revoked_shop_go_link_404_right_after_decision(app, client, login_as):
    ent = make_enterprise(owner=make_user())
    shop = make_shop(ent)
    other = make_shop(ent)
    staff = _staff(login_as)
    assert client.get(f"/go/{shop.id}").status_code in (301, 302, 303, 307)
    resp = client.post(f"/staff/shops/{shop.id}/status", data={"action": "revoked", "reason": "售假查实"})
    assert resp.status_code == 302
    assert client.get(f"/go/{shop.id}").status_code == 404
    assert client.get(f"/go/{other.id}").status_code in (301, 302, 303, 307)
    db.session.expire_all()
    s = db.session.get(Shop, shop.id)
    assert s.status == "revoked" and s.status_reason == "售假查实"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "shop.revoked"))
    assert entry.actor_id == staff.id and entry.before == {"status": "certified"}
    assert "撤销" in read_outbox()[-1]["Subject"]


def test_suspend_enterprise_hides_everything_then_reinstate(app, client, login_as):
    ent = make_enterprise(owner=make_user(), name="广东可暂停实业有限公司")
    shop = make_shop(ent)
    _staff(login_as)
    assert client.post(f"/staff/enterprises/{ent.id}/status", data={"action": "suspended", "reason": ""}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).status == "certified"  # reason required
    client.post(f"/staff/enterprises/{ent.id}/status", data={"action": "suspended", "reason": "资质复核中"})
    db.session.expire_all()
    e = db.session.get(Enterprise, ent.id)
    assert e.status == "suspended" and e.certificate.status == "suspended"
    assert client.get(f"/go/{shop.id}").status_code == 404
    from flask import url_for
    with app.test_request_context():
        page = url_for("public.enterprise", enterprise_id=ent.id) if "public.enterprise" in app.view_functions else None
    if page:  # staff may still see it; consumers may not
        assert app.test_client().get(page).status_code == 404
    client.post(f"/staff/enterprises/{ent.id}/reinstate", data={"note": "复核通过"})
    db.session.expire_all()
    e = db.session.get(Enterprise, ent.id)
    assert e.status == "certified" and e.certificate.status == "valid"
    assert client.get(f"/go/{shop.id}").status_code in (301, 302, 303, 307)


def test_cannot_reinstate_with_expired_certificate(app, client, login_as):
    ent = make_enterprise(owner=make_user(), certificate=False)
    make_certificate(ent, days_valid=-1)
    ent.status = "revoked"
    _staff(login_as)
    resp = client.post(f"/staff/enterprises/{ent.id}/reinstate", data={}, follow_redirects=True)
    assert "重新申请" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).status == "revoked"


def test_cannot_suspend_a_draft(app, client, login_as):
    ent = make_enterprise(status="draft", owner=make_user(), certificate=False)
    _staff(login_as)
    resp = client.post(f"/staff/enterprises/{ent.id}/status", data={"action": "suspended", "reason": "x"},
                       follow_redirects=True)
    assert "不能暂停" in resp.get_data(as_text=True)


def test_badges_granted_and_removed(app, client, login_as):
    ent = make_enterprise()
    b = badge("中华老字号")
    _staff(login_as)
    client.post(f"/staff/enterprises/{ent.id}/badges", data={"badge_id": b.id, "action": "grant"})
    db.session.expire_all()
    assert [x.name for x in db.session.get(Enterprise, ent.id).badges] == ["中华老字号"]
    client.post(f"/staff/enterprises/{ent.id}/badges", data={"badge_id": b.id, "action": "grant"})  # idempotent
    client.post(f"/staff/enterprises/{ent.id}/badges", data={"badge_id": b.id, "action": "remove"})
    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).badges == []
    actions = [a.action for a in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions == ["badge.grant", "badge.remove"]


def test_enterprise_page_renders(app, client, login_as):
    ent = make_enterprise(name="<script>alert(1)</script>有限公司")
    make_shop(ent)
    _staff(login_as)
    html = client.get(f"/staff/enterprises/{ent.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;有限公司" in html
    assert client.get("/staff/enterprises?q=alert").status_code == 200
    assert client.get("/staff/enterprises/999999").status_code == 404


def test_expire_certificates_idempotent_and_warns_once(app, runner):
    merchant = make_user()
    today = china_today()
    due = make_enterprise(owner=merchant, certificate=False, name="到期企业")
    cert_due = make_certificate(due, days_valid=-1)
    soon = make_enterprise(owner=merchant, certificate=False, name="快到期企业")
    cert_soon = make_certificate(soon, days_valid=20)
    later = make_enterprise(owner=merchant, certificate=False, name="远期企业")
    cert_later = make_certificate(later, days_valid=200)
    today_ent = make_enterprise(owner=merchant, certificate=False, name="今天到期企业")
    cert_today = make_certificate(today_ent, days_valid=0)
    for cert, days in ((cert_due, -1), (cert_soon, 20), (cert_later, 200), (cert_today, 0)):
        cert.valid_until = today + timedelta(days=days)  # certificate dates are China dates
    db.session.commit()
    result = runner.invoke(args=["expire-certificates"])
    assert result.exit_code == 0, result.output
    assert "已过期证书 1 张" in result.output and "发送到期提醒 2 封" in result.output
    db.session.expire_all()
    assert db.session.get(Enterprise, due.id).status == "expired"
    assert db.session.get(Certification, cert_due.id).status == "expired"
    assert db.session.get(Enterprise, soon.id).status == "certified"
    assert db.session.get(Certification, cert_soon.id).expiry_warned_at is not None
    assert db.session.get(Certification, cert_later.id).expiry_warned_at is None
    assert db.session.get(Enterprise, today_ent.id).status == "certified"  # valid through its last day
    mails = read_outbox()
    assert len(mails) == 3
    assert sum("将在" in m["Subject"] for m in mails) == 2 and sum("已过期" in m["Subject"] for m in mails) == 1
    # second run the same day: nothing new
    result = runner.invoke(args=["expire-certificates"])
    assert "已过期证书 0 张" in result.output and "发送到期提醒 0 封" in result.output
    assert len(read_outbox()) == 3
    assert today == china_today()


def test_expire_hides_enterprise_and_its_shops(app, client, runner):
    ent = make_enterprise(owner=make_user(), certificate=False)
    make_certificate(ent, days_valid=-3)
    shop = make_shop(ent)
    db.session.commit()
    runner.invoke(args=["expire-certificates"])
    assert client.get(f"/go/{shop.id}").status_code == 404


def test_expiry_uses_given_date(app):
    from marketplace.services.lifecycle import expire_certificates

    ent = make_enterprise(owner=make_user(), certificate=False)
    make_certificate(ent, days_valid=100)
    base = ent.certificate.valid_until - timedelta(days=100)
    counts = expire_certificates(today=base + timedelta(days=75))
    assert counts == {"expired": 0, "warned": 1} and len(queued_mail()) == 1
    counts = expire_certificates(today=base + timedelta(days=100))
    assert counts["expired"] == 0  # valid through its last day
    counts = expire_certificates(today=base + timedelta(days=101))
    assert counts["expired"] == 1
    assert ent.status == "expired"


def test_shop_suspend_revoke_reinstate_chain(app, client, login_as):
    ent = make_enterprise(owner=make_user())
    shop = make_shop(ent)
    _staff(login_as)
    client.post(f"/staff/shops/{shop.id}/status", data={"action": "suspended", "reason": "链接跳转异常"})
    assert client.get(f"/go/{shop.id}").status_code == 404
    client.post(f"/staff/shops/{shop.id}/status", data={"action": "suspended", "reason": "再次暂停"})  # refused
    client.post(f"/staff/shops/{shop.id}/status", data={"action": "revoked", "reason": "核实售假"})
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).status == "revoked"
    client.post(f"/staff/shops/{shop.id}/reinstate", data={"note": "申诉成功"})
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).status == "certified"
    assert client.get(f"/go/{shop.id}").status_code in (301, 302, 303, 307)
    actions = [a.action for a in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions == ["shop.suspended", "shop.revoked", "shop.reinstate"]


def test_dashboard_lists_expiring_certificates(app, client, login_as):
    ent = make_enterprise(name="即将到期展示有限公司", certificate=False)
    make_certificate(ent, days_valid=10)
    make_enterprise(name="远期展示有限公司")
    _staff(login_as)
    html = client.get("/staff/").get_data(as_text=True)
    assert "即将到期展示有限公司" in html and "远期展示有限公司" not in html


def _search_ids(client, q, kind="enterprise"):
    resp = client.get("/api/v1/search", query_string={"q": q})
    assert resp.status_code == 200
    return [r["id"] for r in resp.get_json()["results"] if r["kind"] == kind]


def test_revoked_listing_leaves_search_at_once(app, client, login_as):
    if "/api/v1/search" not in {r.rule for r in app.url_map.iter_rules()}:
        import pytest
        pytest.skip("search API not registered")
    ent = make_enterprise(name="佛山撤销测试陶瓷有限公司", brands=["撤销测试瓷"])
    shop = make_shop(ent, name="撤销测试瓷官方旗舰店")
    db.session.commit()
    anon = app.test_client()
    assert ent.id in _search_ids(anon, "撤销测试瓷")
    assert shop.id in _search_ids(anon, "撤销测试瓷官方旗舰店", "shop")
    _staff(login_as)
    client.post(f"/staff/shops/{shop.id}/status", data={"action": "revoked", "reason": "售假"})
    assert shop.id not in _search_ids(anon, "撤销测试瓷官方旗舰店", "shop")
    client.post(f"/staff/enterprises/{ent.id}/status", data={"action": "suspended", "reason": "复核"})
    assert ent.id not in _search_ids(anon, "撤销测试瓷")
    client.post(f"/staff/enterprises/{ent.id}/reinstate", data={})
    assert ent.id in _search_ids(anon, "撤销测试瓷")
