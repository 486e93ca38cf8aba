"""网购节 in the staff console: creating events, reviewing offers, the report, and who may do it."""
from __future__ import annotations

import csv
import re
import io
from datetime import datetime, timedelta

import pytest
from PIL import Image as PILImage
from sqlalchemy import func, select

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import AuditLog, ClickEvent, Image, Offer, OfferStatus, Role, ShoppingEvent, Status
from marketplace.services import ServiceError
from marketplace.services.events import offer_review, offers, report, schedule
from marketplace.services.listings.common import FieldErrors
from marketplace.services.mail import read_outbox
from tests import factories as f

FMT = "%Y-%m-%dT%H:%M"


@pytest.fixture
def staff(app):
    user = f.make_user(Role.STAFF, email="staff@example.com")
    db.session.commit()
    return user


@pytest.fixture
def world(app, staff):
    owner = f.make_user(Role.MERCHANT, email="owner@example.com")
    ent = f.make_enterprise(owner=owner)
    shop = f.make_shop(ent)
    event = f.make_event()
    pending = f.make_offer(event, shop, status=OfferStatus.PENDING)
    db.session.commit()
    return {"staff": staff, "owner": owner, "ent": ent, "shop": shop, "event": event, "pending": pending}


def event_form(**over) -> dict:
    data = {"name": "广货双十一网购节", "slug": "guanghuo-1111", "starts_at": "2099-11-01T00:00",
            "ends_at": "2099-11-11T23:59", "description": "全省认证网店联合让利。"}
    data.update(over)
    return data


def banner_png(width=2400, height=800) -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (width, height), (200, 16, 46)).save(buf, "PNG")
    return buf.getvalue()


def events_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ShoppingEvent))


# --------------------------------------------------------------------------- events


def test_staff_create_an_event_in_china_time_with_a_banner(staff, login_as, client):
    login_as(staff)
    assert client.get("/staff/events/new").status_code == 200
    data = event_form(industry_ids=[str(f.industry("家电").id)])
    data["banner"] = (io.BytesIO(banner_png()), "banner.png")
    resp = client.post("/staff/events/new", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302
    event = db.session.scalar(select(ShoppingEvent))
    assert event.starts_at == datetime(2099, 10, 31, 16, 0)  # 00:00 China time is 16:00 UTC the day before
    assert event.ends_at == datetime(2099, 11, 11, 15, 59)
    assert [i.name for i in event.industries] == ["家电"]
    banner = db.session.get(Image, event.banner_sha256)
    assert banner.width == 1200 and banner.height == 400  # re-encoded through the image pipeline
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "event.create"))
    assert entry.actor_id == staff.id and entry.after["slug"] == "guanghuo-1111"
    assert "广货双十一网购节" in client.get("/staff/events").get_data(as_text=True)


@pytest.mark.parametrize("over, message", [
    ({"name": ""}, "请填写活动名称"),
    ({"slug": "Guanghuo 1111"}, "网址标识须为"),
    ({"slug": "-x-"}, "网址标识须为"),
    ({"slug": "ab"}, "网址标识须为"),
    ({"ends_at": "2099-10-01T00:00"}, "结束时间必须晚于开始时间"),
    ({"ends_at": "2100-06-01T00:00"}, "最长 92 天"),
    ({"starts_at": "2020-01-01T00:00", "ends_at": "2020-01-05T00:00"}, "结束时间已经过去"),
    ({"starts_at": "tomorrow"}, "请填写有效的开始时间"),
    ({"description": "\u202e反向文字"}, "文字方向控制字符"),
])
def test_bad_event_input_is_refused_in_chinese_and_nothing_is_stored(staff, login_as, client, over, message):
    login_as(staff)
    resp = client.post("/staff/events/new", data=event_form(**over))
    assert resp.status_code == 200
    assert message in resp.get_data(as_text=True)
    assert events_count() == 0


def test_a_slug_is_used_once(staff):
    schedule.create_event(staff, {**event_form(), "starts_at": datetime(2099, 1, 1), "ends_at": datetime(2099, 1, 5)})
    with pytest.raises(FieldErrors) as info:
        schedule.create_event(staff, {**event_form(name="另一个"), "starts_at": datetime(2099, 2, 1),
                                      "ends_at": datetime(2099, 2, 5)})
    assert "已被其他网购节使用" in info.value.errors["slug"]


def test_a_bad_banner_is_refused_by_the_image_pipeline(staff, login_as, client):
    login_as(staff)
    data = event_form()
    data["banner"] = (io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>"), "banner.png")
    resp = client.post("/staff/events/new", data=data, content_type="multipart/form-data")
    assert "不支持 SVG" in resp.get_data(as_text=True)
    assert events_count() == 0


def test_the_window_cannot_shrink_past_submitted_offers(world, login_as, client):
    event = world["event"]
    login_as(world["staff"])
    new_end = clock.to_china(event.ends_at - timedelta(days=2)).strftime(FMT)
    resp = client.post(f"/staff/events/{event.id}/edit", data=event_form(
        slug=event.slug, starts_at=clock.to_china(event.starts_at).strftime(FMT), ends_at=new_end))
    assert "1 项优惠的有效期超出新的活动时间" in resp.get_data(as_text=True)
    ends = event.ends_at
    db.session.refresh(event)
    assert event.ends_at == ends and event.name != "广货双十一网购节"


def test_edit_keeps_the_banner_and_records_before_and_after(world, login_as, client):
    event = world["event"]
    login_as(world["staff"])
    data = event_form(slug=event.slug, starts_at=clock.to_china(event.starts_at).strftime(FMT),
                      ends_at=clock.to_china(event.ends_at).strftime(FMT), name="改名后的网购节")
    assert client.get(f"/staff/events/{event.id}/edit").status_code == 200
    assert client.post(f"/staff/events/{event.id}/edit", data=data).status_code == 302
    assert event.name == "改名后的网购节"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "event.update"))
    assert entry.before["name"] != entry.after["name"] == "改名后的网购节"


def test_edit_from_an_outdated_page_is_a_conflict_and_keeps_the_text(world, login_as, client):
    """Two staff members edit one event: the second save, from a page showing the old version,
    is refused with the conflict message and the typed name is kept."""
    event = world["event"]
    login_as(world["staff"])
    page = client.get(f"/staff/events/{event.id}/edit").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    data = event_form(slug=event.slug, starts_at=clock.to_china(event.starts_at).strftime(FMT),
                      ends_at=clock.to_china(event.ends_at).strftime(FMT), version=version)
    assert client.post(f"/staff/events/{event.id}/edit", data={**data, "name": "同事改的名称"}).status_code == 302
    resp = client.post(f"/staff/events/{event.id}/edit", data={**data, "name": "我改的名称"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "该资料刚被修改，请刷新后重试" in html and "我改的名称" in html
    db.session.expire_all()
    assert db.session.get(ShoppingEvent, event.id).name == "同事改的名称"


def test_hiding_an_event_takes_it_off_the_site_and_is_audited(world, login_as, client):
    event, anon = world["event"], client.application.test_client()
    assert anon.get(f"/events/{event.slug}").status_code == 200
    login_as(world["staff"])
    assert client.post(f"/staff/events/{event.id}/visibility", data={"action": "hide"}).status_code == 302
    assert anon.get(f"/events/{event.slug}").status_code == 404
    assert event.name not in anon.get("/events").get_data(as_text=True)
    assert client.post(f"/staff/events/{event.id}/visibility", data={"action": "bogus"}).status_code == 400
    client.post(f"/staff/events/{event.id}/visibility", data={"action": "show"})
    assert anon.get(f"/events/{event.slug}").status_code == 200
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.entity_kind == "shopping_event")).all()
    assert actions == ["event.hide", "event.show"]


# --------------------------------------------------------------------------- offer review


def test_approving_publishes_the_offer_and_mails_the_merchant(world, login_as, client):
    offer, slug = world["pending"], world["event"].slug
    anon = client.application.test_client()
    assert "满300减50" not in anon.get(f"/events/{slug}").get_data(as_text=True)
    login_as(world["staff"])
    queue = client.get("/staff/offers").get_data(as_text=True)
    assert f"/staff/offers/{offer.id}" in queue
    page = client.get(f"/staff/offers/{offer.id}")
    assert page.status_code == 200
    resp = client.post(f"/staff/offers/{offer.id}/approve", data={"version": offer_review.version_of(offer)})
    assert resp.status_code == 302
    assert offer.status == OfferStatus.APPROVED and offer.decided_by_id == world["staff"].id
    assert "满300减50" in anon.get(f"/events/{slug}").get_data(as_text=True)
    mail = read_outbox()[-1]
    assert mail["To"] == "owner@example.com" and "审核已通过" in mail["Subject"]
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "offer.approve")).entity_id == offer.id


def test_rejecting_needs_a_reason_and_mails_it(world, login_as, client):
    offer = world["pending"]
    login_as(world["staff"])
    version = offer_review.version_of(offer)
    resp = client.post(f"/staff/offers/{offer.id}/reject", data={"version": version, "reason": ""})
    assert resp.status_code == 302 and offer.status == OfferStatus.PENDING
    client.post(f"/staff/offers/{offer.id}/reject", data={"version": version, "reason": "门槛与店铺页面不一致"})
    assert offer.status == OfferStatus.REJECTED and offer.reason == "门槛与店铺页面不一致"
    mail = read_outbox()[-1]
    assert "未通过" in mail["Subject"] and "门槛与店铺页面不一致" in mail.get_content()


def test_two_decisions_have_one_winner(world):
    offer, staff = world["pending"], world["staff"]
    version = offer_review.version_of(offer)
    offer_review.approve_offer(offer.id, staff, version)
    db.session.commit()
    with pytest.raises(ServiceError, match="已被其他工作人员处理"):
        offer_review.reject_offer(offer.id, staff, "重复", version)


def test_a_decision_made_elsewhere_first_moves_the_reviewer_on(world, login_as, client):
    """The loser of two decisions is told so (a typed AlreadyDecided, not a compared message),
    nothing it did is kept, nobody is mailed twice, and the reviewer goes on to the next offer."""
    offer, staff = world["pending"], world["staff"]
    version = offer_review.version_of(offer)
    offer_review.approve_offer(offer.id, staff, version)
    db.session.commit()
    mails = len(read_outbox())
    login_as(staff)
    resp = client.post(f"/staff/offers/{offer.id}/reject", data={"version": version, "reason": "重复报名"})
    assert resp.status_code == 302 and f"/staff/offers/{offer.id}" not in resp.headers["Location"]
    with client.session_transaction() as sess:
        assert any("已被其他工作人员处理" in message for _, message in sess["_flashes"])
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).status == OfferStatus.APPROVED and len(read_outbox()) == mails
    # a page older than the merchant's last change: back to the offer, with the reason
    second = f.make_offer(world["event"], world["shop"], status=OfferStatus.PENDING)
    db.session.commit()
    resp = client.post(f"/staff/offers/{second.id}/approve", data={"version": second.version + 1})
    assert resp.status_code == 302 and resp.headers["Location"].startswith(f"/staff/offers/{second.id}")
    db.session.expire_all()
    assert db.session.get(Offer, second.id).status == OfferStatus.PENDING


def test_an_offer_changed_after_the_page_opened_is_not_approved_unseen(world):
    offer = world["pending"]
    seen = offer_review.version_of(offer)
    event = world["event"]
    start = clock.to_china(clock.utc_now()).replace(tzinfo=None)
    offers.update_offer(world["owner"], offer.id, {
        "kind": "threshold", "threshold": "300", "amount": "250", "terms": "改过", "starts_at": start,
        "ends_at": clock.to_china(event.ends_at).replace(tzinfo=None)}, now=clock.utc_now() + timedelta(seconds=1))
    db.session.commit()
    with pytest.raises(ServiceError, match="商家刚刚修改"):
        offer_review.approve_offer(offer.id, world["staff"], seen)
    db.session.rollback()
    assert db.session.get(Offer, offer.id).status == OfferStatus.PENDING


def test_an_offer_that_ended_or_whose_shop_was_revoked_cannot_be_approved(world):
    offer, staff = world["pending"], world["staff"]
    world["shop"].status = Status.REVOKED
    db.session.commit()
    with pytest.raises(ServiceError, match="不是认证状态"):
        offer_review.approve_offer(offer.id, staff)
    db.session.rollback()
    world["shop"].status = Status.CERTIFIED
    db.session.commit()
    with clock.frozen(offer.ends_at + timedelta(minutes=1)), pytest.raises(ServiceError, match="已经结束"):
        offer_review.approve_offer(offer.id, staff)


# --------------------------------------------------------------------------- report


def test_report_counts_participants_offers_and_clicks_by_day(world):
    shop = world["shop"]
    with clock.frozen(datetime(2030, 5, 1, 4, 0)):  # starts 2030-04-30 12:00 China time
        event = f.make_event()
    f.make_offer(event, shop)
    f.make_offer(event, shop, status=OfferStatus.PENDING)
    other = f.make_shop(f.make_enterprise(owner=f.make_user()))
    withdrawn = f.make_offer(event, other, status=OfferStatus.WITHDRAWN)
    withdrawn.decided_at = event.starts_at - timedelta(days=1)  # approved, then withdrawn two hours into day one
    withdrawn.withdrawn_at = event.starts_at + timedelta(hours=2)
    f.make_offer(event, other, status=OfferStatus.WITHDRAWN)  # withdrawn before review: never published
    day_one = event.starts_at + timedelta(hours=1)
    db.session.add_all([ClickEvent(shop_id=shop.id, event_id=event.id, at=day_one) for _ in range(3)]
                       + [ClickEvent(shop_id=shop.id, at=day_one)])  # a click not through the event
    db.session.commit()
    tables = {t.name: t for t in report.event_report(event, now=event.starts_at + timedelta(days=1, hours=12))}
    summary = dict(tables["summary"].rows)
    assert summary == {"参与网店": 2, "参与企业": 2, "发布的优惠": 2, "待审核优惠": 1, "网购节点击": 3}
    first, second = tables["daily"].rows[0], tables["daily"].rows[1]
    assert first[1:] == [2, 2, 3] and second[1:] == [1, 1, 0]
    assert [r[0] for r in tables["offers"].rows] == sorted(o.id for o in event.offers)


def test_report_page_and_csv_are_formula_safe(world, login_as, client):
    world["shop"].name = "=HYPERLINK(\"http://evil.example\")"
    f.make_offer(world["event"], world["shop"])
    db.session.commit()
    login_as(world["staff"])
    page = client.get(f"/staff/events/{world['event'].id}/report")
    assert page.status_code == 200 and 'id="stats-data"' in page.get_data(as_text=True)
    resp = client.get(f"/staff/events/{world['event'].id}/report/offers.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "企业", "网店"]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert client.get(f"/staff/events/{world['event'].id}/report/nope.csv").status_code == 404


# --------------------------------------------------------------------------- who may use the console


def test_merchants_and_anonymous_visitors_cannot_use_the_event_console(world, login_as, client):
    event, offer = world["event"], world["pending"]
    gets = ["/staff/events", "/staff/events/new", f"/staff/events/{event.id}/edit", "/staff/offers",
            f"/staff/offers/{offer.id}", f"/staff/events/{event.id}/report", f"/staff/events/{event.id}/report/daily.csv"]
    posts = [("/staff/events/new", event_form()), (f"/staff/events/{event.id}/visibility", {"action": "hide"}),
             (f"/staff/offers/{offer.id}/approve", {}), (f"/staff/offers/{offer.id}/reject", {"reason": "x"})]
    for url in gets:
        assert client.get(url).status_code == 302, url  # to the login page
    login_as(world["owner"])
    for url in gets:
        assert client.get(url).status_code == 403, url
    for url, data in posts:
        assert client.post(url, data=data).status_code == 403, url
    assert events_count() == 1 and not event.hidden and offer.status == OfferStatus.PENDING
