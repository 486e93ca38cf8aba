"""Featured slots: create in China time, order, start and end on time, home preview."""
from datetime import datetime, timedelta

from marketplace.extensions import db
from marketplace.models import AuditLog, FeaturedSlot, Placement, Role
from marketplace import clock
from marketplace.clock import utc_now
from marketplace.services import curation
from tests.factories import industry, make_enterprise, make_user


def _staff(login_as):
    user = make_user(Role.STAFF)
    db.session.commit()
    login_as(user)
    return user


def test_create_slot_times_entered_in_china_time(app, client, login_as):
    ent = make_enterprise(brands=["时区测试"])
    _staff(login_as)
    resp = client.post("/staff/curation", data={
        "placement": "carousel", "industry_id": "0", "enterprise_id": ent.id,
        "starts_at": "2030-01-01T08:00", "ends_at": "2030-01-02T08:00", "title": "新春推荐"})
    assert resp.status_code == 302
    slot = db.session.query(FeaturedSlot).one()
    assert slot.starts_at == datetime(2030, 1, 1, 0, 0) and slot.ends_at == datetime(2030, 1, 2, 0, 0)
    assert slot.title == "新春推荐"
    assert db.session.query(AuditLog).filter_by(action="featured.create").count() == 1
    html = client.get("/staff/curation").get_data(as_text=True)
    assert "2030-01-01 08:00" in html and "待上线" in html


def test_slot_form_errors(app, client, login_as):
    ent = make_enterprise()
    draft = make_enterprise(status="draft", certificate=False)
    _staff(login_as)
    bad = [
        {"placement": "carousel", "industry_id": "0", "enterprise_id": ent.id, "starts_at": "2030-01-02T08:00",
         "ends_at": "2030-01-01T08:00"},
        {"placement": "carousel", "industry_id": "0", "enterprise_id": draft.id, "starts_at": "2030-01-01T08:00"},
        {"placement": "industry", "industry_id": "0", "enterprise_id": ent.id, "starts_at": "2030-01-01T08:00"},
        {"placement": "carousel", "industry_id": "0", "enterprise_id": ent.id, "starts_at": "not-a-date"},
    ]
    for data in bad:
        resp = client.post("/staff/curation", data=data)
        assert resp.status_code == 200, data
    assert db.session.query(FeaturedSlot).count() == 0


def test_slot_starts_and_ends_on_time(app):
    ent = make_enterprise()
    start = datetime(2030, 5, 1, 2, 0)
    end = start + timedelta(days=7)
    slot = curation.create_slot(placement=Placement.CAROUSEL, enterprise_id=ent.id, starts_at=start, ends_at=end)
    db.session.commit()
    second = timedelta(seconds=1)
    assert curation.live_slots(start - second) == []
    assert curation.live_slots(start) == [slot]
    assert curation.live_slots(end - second) == [slot]
    assert curation.live_slots(end) == []
    assert curation.slot_state(slot, start - second) == "scheduled"
    assert curation.slot_state(slot, start) == "live"
    assert curation.slot_state(slot, end) == "ended"
    from marketplace.services.catalog import featured_slots  # the home page's own reading agrees
    live = featured_slots.featured(start)
    assert live.curated_carousel and [e.id for e, _title in live.carousel] == [ent.id]
    assert not featured_slots.featured(end).curated_carousel


def test_home_and_preview_show_slot_only_in_window(app, client, login_as):
    ent = make_enterprise(brands=["窗口期品牌"])
    control = make_enterprise(brands=["常驻品牌"])
    now = utc_now()
    curation.create_slot(placement=Placement.CAROUSEL, enterprise_id=control.id, starts_at=now - timedelta(days=1),
                         ends_at=None)  # keeps the carousel curated, so no automatic fallback
    curation.create_slot(placement=Placement.CAROUSEL, enterprise_id=ent.id,
                         starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=3))
    _staff(login_as)
    anon = app.test_client()
    before = anon.get("/").get_data(as_text=True).count("窗口期品牌")
    china = clock.china_wall_time(now)
    during = client.get("/staff/curation/preview?at=" + (china + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    after = client.get("/staff/curation/preview?at=" + (china + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"))
    assert during.status_code == after.status_code == 200
    n_during = during.get_data(as_text=True).count("窗口期品牌")
    n_after = after.get_data(as_text=True).count("窗口期品牌")
    assert n_during > n_after
    assert n_after == before
    assert client.get("/staff/curation/preview?at=garbage").status_code == 302


def test_slot_shown_on_home_when_live(app, client):
    ent = make_enterprise(brands=["正在推荐品牌"])
    other = make_enterprise(brands=["对照品牌"])
    now = utc_now()
    curation.create_slot(placement=Placement.CAROUSEL, enterprise_id=other.id, starts_at=now - timedelta(days=1),
                         ends_at=None)
    db.session.commit()
    n_without = client.get("/").get_data(as_text=True).count("正在推荐品牌")
    curation.create_slot(placement=Placement.CAROUSEL, enterprise_id=ent.id, starts_at=now - timedelta(minutes=1),
                         ends_at=now + timedelta(hours=1))
    db.session.commit()
    assert client.get("/").get_data(as_text=True).count("正在推荐品牌") > n_without


def test_move_and_end(app, client, login_as):
    a, b, c = (make_enterprise(brands=[n]) for n in ("甲品牌", "乙品牌", "丙品牌"))
    now = utc_now()
    slots = [curation.create_slot(placement=Placement.CAROUSEL, enterprise_id=e.id, starts_at=now - timedelta(hours=1),
                                  ends_at=None) for e in (a, b, c)]
    future = curation.create_slot(placement=Placement.CAROUSEL, enterprise_id=a.id, starts_at=now + timedelta(days=3),
                                  ends_at=None)
    _staff(login_as)
    client.post(f"/staff/curation/{slots[2].id}/move", data={"direction": "up"})
    db.session.expire_all()
    order = [s.enterprise_id for s in curation.live_slots(utc_now(), Placement.CAROUSEL)]
    assert order == [a.id, c.id, b.id]
    client.post(f"/staff/curation/{slots[0].id}/move", data={"direction": "up"})  # already first: no-op
    client.post(f"/staff/curation/{slots[1].id}/end")
    client.post(f"/staff/curation/{future.id}/end")
    db.session.expire_all()
    assert [s.enterprise_id for s in curation.live_slots(utc_now(), Placement.CAROUSEL)] == [a.id, c.id]
    assert db.session.get(FeaturedSlot, future.id) is None
    assert db.session.get(FeaturedSlot, slots[1].id).ends_at is not None
    assert client.post(f"/staff/curation/{slots[0].id}/move", data={"direction": "sideways"}).status_code == 400


def test_industry_rows_and_edit(app, client, login_as):
    ent = make_enterprise(industries=["服装"])
    ind = industry("服装")
    _staff(login_as)
    client.post("/staff/curation", data={"placement": "industry", "industry_id": ind.id, "enterprise_id": ent.id,
                                         "starts_at": "2020-01-01T00:00"})
    slot = db.session.query(FeaturedSlot).one()
    assert slot.industry_id == ind.id
    assert curation.live_slots(utc_now(), Placement.INDUSTRY, industry_id=ind.id) == [slot]
    resp = client.post(f"/staff/curation/{slot.id}", data={"starts_at": "2020-01-01T00:00",
                                                           "ends_at": "2020-02-01T00:00", "title": "x"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert curation.live_slots(utc_now(), Placement.INDUSTRY) == []


def test_picker_search_and_json(app, client, login_as):
    make_enterprise(name="广东拣选测试有限公司", brands=["拣选牌"])
    make_enterprise(name="广东拣选草稿有限公司", status="draft", certificate=False)
    _staff(login_as)
    data = client.get("/staff/api/enterprises?q=拣选").get_json()
    assert [r["brand"] for r in data["results"]] == ["拣选牌"]
    assert client.get("/staff/api/enterprises?q=%25").get_json()["results"] == []
    html = client.get("/staff/curation?q=拣选牌").get_data(as_text=True)
    assert "拣选牌" in html and "选择" in html
