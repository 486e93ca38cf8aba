"""Certified merchants enroll their certified shops in a 网购节 with offers.

Every function takes the acting merchant and checks ownership itself: another merchant's shop or
offer is ``NotFound`` (a 404, nothing changes). Only a certified shop of a certified enterprise
may take part, only in an event that is neither hidden nor over, and — when the event names
industries — only if its enterprise is in one of them. A new or changed offer waits for staff
review; an approved offer cannot be edited (withdraw it and submit a new one), so what consumers
see is always what staff approved.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from ... import clock
from ...search_sync.outbox import enqueue
from ...extensions import db
from ...models import Enterprise, Offer, OfferStatus, Shop, ShoppingEvent, User, shop_is_public
from .. import NotFound, ServiceError
from ..audit import record
from ..listings.lookups import require_merchant, get_owned_shop
from .offer_fields import clean_offer_fields

MAX_OPEN_OFFERS = 5  # pending + approved offers of one shop in one event
EDITABLE = (OfferStatus.PENDING, OfferStatus.REJECTED)
WITHDRAWABLE = (OfferStatus.PENDING, OfferStatus.APPROVED)


def open_events(now: datetime | None = None) -> list[ShoppingEvent]:
    """Events a merchant can still enroll in: not hidden and not over, soonest first."""
    now = now or clock.utc_now()
    return list(db.session.scalars(select(ShoppingEvent).where(
        ShoppingEvent.hidden.is_(False), ShoppingEvent.ends_at > now).order_by(ShoppingEvent.starts_at)))


def get_enrollable_event(event_id: int, now: datetime | None = None) -> ShoppingEvent:
    """An event open for enrolment; hidden or unknown is ``NotFound``, an ended one is refused."""
    now = now or clock.utc_now()
    event = db.session.get(ShoppingEvent, event_id)
    if event is None or event.hidden:
        raise NotFound("网购节不存在。")
    if event.ends_at <= now:
        raise ServiceError("该网购节已经结束，不能再报名。")
    return event


def _industry_ok(event: ShoppingEvent, ent: Enterprise) -> bool:
    wanted = {i.id for i in event.industries}
    return not wanted or bool(wanted & {i.id for i in ent.industries})


def eligible_shops(user: User, event: ShoppingEvent) -> list[Shop]:
    """The merchant's certified shops (of certified enterprises) that may join ``event``."""
    require_merchant(user)
    shops = db.session.scalars(select(Shop).join(Shop.enterprise).where(
        Enterprise.owner_id == user.id, shop_is_public()).order_by(Enterprise.id, Shop.id))
    return [s for s in shops if _industry_ok(event, s.enterprise)]


def check_shop(user: User, shop_id, event: ShoppingEvent) -> Shop:
    """The merchant's own shop ``shop_id`` if it may take part in ``event``."""
    try:
        shop = get_owned_shop(user, int(shop_id))
    except (TypeError, ValueError):
        raise NotFound("店铺不存在。") from None
    if not shop.is_public:
        raise ServiceError("只有已认证企业的已认证网店可以报名网购节。")
    if not _industry_ok(event, shop.enterprise):
        names = "、".join(i.name for i in event.industries)
        raise ServiceError(f"本期网购节只面向以下行业：{names}。")
    return shop


def snapshot(offer: Offer) -> dict:
    """An offer's fields for the audit log."""
    return {"event_id": offer.event_id, "shop_id": offer.shop_id, "kind": offer.kind,
            "threshold_fen": offer.threshold_fen, "amount_fen": offer.amount_fen,
            "discount_tenths": offer.discount_tenths, "gift": offer.gift, "terms": offer.terms,
            "coupon_code": offer.coupon_code, "status": offer.status,
            "starts_at": offer.starts_at.isoformat() if offer.starts_at else None,
            "ends_at": offer.ends_at.isoformat() if offer.ends_at else None}


def create_offer(shop: Shop, event: ShoppingEvent, values: dict, actor=None,
                 now: datetime | None = None) -> Offer:
    """Store a validated offer (``clean_offer_fields``) as pending review, with an audit entry.

    The merchant path is ``submit_offer``; the demo loader calls this directly for imported
    enterprises that have no owner account.
    """
    open_count = db.session.scalar(select(func.count()).select_from(Offer).where(
        Offer.event_id == event.id, Offer.shop_id == shop.id, Offer.status.in_(WITHDRAWABLE))) or 0
    if open_count >= MAX_OPEN_OFFERS:
        raise ServiceError(f"每个网店在一期网购节中最多同时有 {MAX_OPEN_OFFERS} 项优惠（审核中或已通过）。")
    offer = Offer(event=event, shop=shop, status=OfferStatus.PENDING, submitted_by_id=getattr(actor, "id", None),
                  submitted_at=now or clock.utc_now(), **values)
    db.session.add(offer)
    db.session.flush()
    record("offer.submit", actor=actor, entity_kind="offer", entity_id=offer.id,
           enterprise_id=shop.enterprise_id, after=snapshot(offer))
    return offer


def submit_offer(user: User, shop_id: int, event_id: int, data: dict, now: datetime | None = None) -> Offer:
    """Enroll one of the merchant's shops in an event with a new offer (pending review)."""
    now = now or clock.utc_now()
    require_merchant(user)
    get_owned_shop(user, shop_id)  # another merchant's shop is NotFound before anything else
    event = get_enrollable_event(event_id, now)
    shop = check_shop(user, shop_id, event)
    values = clean_offer_fields(data, event, now)
    return create_offer(shop, event, values, actor=user, now=now)


def get_own_offer(user: User, offer_id: int) -> Offer:
    """The offer ``offer_id`` if it belongs to one of the merchant's shops; ``NotFound`` otherwise."""
    require_merchant(user)
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.shop.enterprise.owner_id != user.id:
        raise NotFound("优惠不存在。")
    return offer


def update_offer(user: User, offer_id: int, data: dict, now: datetime | None = None) -> Offer:
    """Change a pending or rejected offer; it (re)enters the review queue."""
    now = now or clock.utc_now()
    offer = get_own_offer(user, offer_id)
    if offer.status not in EDITABLE:
        raise ServiceError("只能修改审核中或未通过的优惠；已通过的优惠请撤下后重新提交。")
    event = get_enrollable_event(offer.event_id, now)
    check_shop(user, offer.shop_id, event)
    values = clean_offer_fields(data, event, now)
    before = snapshot(offer)
    for key, value in values.items():
        setattr(offer, key, value)
    if offer.status == OfferStatus.REJECTED:  # a resubmission queues behind what is waiting
        offer.submitted_at = now
    offer.status, offer.reason, offer.decided_at, offer.decided_by_id = OfferStatus.PENDING, "", None, None
    offer.updated_at = now  # the flush bumps ``version``: staff cannot approve what they did not see
    db.session.flush()
    record("offer.update", actor=user, entity_kind="offer", entity_id=offer.id,
           enterprise_id=offer.shop.enterprise_id, before=before, after=snapshot(offer))
    return offer


def withdraw_offer(user: User, offer_id: int, now: datetime | None = None) -> Offer:
    """Take a pending or approved offer down at once (a conditional UPDATE: races with a staff
    decision have one winner)."""
    now = now or clock.utc_now()
    offer = get_own_offer(user, offer_id)
    before = offer.status
    result = db.session.execute(
        update(Offer).where(Offer.id == offer.id, Offer.status.in_(WITHDRAWABLE))
        .values(status=OfferStatus.WITHDRAWN, withdrawn_at=now, updated_at=now, version=Offer.version + 1)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise ServiceError("这项优惠已经结束审核流程或已撤下，无需撤下。")
    db.session.refresh(offer)
    enqueue("shop", [offer.shop_id])  # bulk UPDATE: the page cache must drop the offer at once
    record("offer.withdraw", actor=user, entity_kind="offer", entity_id=offer.id,
           enterprise_id=offer.shop.enterprise_id, before={"status": before},
           after={"status": OfferStatus.WITHDRAWN})
    return offer


def merchant_offers(user: User) -> dict[int, list[Offer]]:
    """The merchant's offers grouped by event id, newest first."""
    offers = db.session.scalars(select(Offer).join(Offer.shop).join(Shop.enterprise)
                                .where(Enterprise.owner_id == user.id)
                                .order_by(Offer.submitted_at.desc(), Offer.id.desc()))
    grouped: dict[int, list[Offer]] = {}
    for offer in offers:
        grouped.setdefault(offer.event_id, []).append(offer)
    return grouped


def merchant_events(user: User, now: datetime | None = None) -> list[ShoppingEvent]:
    """Open events plus any event the merchant has offers in, soonest start first."""
    now = now or clock.utc_now()
    taking_part = select(Offer.event_id).join(Offer.shop).join(Shop.enterprise).where(Enterprise.owner_id == user.id)
    return list(db.session.scalars(select(ShoppingEvent).where(
        (ShoppingEvent.hidden.is_(False) & (ShoppingEvent.ends_at > now)) | ShoppingEvent.id.in_(taking_part))
        .order_by(ShoppingEvent.ends_at <= now, ShoppingEvent.starts_at)))
