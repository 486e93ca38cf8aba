"""Impersonation watch (issue 13 §7): /verify misses whose host imitates a certified shop, spells
its shop or brand, or whose text names the brand are counted per brand owner and host — only the
host, bounded — grouped for staff and shown to the brand's owner."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import ImpersonationSighting, Role
from marketplace.services import impersonation
from tests.factories import make_enterprise, make_shop, make_user


@pytest.fixture
def world(app):
    owner = make_user()
    ent = make_enterprise("潮州慈海陶瓷有限公司", brands=["慈海", "Cihai"], owner=owner)
    make_shop(ent, url="https://cihai.tmall.com/", name="慈海旗舰店")
    staff = make_user(Role.STAFF)
    db.session.commit()
    return {"owner": owner, "ent": ent, "staff": staff}


def _sightings():
    db.session.expire_all()
    return {(s.host, s.kind): s.count for s in db.session.scalars(select(ImpersonationSighting))}


def test_misses_naming_a_certified_brand_are_counted_by_host(app, client, world):
    client.get("/verify", query_string={"q": "https://cihai.tmall.com.shop-evil.example/item?buyer=13800000000"})
    client.get("/api/v1/verify", query_string={"url": "https://cihai.tmall.com.shop-evil.example/other"})
    client.get("/verify", query_string={"q": "https://cihai-outlet.tmall.com/?spm=abc"})
    client.get("/verify", query_string={"q": "【天猫】「慈海官方旗舰店」https://m.tb.cn/h.abcd?tk=secret123"})
    assert _sightings() == {("cihai.tmall.com.shop-evil.example", "lookalike"): 2,
                            ("cihai-outlet.tmall.com", "host"): 1, ("m.tb.cn", "mention"): 1}
    stored = " ".join(f"{s.host}" for s in db.session.scalars(select(ImpersonationSighting)))
    assert "13800000000" not in stored and "secret123" not in stored and "spm" not in stored


def test_hits_and_unrelated_misses_are_not_recorded(client, world):
    client.get("/verify", query_string={"q": "https://cihai.tmall.com/"})  # the real shop
    client.get("/verify", query_string={"q": "https://unrelated-shop.tmall.com/"})
    client.get("/verify", query_string={"q": "慈海"})  # a name lookup is no miss
    client.get("/verify", query_string={"q": "GDWS-2026-000001"})
    assert _sightings() == {}


def test_never_public_brands_are_not_watched(client, world):
    hidden = make_enterprise("广东草稿品牌有限公司", brands=["Hidden"], status="draft")
    make_shop(hidden, url="https://hiddenbrand.tmall.com/", status="draft")
    db.session.commit()
    client.get("/verify", query_string={"q": "https://hiddenbrand.tmall.com.evil.example/"})
    client.get("/verify", query_string={"q": "https://hidden-outlet.example/"})
    assert _sightings() == {}


def test_storage_is_bounded_per_brand_and_purged_when_stale(app, client, world, monkeypatch):
    monkeypatch.setattr(impersonation, "MAX_HOSTS", 3)
    start = datetime(2026, 6, 1, 2)
    for n in range(5):
        with clock.frozen(start + timedelta(minutes=n)):
            client.get("/verify", query_string={"q": f"https://cihai.tmall.com.evil{n}.example/"})
    hosts = sorted(h for h, _ in _sightings())
    assert hosts == ["cihai.tmall.com.evil2.example", "cihai.tmall.com.evil3.example", "cihai.tmall.com.evil4.example"]
    assert impersonation.purge(start + timedelta(days=impersonation.KEEP_DAYS - 1)) == 0
    assert impersonation.purge(start + timedelta(days=impersonation.KEEP_DAYS + 1)) == 3
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(ImpersonationSighting)) == 0


def test_staff_see_sightings_grouped_by_brand_and_owners_see_their_own(app, client, login_as, world):
    other_owner = make_user()
    other = make_enterprise("广东别家品牌有限公司", brands=["Biejia"], owner=other_owner)
    make_shop(other, url="https://biejia.tmall.com/")
    db.session.commit()
    anonymous = app.test_client()
    anonymous.get("/verify", query_string={"q": "https://cihai.tmall.com.evil.example/"})
    anonymous.get("/verify", query_string={"q": "https://biejia-tmall.com/"})
    login_as(world["staff"])
    page = client.get("/staff/impersonation").get_data(as_text=True)
    assert "慈海" in page and "cihai.tmall.com.evil.example" in page and "biejia-tmall.com" in page
    assert "仿冒域名" in page
    login_as(world["owner"])
    dashboard = client.get("/merchant/").get_data(as_text=True)
    assert "疑似仿冒监测" in dashboard and "cihai.tmall.com.evil.example" in dashboard
    assert "biejia-tmall.com" not in dashboard
    assert client.get("/staff/impersonation").status_code == 403
    login_as(other_owner)
    dashboard = client.get("/merchant/").get_data(as_text=True)
    assert "biejia-tmall.com" in dashboard and "cihai.tmall.com.evil.example" not in dashboard
