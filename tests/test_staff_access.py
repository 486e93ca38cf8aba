"""Every staff URL refuses anonymous users (login redirect) and merchants (403).

The list is generated from the app's URL map, so a route added later is covered automatically.
"""
import re

import pytest

from marketplace.extensions import db
from marketplace.models import Application, AuditLog, Complaint, FeaturedSlot, Role, User
from tests.factories import make_application, make_complaint, make_enterprise, make_shop, make_user


def staff_routes(app):
    """(method, url) for every rule of the staff blueprint, ids filled with 1 / a real name."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("staff."):
            continue
        url = re.sub(r"<int:[^>]+>", "1", rule.rule)
        url = re.sub(r"<[^>]+>", "progress", url)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((method, url))
    return out


def test_url_map_has_staff_routes(app):
    routes = staff_routes(app)
    assert len(routes) >= 30
    assert ("GET", "/staff/") in routes and ("POST", "/staff/review/1/approve") in routes


def _setup(app):
    ent = make_enterprise()
    shop = make_shop(ent)
    make_application(ent, "enterprise", applicant=make_user())
    make_complaint(ent, shop=shop)
    db.session.commit()
    return ent


def test_anonymous_is_sent_to_login_everywhere(app, client):
    _setup(app)
    before = (db.session.query(Application).filter_by(status="pending").count(), db.session.query(AuditLog).count())
    for method, url in staff_routes(app):
        resp = client.open(url, method=method, data={"reason": "x", "action": "revoked"})
        assert resp.status_code == 302, (method, url, resp.status_code)
        assert "/login" in resp.headers["Location"], (method, url)
    assert (db.session.query(Application).filter_by(status="pending").count(), db.session.query(AuditLog).count()) == before


def test_merchant_gets_403_everywhere(app, client, login_as):
    ent = _setup(app)
    merchant = ent.owner or make_user(Role.MERCHANT)
    db.session.commit()
    login_as(merchant)
    for method, url in staff_routes(app):
        resp = client.open(url, method=method, data={"reason": "x", "action": "revoked", "enable": "0"})
        assert resp.status_code == 403, (method, url, resp.status_code)
    db.session.expire_all()
    assert db.session.query(Application).filter_by(status="pending").count() == 1
    assert db.session.query(Complaint).filter_by(status="new").count() == 1
    assert db.session.query(FeaturedSlot).count() == 0


def test_json_endpoints_refuse_merchants(app, client, login_as):
    login_as(make_user(Role.MERCHANT))
    db.session.commit()
    for url in ("/staff/api/enterprises?q=测试", "/staff/stats.json"):
        assert client.get(url).status_code == 403


def test_staff_can_open_every_get_page(app, client, login_as):
    _setup(app)
    login_as(make_user(Role.STAFF))
    db.session.commit()
    for method, url in staff_routes(app):
        if method != "GET" or url.startswith("/staff/accounts"):
            continue
        resp = client.get(url)
        assert resp.status_code in (200, 302, 404), (url, resp.status_code)
        assert resp.status_code != 500


def test_admin_pages_are_admin_only(app, client, login_as):
    staff = make_user(Role.STAFF)
    db.session.commit()
    login_as(staff)
    assert client.get("/staff/accounts").status_code == 403
    assert client.post("/staff/accounts", data={"email": "x@example.com", "password": "x" * 12,
                                                "role": "admin"}).status_code == 403
    assert client.post(f"/staff/accounts/{staff.id}/enabled", data={"enable": "0"}).status_code == 403
    assert db.session.query(User).filter_by(email="x@example.com").count() == 0


def test_admin_creates_and_deactivates_staff(app, client, login_as):
    admin = make_user(Role.ADMIN)
    db.session.commit()
    login_as(admin)
    resp = client.post("/staff/accounts", data={"email": "New.Staff@Example.com", "password": "a-long-staff-password-9",
                                                "role": "staff", "display_name": "小王"})
    assert resp.status_code == 302
    user = db.session.query(User).filter_by(email="new.staff@example.com").one()
    assert user.role == Role.STAFF and user.is_enabled
    # the new account works in the console
    other = app.test_client()
    login_as(user, other)
    assert other.get("/staff/").status_code == 200
    # deactivation logs it out at once
    assert client.post(f"/staff/accounts/{user.id}/enabled", data={"enable": "0"}).status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, user.id).is_enabled
    assert other.get("/staff/").status_code == 302
    actions = [a.action for a in db.session.query(AuditLog).all()]
    assert "account.create" in actions and "account.disable" in actions


def test_admin_create_staff_refuses_weak_password(app, client, login_as):
    login_as(make_user(Role.ADMIN))
    db.session.commit()
    resp = client.post("/staff/accounts", data={"email": "weak@example.com", "password": "123", "role": "staff"})
    assert resp.status_code == 200
    assert db.session.query(User).filter_by(email="weak@example.com").count() == 0


@pytest.mark.parametrize("extra", [{"role": "admin"}, {"status": "approved"}])
def test_staff_cannot_post_without_csrf(app, client, login_as, extra):
    ent = make_enterprise(status="pending", owner=make_user())
    a = make_application(ent)
    login_as(make_user(Role.STAFF))
    db.session.commit()
    resp = client.post(f"/staff/review/{a.id}/approve", data=extra, csrf=False)
    assert resp.status_code == 400
    db.session.expire_all()
    assert db.session.get(Application, a.id).status == "pending"
