"""The staff report of a 网购节: participants, offers and clicks by day, and per offer.

Each part is a ``stats.Table`` so the same data feeds the charts (staff-stats.js) and the CSV
downloads (``stats.to_csv``, formula-safe), like the statistics page. Days are China dates.

An offer counts as published from the later of its start and its approval until the earlier of
its end and its withdrawal: offers still waiting for review, rejected ones and ones withdrawn
before approval never count as running. Clicks are those that came through the event's pages
(``/go/<shop>?offer=<id>``), kept on ``click_event.event_id``.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ... import clock
from ...extensions import db
from ...models import ClickEvent, Offer, OfferKind, OfferStatus, Shop, ShoppingEvent
from ..stats import Table

MAX_DAYS = 93


def _published(event: ShoppingEvent) -> list[Offer]:
    """Offers of ``event`` that were published at some point (approved, or withdrawn after it)."""
    return list(db.session.scalars(
        select(Offer).where(Offer.event_id == event.id, Offer.decided_at.is_not(None),
                            Offer.status.in_((OfferStatus.APPROVED, OfferStatus.WITHDRAWN)))
        .options(selectinload(Offer.shop).selectinload(Shop.enterprise))))


def _run(offer: Offer) -> tuple[datetime, datetime]:
    """When an offer was actually shown: [start, end) in UTC."""
    start = max(offer.starts_at, offer.decided_at)
    end = min(offer.ends_at, offer.withdrawn_at) if offer.withdrawn_at else offer.ends_at
    return start, end


def _days(event: ShoppingEvent, now: datetime) -> list[date]:
    """China dates from the event's first day to its last (or today, while it runs)."""
    first = clock.china_date_of(event.starts_at)
    last = clock.china_date_of(min(event.ends_at - timedelta(microseconds=1), now))
    if last < first:
        return []
    return [first + timedelta(days=i) for i in range(min((last - first).days + 1, MAX_DAYS))]


def _clicks(event: ShoppingEvent) -> tuple[Counter, Counter]:
    """Clicks through the event by China date and by offer id."""
    by_day, by_offer = Counter(), Counter()
    for at, offer_id in db.session.execute(select(ClickEvent.at, ClickEvent.offer_id)
                                           .where(ClickEvent.event_id == event.id)):
        by_day[clock.china_date_of(at)] += 1
        by_offer[offer_id] += 1
    return by_day, by_offer


def daily(event: ShoppingEvent, offers: list[Offer], clicks_by_day: Counter, now: datetime) -> Table:
    """Per day: shops with a running offer, running offers, clicks."""
    runs = [(o, *_run(o)) for o in offers]
    runs = [(o, s, e) for o, s, e in runs if s < e]
    rows = []
    for day in _days(event, now):
        start, end = clock.china_day_start_utc(day), clock.china_day_start_utc(day + timedelta(days=1))
        running = [o for o, s, e in runs if s < end and e > start]
        rows.append([f"{day:%m-%d}", len({o.shop_id for o in running}), len(running), clicks_by_day.get(day, 0)])
    return Table("daily", "每日参与网店、有效优惠与点击", ["日期", "参与网店", "有效优惠", "点击"], rows, chart="line",
                 note="有效优惠：当天在网购节页面上显示过的已通过优惠。")


def by_kind(offers: list[Offer], clicks_by_offer: Counter) -> Table:
    rows = [[label, sum(1 for o in offers if o.kind == kind),
             sum(clicks_by_offer.get(o.id, 0) for o in offers if o.kind == kind)]
            for kind, label in OfferKind.LABELS.items()]
    return Table("by_kind", "各类优惠的数量与点击", ["优惠类型", "优惠", "点击"], rows, chart="bar")


def top_shops(offers: list[Offer], clicks_by_offer: Counter, limit: int = 10) -> Table:
    per_shop: dict[int, list] = {}
    for o in offers:
        row = per_shop.setdefault(o.shop_id, [o.shop.name, 0, 0, o.shop.enterprise.name, o.shop.platform.name])
        row[1] += clicks_by_offer.get(o.id, 0)
        row[2] += 1
    rows = sorted(per_shop.values(), key=lambda r: (-r[1], -r[2], r[0]))[:limit]
    return Table("top_shops", "点击最多的参与网店", ["网店", "点击", "优惠", "企业", "平台"], rows, chart="hbar")


def offer_rows(event: ShoppingEvent, clicks_by_offer: Counter) -> Table:
    """Every offer of the event whatever its status (the CSV staff keep after the event)."""
    offers = db.session.scalars(select(Offer).where(Offer.event_id == event.id).order_by(Offer.id)
                                .options(selectinload(Offer.shop).selectinload(Shop.enterprise)))
    fmt = "%Y-%m-%d %H:%M"
    rows = [[o.id, o.shop.enterprise.name, o.shop.name, o.shop.platform.name, o.kind_label, o.headline,
             o.coupon_code, f"{clock.to_china(o.starts_at):{fmt}}", f"{clock.to_china(o.ends_at):{fmt}}",
             o.status_label, clicks_by_offer.get(o.id, 0)] for o in offers]
    return Table("offers", "全部报名优惠", ["编号", "企业", "网店", "平台", "类型", "内容", "优惠码", "开始（北京时间）",
                                        "结束（北京时间）", "状态", "点击"], rows, chart="table")


def summary(event: ShoppingEvent, offers: list[Offer], clicks_by_day: Counter) -> Table:
    pending = db.session.scalar(select(func.count()).select_from(Offer).where(
        Offer.event_id == event.id, Offer.status == OfferStatus.PENDING)) or 0
    enterprises = len({o.shop.enterprise_id for o in offers})
    return Table("summary", "概况", ["指标", "数值"], [
        ["参与网店", len({o.shop_id for o in offers})], ["参与企业", enterprises], ["发布的优惠", len(offers)],
        ["待审核优惠", pending], ["网购节点击", sum(clicks_by_day.values())]], chart="kpi")


def event_report(event: ShoppingEvent, now: datetime | None = None) -> list[Table]:
    """Every table of the report, in display order (the summary first)."""
    now = now or clock.utc_now()
    offers = _published(event)
    clicks_by_day, clicks_by_offer = _clicks(event)
    return [summary(event, offers, clicks_by_day), daily(event, offers, clicks_by_day, now),
            by_kind(offers, clicks_by_offer), top_shops(offers, clicks_by_offer),
            offer_rows(event, clicks_by_offer)]


TABLE_NAMES = ("summary", "daily", "by_kind", "top_shops", "offers")
