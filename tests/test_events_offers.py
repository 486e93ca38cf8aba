"""网购节 offers from the merchant's side: the input rules, ownership and the merchant pages."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import AuditLog, Offer, OfferKind, OfferStatus, Role, Status
from marketplace.services import NotFound, ServiceError
from marketplace.services.events import offers
from marketplace.services.events.offer_fields import clean_offer_fields, parse_discount, parse_yuan
from marketplace.services.listings.common import FieldErrors
from marketplace.validation import ValidationError
from tests import factories as f

FMT = "%Y-%m-%dT%H:%M"


def china(dt: datetime) -> datetime:
    """A stored naive-UTC instant as the naive China time a merchant would type."""
    return clock.to_china(dt).replace(tzinfo=None)


@pytest.fixture
def world(app):
    owner = f.make_user(Role.MERCHANT, email="owner@example.com")
    other = f.make_user(Role.MERCHANT, email="other@example.com")
    ent = f.make_enterprise(owner=owner, industries=["家电"])
    shop = f.make_shop(ent)
    draft_shop = f.make_shop(ent, status=Status.DRAFT)
    event = f.make_event(lasts=timedelta(days=10))
    db.session.commit()
    return {"owner": owner, "other": other, "ent": ent, "shop": shop, "draft_shop": draft_shop, "event": event}


def form(event, **over) -> dict:
    """Offer form data as typed: 满300减50 from now for three days (China time)."""
    start = clock.utc_now()
    data = {"kind": OfferKind.THRESHOLD, "threshold": "300", "amount": "50", "terms": "全店通用，每单限用一次。",
            "coupon_code": "", "starts_at": china(start), "ends_at": china(start + timedelta(days=3))}
    data.update(over)
    return data


def offer_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Offer))


# --------------------------------------------------------------------------- amounts


@pytest.mark.parametrize("raw, fen", [("50", 5000), ("19.9", 1990), ("19.90", 1990), ("￥1,299元", 129900),
                                      ("０.５", 50), ("", 0)])
def test_yuan_amounts_are_stored_in_fen(raw, fen):
    assert parse_yuan(raw, "金额") == fen


@pytest.mark.parametrize("raw, message", [("-5", "不能为负数"), ("－5", "不能为负数"), ("abc", "须为金额"),
                                          ("1.234", "须为金额"), ("1e3", "须为金额"), ("2000000", "不能超过")])
def test_bad_yuan_amounts_are_refused_in_chinese(raw, message):
    with pytest.raises(ValidationError, match=message):
        parse_yuan(raw, "金额")


@pytest.mark.parametrize("raw, tenths", [("8.5", 85), ("9", 90), ("0.1", 1), ("9.9折", 99)])
def test_discounts_are_typed_in_zhe(raw, tenths):
    assert parse_discount(raw) == tenths


@pytest.mark.parametrize("raw", ["0", "10", "12", "-1", "8.55", "0.0", "八五", ""])
def test_discounts_out_of_range_are_refused(raw):
    with pytest.raises(ValidationError, match="折"):
        parse_discount(raw)


# --------------------------------------------------------------------------- the form's rules


def _errors(event, **over) -> dict:
    with pytest.raises(FieldErrors) as info:
        clean_offer_fields(form(event, **over), event)
    return info.value.errors


def test_a_valid_offer_is_cleaned_to_model_values(world):
    values = clean_offer_fields(form(world["event"], discount="8.5", gift="不该保存"), world["event"])
    assert values["threshold_fen"] == 30000 and values["amount_fen"] == 5000
    assert values["discount_tenths"] == 0 and values["gift"] == ""  # other kinds' fields are dropped
    assert values["starts_at"] == clock.china_local_to_utc(form(world["event"])["starts_at"].replace(second=0, microsecond=0))


def test_offer_outside_the_event_window_is_refused(world):
    event = world["event"]
    errors = _errors(event, ends_at=china(event.ends_at + timedelta(hours=1)))
    assert "网购节期间" in errors["starts_at"]
    later = f.make_event(starts_in=timedelta(days=5))
    errors = _errors(later, starts_at=china(later.starts_at - timedelta(days=1)), ends_at=china(later.ends_at))
    assert "网购节期间" in errors["starts_at"]


def test_offer_dates_that_have_passed_are_refused(world):
    event = world["event"]
    now = clock.utc_now()
    errors = _errors(event, starts_at=china(now - timedelta(hours=20)), ends_at=china(now - timedelta(minutes=5)))
    assert "结束时间已经过去" in errors["ends_at"]
    with clock.frozen(event.starts_at + timedelta(days=3)):
        errors = _errors(event, starts_at=china(event.starts_at), ends_at=china(event.ends_at))
    assert "开始日期已经过去" in errors["starts_at"]


def test_end_before_start_and_missing_dates_are_refused(world):
    event = world["event"]
    now = clock.utc_now()
    assert "晚于开始时间" in _errors(event, starts_at=china(now + timedelta(days=2)),
                                  ends_at=china(now + timedelta(days=1)))["ends_at"]
    assert "开始时间" in _errors(event, starts_at=None)["starts_at"]


@pytest.mark.parametrize("over, field, message", [
    ({"amount": "-50"}, "amount", "不能为负数"),
    ({"threshold": "-1"}, "threshold", "不能为负数"),
    ({"amount": "0"}, "amount", "必须大于 0"),
    ({"amount": "300"}, "amount", "必须小于门槛金额"),
    ({"amount": "400"}, "amount", "必须小于门槛金额"),
    ({"kind": OfferKind.DISCOUNT, "discount": "10"}, "discount", "0.1 折到 9.9 折"),
    ({"kind": OfferKind.DISCOUNT, "discount": "-2"}, "discount", "0.1 折到 9.9 折"),
    ({"kind": OfferKind.COUPON, "amount": "", "threshold": "100"}, "amount", "必须大于 0"),
    ({"kind": OfferKind.GIFT, "gift": ""}, "gift", "请填写赠品"),
    ({"coupon_code": "满减券"}, "coupon_code", "优惠码只能包含"),
    ({"coupon_code": "A" * 33}, "coupon_code", "优惠码只能包含"),
    ({"terms": ""}, "terms", "请填写使用说明"),
    ({"terms": "x" * 301}, "terms", "不能超过 300"),
    ({"terms": "限用\x00一次"}, "terms", "空字符"),
    ({"kind": "cashback"}, "kind", "请选择优惠类型"),
])
def test_bad_offer_input_gets_a_chinese_message_on_its_field(world, over, field, message):
    assert message in _errors(world["event"], **over)[field]


def test_headlines_read_like_chinese_shops_write_them(world):
    event, shop = world["event"], world["shop"]
    assert f.make_offer(event, shop).headline == "满300减50"
    assert f.make_offer(event, shop, kind="discount").headline == "8.5折"
    assert f.make_offer(event, shop, kind="coupon", threshold_fen=0, amount_fen=1990).headline == "19.9元优惠券（无门槛）"
    assert f.make_offer(event, shop, kind="free_shipping", threshold_fen=9900).headline == "满99元包邮"
    assert f.make_offer(event, shop, kind="gift", threshold_fen=0).headline == "下单赠帆布袋"


# --------------------------------------------------------------------------- who may enroll


def test_merchant_submits_an_offer_pending_review_with_an_audit_entry(world):
    offer = offers.submit_offer(world["owner"], world["shop"].id, world["event"].id, form(world["event"]))
    db.session.commit()
    assert offer.status == OfferStatus.PENDING and offer.submitted_by_id == world["owner"].id
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "offer.submit"))
    assert entry.entity_id == offer.id and entry.actor_id == world["owner"].id


def test_an_uncertified_shop_cannot_enroll(world):
    with pytest.raises(ServiceError, match="已认证网店"):
        offers.submit_offer(world["owner"], world["draft_shop"].id, world["event"].id, form(world["event"]))
    db.session.rollback()
    world["ent"].status = Status.SUSPENDED
    db.session.commit()
    with pytest.raises(ServiceError, match="已认证网店"):
        offers.submit_offer(world["owner"], world["shop"].id, world["event"].id, form(world["event"]))
    db.session.rollback()
    assert offer_count() == 0


def test_another_merchants_shop_is_not_found(world):
    with pytest.raises(NotFound):
        offers.submit_offer(world["other"], world["shop"].id, world["event"].id, form(world["event"]))
    db.session.rollback()
    assert offer_count() == 0


def test_staff_cannot_enroll_as_a_merchant(world):
    staff = f.make_user(Role.STAFF)
    with pytest.raises(ServiceError):
        offers.submit_offer(staff, world["shop"].id, world["event"].id, form(world["event"]))


def test_an_event_for_other_industries_refuses_the_shop(world):
    event = f.make_event(industries=["陶瓷"])
    db.session.commit()
    with pytest.raises(ServiceError, match="只面向以下行业：陶瓷"):
        offers.submit_offer(world["owner"], world["shop"].id, event.id, form(event))
    db.session.rollback()
    assert offers.eligible_shops(world["owner"], event) == []
    assert offers.eligible_shops(world["owner"], world["event"]) == [world["shop"]]


def test_hidden_and_ended_events_take_no_offers(world):
    hidden = f.make_event(hidden=True)
    ended = f.make_event(starts_in=-timedelta(days=20), lasts=timedelta(days=5))
    db.session.commit()
    with pytest.raises(NotFound):
        offers.submit_offer(world["owner"], world["shop"].id, hidden.id, form(hidden))
    with pytest.raises(ServiceError, match="已经结束"):
        offers.submit_offer(world["owner"], world["shop"].id, ended.id, form(ended))
    db.session.rollback()
    assert offer_count() == 0


def test_a_shop_has_at_most_five_open_offers_per_event(world):
    for _ in range(offers.MAX_OPEN_OFFERS):
        offers.submit_offer(world["owner"], world["shop"].id, world["event"].id, form(world["event"]))
    with pytest.raises(ServiceError, match="最多同时有 5 项"):
        offers.submit_offer(world["owner"], world["shop"].id, world["event"].id, form(world["event"]))


def test_only_pending_or_rejected_offers_can_be_changed(world):
    offer = f.make_offer(world["event"], world["shop"], status=OfferStatus.APPROVED)
    db.session.commit()
    with pytest.raises(ServiceError, match="已通过的优惠请撤下"):
        offers.update_offer(world["owner"], offer.id, form(world["event"], amount="80"))
    rejected = f.make_offer(world["event"], world["shop"], status=OfferStatus.REJECTED)
    rejected.reason = "门槛不清楚"
    db.session.commit()
    changed = offers.update_offer(world["owner"], rejected.id, form(world["event"], amount="80"))
    assert changed.status == OfferStatus.PENDING and changed.amount_fen == 8000
    assert changed.reason == "" and changed.decided_at is None


def test_another_merchant_cannot_change_or_withdraw_an_offer(world):
    offer = f.make_offer(world["event"], world["shop"], status=OfferStatus.PENDING)
    db.session.commit()
    with pytest.raises(NotFound):
        offers.update_offer(world["other"], offer.id, form(world["event"], amount="10"))
    with pytest.raises(NotFound):
        offers.withdraw_offer(world["other"], offer.id)
    db.session.rollback()
    db.session.refresh(offer)
    assert offer.status == OfferStatus.PENDING and offer.amount_fen == 5000


def test_withdrawing_twice_is_refused(world):
    offer = f.make_offer(world["event"], world["shop"])
    db.session.commit()
    offers.withdraw_offer(world["owner"], offer.id)
    db.session.commit()
    assert offer.status == OfferStatus.WITHDRAWN and offer.withdrawn_at is not None
    with pytest.raises(ServiceError, match="无需撤下"):
        offers.withdraw_offer(world["owner"], offer.id)


# --------------------------------------------------------------------------- merchant pages


def test_merchant_enrolls_a_shop_through_the_form(world, login_as, client):
    login_as(world["owner"])
    page = client.get("/merchant/events")
    assert page.status_code == 200
    url = f"/merchant/shops/{world['shop'].id}/events/{world['event'].id}/offers/new"
    assert url in page.get_data(as_text=True)
    assert client.get(url).status_code == 200
    start = clock.utc_now() + timedelta(hours=1)
    resp = client.post(url, data={"kind": "coupon", "amount": "30", "threshold": "199", "terms": "新客专享",
                                  "coupon_code": "GD2026", "starts_at": china(start).strftime(FMT),
                                  "ends_at": china(start + timedelta(days=2)).strftime(FMT)})
    assert resp.status_code == 302
    offer = db.session.scalar(select(Offer))
    assert (offer.kind, offer.amount_fen, offer.threshold_fen, offer.coupon_code) == ("coupon", 3000, 19900, "GD2026")
    assert offer.status == OfferStatus.PENDING
    listing = client.get("/merchant/events").get_data(as_text=True)
    assert "30元优惠券（满199可用）" in listing and "审核中" in listing


def test_bad_form_input_shows_chinese_errors_and_stores_nothing(world, login_as, client):
    login_as(world["owner"])
    url = f"/merchant/shops/{world['shop'].id}/events/{world['event'].id}/offers/new"
    event = world["event"]
    resp = client.post(url, data={"kind": "threshold", "threshold": "100", "amount": "-20", "terms": "说明",
                                  "starts_at": china(event.starts_at - timedelta(days=3)).strftime(FMT),
                                  "ends_at": "not a date"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "减免金额不能为负数" in html and "请填写有效的结束时间" in html
    assert offer_count() == 0


def test_merchant_pages_refuse_other_merchants_objects(world, login_as, client):
    offer = f.make_offer(world["event"], world["shop"], status=OfferStatus.PENDING)
    db.session.commit()
    login_as(world["other"])
    assert client.get(f"/merchant/shops/{world['shop'].id}/events/{world['event'].id}/offers/new").status_code == 404
    assert client.post(f"/merchant/shops/{world['shop'].id}/events/{world['event'].id}/offers/new",
                       data=form(world["event"])).status_code == 404
    assert client.get(f"/merchant/offers/{offer.id}/edit").status_code == 404
    assert client.post(f"/merchant/offers/{offer.id}/withdraw").status_code == 404
    assert offer_count() == 1 and offer.status == OfferStatus.PENDING
    assert "满300减50" not in client.get("/merchant/events").get_data(as_text=True)


def test_merchant_event_pages_need_a_merchant(world, login_as, client):
    assert client.get("/merchant/events").status_code == 302  # anonymous → login
    staff = f.make_user(Role.STAFF)
    db.session.commit()  # a 403 rolls the request back, and tests share the session
    login_as(staff)
    assert client.get("/merchant/events").status_code == 403
    assert client.get(f"/merchant/shops/{world['shop'].id}/events/{world['event'].id}/offers/new").status_code == 403


def test_merchant_withdraws_an_approved_offer_from_the_page(world, login_as, client):
    offer = f.make_offer(world["event"], world["shop"])
    db.session.commit()
    assert "满300减50" in client.get(f"/events/{world['event'].slug}").get_data(as_text=True)
    login_as(world["owner"])
    assert client.post(f"/merchant/offers/{offer.id}/withdraw").status_code == 302
    assert offer.status == OfferStatus.WITHDRAWN
    anon = client.application.test_client()
    assert "满300减50" not in anon.get(f"/events/{world['event'].slug}").get_data(as_text=True)
