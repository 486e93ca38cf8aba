"""The demo data's 网购节: one live event and one ended event, relative to the day they are loaded.

Clearly fictional (names and texts say 演示 / 虚构). Everything goes through the same service
functions staff and merchants use — field rules, review, audit — at the moments the story needs
(``now=``), so the demo also proves that path. The ended event gets clicks per day, so its report
has something to draw. Loading twice changes nothing (the events are looked up by slug).
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from sqlalchemy import select, update

from ... import clock
from ...extensions import db
from ...models import ClickEvent, OfferKind, Shop, ShoppingEvent, shop_is_public
from ..images import image_bytes_from_pil
from . import offer_review, schedule
from .offer_fields import clean_offer_fields
from .offers import create_offer

LIVE_SLUG = "yanshi-guanghuo-wanggoujie"
ENDED_SLUG = "yanshi-lingnan-chunji"
LIVE_SHOPS, ENDED_SHOPS, PENDING = 36, 18, 2
GIFTS = ("定制帆布袋", "品牌保温杯", "试用装一份", "岭南风味礼盒")
OFFER_TEXT = {
    OfferKind.THRESHOLD: {"threshold": "299", "amount": "50"},
    OfferKind.DISCOUNT: {"discount": "8.5"},
    OfferKind.COUPON: {"threshold": "199", "amount": "30"},
    OfferKind.FREE_SHIPPING: {"threshold": "49"},
    OfferKind.GIFT: {"threshold": "159"},
}


def make_banner(seed: int, label: str) -> bytes:
    """A 1200×400 banner: a red-to-gold gradient with a few rings and a Latin caption (Pillow's
    built-in font has no Chinese; the page shows the event's name beside it)."""
    im = PILImage.new("RGB", (1200, 400))
    draw = ImageDraw.Draw(im)
    for x in range(1200):
        t = x / 1199
        draw.line([(x, 0), (x, 399)], fill=(int(200 + 17 * t), int(16 + 148 * t), int(46 + 19 * t)))
    for i in range(6):
        cx, cy, r = (seed * 137 + i * 211) % 1200, (seed * 71 + i * 97) % 400, 40 + (i * 37 + seed) % 120
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(255, 236, 200), width=6)
    font = ImageFont.load_default(size=64)
    draw.text((60, 150), label, font=font, fill=(255, 255, 255))
    draw.text((60, 240), "DEMO · FICTIONAL", font=ImageFont.load_default(size=32), fill=(255, 240, 210))
    return image_bytes_from_pil(im)


def _china(day, hour: int = 0) -> datetime:
    return datetime.combine(day, time(hour))


def _demo_shops(limit: int, offset: int) -> list[Shop]:
    """Certified shops of certified demo enterprises, one per enterprise, spread over the whole
    list (the demo enterprises are grouped by city) in a stable order."""
    rows = db.session.scalars(select(Shop).join(Shop.enterprise).where(
        shop_is_public()).order_by(Shop.enterprise_id, Shop.id))
    firsts, seen = [], set()
    for shop in rows:
        if shop.enterprise_id not in seen:
            seen.add(shop.enterprise_id)
            firsts.append(shop)
    step = max(1, len(firsts) // (LIVE_SHOPS + PENDING + ENDED_SHOPS))
    return firsts[::step][offset:offset + limit]


def _offer(shop: Shop, event: ShoppingEvent, n: int, start: datetime, end: datetime, at: datetime):
    """Submit one fictional offer for ``shop`` as of ``at`` (start/end in China time)."""
    kind = list(OfferKind.LABELS)[n % len(OfferKind.LABELS)]
    data = dict(OFFER_TEXT[kind], kind=kind, gift=GIFTS[n % len(GIFTS)], starts_at=start, ends_at=end,
                terms="演示数据（虚构）：全店通用，每个账号限用一次，不与店铺其他优惠叠加。",
                coupon_code=f"YANSHI{n:03d}" if kind == OfferKind.COUPON else "")
    return create_offer(shop, event, clean_offer_fields(data, event, at), now=at)


def _event(slug: str, name: str, description: str, start: datetime, end: datetime, seed: int, label: str):
    created_at = clock.china_local_to_utc(start) - timedelta(days=7)
    return schedule.create_event(None, {"name": name, "slug": slug, "starts_at": start, "ends_at": end,
                                        "description": description, "industry_ids": []},
                                 banner=make_banner(seed, label), now=created_at)


def _clicks(offers, first_day, days: int) -> int:
    """Deterministic clicks per day through the event's offers (and the shops' counters)."""
    made, per_shop = [], {}
    for offer in offers:
        for d in range(days):
            for k in range((offer.id * 7 + d * 3) % 6):
                at = clock.china_local_to_utc(_china(first_day + timedelta(days=d), 9 + (k * 5) % 12))
                made.append(ClickEvent(shop_id=offer.shop_id, event_id=offer.event_id, offer_id=offer.id, at=at))
                per_shop[offer.shop_id] = per_shop.get(offer.shop_id, 0) + 1
    db.session.add_all(made)
    for shop_id, n in per_shop.items():
        db.session.execute(update(Shop).where(Shop.id == shop_id).values(click_count=Shop.click_count + n))
    return len(made)


def load_demo_events(now: datetime | None = None) -> dict:
    """Create the live and the ended demo 网购节 with offers; flushes, never commits."""
    now = now or clock.utc_now()
    if db.session.scalar(select(ShoppingEvent.id).where(ShoppingEvent.slug.in_((LIVE_SLUG, ENDED_SLUG)))):
        return {"events": 0, "offers": 0, "clicks": 0}
    today = clock.china_date_of(now)
    live_start, live_end = _china(today - timedelta(days=3)), _china(today + timedelta(days=8))
    ended_start, ended_end = _china(today - timedelta(days=45)), _china(today - timedelta(days=35))
    live = _event(LIVE_SLUG, "【演示】广货网购节", "演示数据，活动与优惠均为虚构。\n认证广东名优企业官方网店联合让利："
                  "满减、折扣、优惠券、包邮、赠品，实折实扣。", live_start, live_end, 1, "GUANGHUO ONLINE FESTIVAL")
    ended = _event(ENDED_SLUG, "【演示】岭南春季焕新节（已结束）", "演示数据，活动与优惠均为虚构。\n春季焕新，岭南好物。",
                   ended_start, ended_end, 2, "LINGNAN SPRING SALE")
    made, clicks = 0, 0
    for event, shops, start, end, days in (
            (live, _demo_shops(LIVE_SHOPS + PENDING, 0), live_start, live_end, 3),
            (ended, _demo_shops(ENDED_SHOPS, LIVE_SHOPS + PENDING), ended_start, ended_end, 10)):
        before = clock.china_local_to_utc(start) - timedelta(days=2)
        offers = [_offer(shop, event, i, start, end, before) for i, shop in enumerate(shops)]
        published = offers[:-PENDING] if event is live else offers
        for offer in published:
            offer_review.approve_offer(offer.id, None, now=before + timedelta(hours=1))
        made += len(offers)
        clicks += _clicks(published, clock.china_date_of(event.starts_at), days)
    db.session.flush()
    return {"events": 2, "offers": made, "clicks": clicks}
