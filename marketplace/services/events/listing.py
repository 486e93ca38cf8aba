"""What consumers see of 网购节: the events, their visible offers, filters and the home feature.

An offer is visible while it is approved, has not ended, its event is not hidden, and its shop
and the shop's enterprise are certified (``visible_offer_filter``). The rule is evaluated at
query time: there is no job that "expires" offers, a revoked shop's offers vanish with the same
transaction that revokes it, and a page rendered from these queries is only ever stale through
a cache, which ``next_change`` bounds (the page cache keeps an event page no later than the next
instant an offer or event starts or ends).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, distinct, func, select
from sqlalchemy.orm import selectinload

from ... import clock
from ...extensions import db
from ...models import (
    City, Enterprise, Industry, Offer, OfferKind, OfferStatus, Platform, Shop, ShoppingEvent,
    enterprise_industry, shop_is_public,
)
from .. import NotFound
from ..catalog.cache import cached
from ..catalog.filters import BrowseFilters, parse_filters

ENDED_LIMIT = 24
PARTICIPANTS_LIMIT = 60


def visible_offer_filter(now: datetime):
    """SQL condition on Offer joined with its event, shop and enterprise: shown to consumers."""
    return and_(Offer.status == OfferStatus.APPROVED, Offer.ends_at > now, ShoppingEvent.hidden.is_(False),
                shop_is_public())


def _visible(now: datetime, *columns):
    """A select() of ``columns`` (default: Offer) over visible offers, joined for filtering."""
    stmt = select(*columns) if columns else select(Offer)
    return (stmt.select_from(Offer).join(ShoppingEvent, ShoppingEvent.id == Offer.event_id)
            .join(Shop, Shop.id == Offer.shop_id).join(Enterprise, Enterprise.id == Shop.enterprise_id)
            .where(visible_offer_filter(now)))


# ------------------------------------------------------------------ events


def get_public_event(slug: str) -> ShoppingEvent:
    """The event with ``slug`` unless staff hid it (``NotFound``)."""
    event = db.session.scalar(select(ShoppingEvent).where(ShoppingEvent.slug == slug, ShoppingEvent.hidden.is_(False)))
    if event is None:
        raise NotFound("网购节不存在。")
    return event


@dataclass
class EventCard:
    """An event with its state and counts at a moment, for the event lists and the home page."""

    event: ShoppingEvent | ScheduledEvent
    state: str
    shops: int = 0  # shops with a visible offer
    offers: int = 0  # visible offers


def _cards(events, now: datetime) -> list[EventCard]:
    ids = [e.id for e in events]
    counts = {}
    if ids:
        counts = {eid: (s, o) for eid, s, o in db.session.execute(
            _visible(now, Offer.event_id, func.count(distinct(Offer.shop_id)), func.count(Offer.id))
            .where(Offer.event_id.in_(ids)).group_by(Offer.event_id))}
    return [EventCard(e, e.state(now), *counts.get(e.id, (0, 0))) for e in events]


def public_events(now: datetime | None = None) -> dict[str, list[EventCard]]:
    """Events by state for ``/events``: live (ending soonest first), upcoming, recently ended."""
    now = now or clock.utc_now()
    base = select(ShoppingEvent).where(ShoppingEvent.hidden.is_(False)).options(selectinload(ShoppingEvent.industries))
    live = db.session.scalars(base.where(ShoppingEvent.starts_at <= now, ShoppingEvent.ends_at > now)
                              .order_by(ShoppingEvent.ends_at, ShoppingEvent.id)).all()
    upcoming = db.session.scalars(base.where(ShoppingEvent.starts_at > now)
                                  .order_by(ShoppingEvent.starts_at, ShoppingEvent.id)).all()
    ended = db.session.scalars(base.where(ShoppingEvent.ends_at <= now)
                               .order_by(ShoppingEvent.ends_at.desc(), ShoppingEvent.id.desc()).limit(ENDED_LIMIT)).all()
    return {"live": _cards(live, now), "upcoming": _cards(upcoming, now), "ended": _cards(ended, now)}


@dataclass(frozen=True)
class ScheduledEvent:
    """A plain copy of a public event that has not ended, with the runs of its visible offers,
    safe to keep in the per-process catalog cache (no ORM object outlives its session)."""

    id: int
    slug: str
    name: str
    starts_at: datetime
    ends_at: datetime
    banner_sha256: str | None
    offers: tuple[tuple[int, datetime, datetime], ...]  # (shop id, starts_at, ends_at)

    def state(self, at: datetime) -> str:
        if at < self.starts_at:
            return "upcoming"
        return "live" if at < self.ends_at else "ended"

    def card(self, at: datetime) -> EventCard:
        running = [shop for shop, _start, end in self.offers if end > at]
        return EventCard(self, self.state(at), len(set(running)), len(running))


def _load_schedule(since: datetime) -> tuple[ScheduledEvent, ...]:
    """Public events not ended at ``since`` with their visible offers not ended then (two queries)."""
    events = db.session.execute(select(
        ShoppingEvent.id, ShoppingEvent.slug, ShoppingEvent.name, ShoppingEvent.starts_at, ShoppingEvent.ends_at,
        ShoppingEvent.banner_sha256).where(ShoppingEvent.hidden.is_(False), ShoppingEvent.ends_at > since)
        .order_by(ShoppingEvent.starts_at, ShoppingEvent.id)).all()
    runs: dict[int, list] = {}
    if events:
        for event_id, shop_id, start, end in db.session.execute(
                _visible(since, Offer.event_id, Offer.shop_id, Offer.starts_at, Offer.ends_at)
                .where(Offer.event_id.in_([e.id for e in events]))):
            runs.setdefault(event_id, []).append((shop_id, start, end))
    return tuple(ScheduledEvent(*e, offers=tuple(runs.get(e.id, ()))) for e in events)


def schedule(at: datetime | None = None) -> list[ScheduledEvent]:
    """Public events not ended at ``at`` (default now), with their visible offers.

    Cached with the directory aggregates (``catalog.cached``): approvals, withdrawals, event
    edits and revocations write search outbox rows, which drop the cache; what changes with time
    alone (an offer or event starting or ending) is worked out from the copy at read time. A
    copy made at T0 left out only what had ended by T0, so it is exact for any ``at >= T0``; an
    earlier ``at`` (the staff's home preview of a past moment) is read from the database.
    """
    now = clock.utc_now()
    at = at or now
    computed_at, rows = cached("events:schedule", lambda: (now, _load_schedule(now)))
    if at < computed_at:
        rows = _load_schedule(at)
    return [e for e in rows if e.ends_at > at]


def featured_event(at: datetime | None = None) -> EventCard | None:
    """The event the home page features: the live one ending soonest, else the next to start."""
    at = at or clock.utc_now()
    events = schedule(at)
    live = sorted((e for e in events if e.starts_at <= at), key=lambda e: (e.ends_at, e.id))
    upcoming = sorted((e for e in events if e.starts_at > at), key=lambda e: (e.starts_at, e.id))
    chosen = (live or upcoming or [None])[0]
    return chosen.card(at) if chosen is not None else None


def next_change(now: datetime | None = None) -> datetime | None:
    """The next instant after ``now`` at which the events listed on the home page or ``/events``
    change by themselves (an event or a visible offer starting or ending), from the cached
    schedule; None when nothing is scheduled. The page cache keeps those pages no longer."""
    now = now or clock.utc_now()
    times = [t for e in schedule(now) for t in (e.starts_at, e.ends_at, *(x for o in e.offers for x in o[1:]))]
    future = [t for t in times if t > now]
    return min(future) if future else None


def event_next_change(event: ShoppingEvent, now: datetime | None = None) -> datetime | None:
    """Like ``next_change`` for one event's page, read from the database in the same request
    as the offers it shows (one query), so no cached copy can outlive an offer it displays."""
    now = now or clock.utc_now()
    first_end, next_start = db.session.execute(
        _visible(now, func.min(Offer.ends_at), func.min(Offer.starts_at).filter(Offer.starts_at > now))
        .where(Offer.event_id == event.id)).one()
    future = [t for t in (event.starts_at, event.ends_at, first_end, next_start) if t is not None and t > now]
    return min(future) if future else None


# ------------------------------------------------------------------ one event's page


@dataclass
class EventFilters:
    """Filters of an event page: offer kind plus the directory's industry / city / platform."""

    place: BrowseFilters = field(default_factory=BrowseFilters)
    kind: str = ""

    def as_args(self) -> dict[str, str]:
        args = self.place.as_args()
        if self.kind:
            args["kind"] = self.kind
        return args

    def active(self) -> list[tuple[str, str, str]]:
        """``(key, label, value label)`` of every active filter, for the removable chips."""
        kind = [("kind", "优惠类型", OfferKind.LABELS[self.kind])] if self.kind else []
        return kind + self.place.active()


def parse_event_filters(args) -> EventFilters:
    """Filters from query arguments; unknown values are ignored (the browse pages' rule)."""
    place = parse_filters(args)
    place = BrowseFilters(industry=place.industry, city=place.city, region=place.region, platform=place.platform)
    kind = args.get("kind", "")
    return EventFilters(place, kind if kind in OfferKind.LABELS else "")


def _filtered(stmt, f: EventFilters, skip: str = ""):
    """``stmt`` (over visible offers) narrowed by every filter except ``skip``."""
    p = f.place
    if p.industry and skip != "industry":
        stmt = stmt.where(Enterprise.id.in_(select(enterprise_industry.c.enterprise_id)
                                            .where(enterprise_industry.c.industry_id == p.industry.id)))
    if skip != "city":
        if p.city:
            stmt = stmt.where(Enterprise.city_id == p.city.id)
        elif p.region:
            stmt = stmt.where(Enterprise.city_id.in_(select(City.id).where(City.region == p.region)))
    if p.platform and skip != "platform":
        stmt = stmt.where(Shop.platform_id == p.platform.id)
    if f.kind and skip != "kind":
        stmt = stmt.where(Offer.kind == f.kind)
    return stmt


@dataclass
class EventFacets:
    kinds: list[tuple[str, str, int]]  # (kind, label, shops)
    industries: list[tuple[Industry, int]]
    cities: list[tuple[City, int]]
    platforms: list[tuple[Platform, int]]

    def chip_groups(self, f: EventFilters) -> list[tuple[str, str, list[tuple[str, str, int, bool]]]]:
        """``(legend, query key, [(value, label, shops, selected)])`` per facet, for the page."""
        def rows(pairs, current):
            return [(r.slug, r.name, n, current is not None and current.id == r.id) for r, n in pairs]

        return [("优惠类型", "kind", [(k, label, n, f.kind == k) for k, label, n in self.kinds]),
                ("行业", "industry", rows(self.industries, f.place.industry)),
                ("城市", "city", rows(self.cities, f.place.city)),
                ("电商平台", "platform", rows(self.platforms, f.place.platform))]


def _facet(event_id: int, f: EventFilters, now: datetime, skip: str, column, join=None) -> dict:
    stmt = _visible(now, column, func.count(distinct(Offer.shop_id))).where(Offer.event_id == event_id)
    if join is not None:
        stmt = stmt.join(join, join.c.enterprise_id == Enterprise.id)
    return dict(db.session.execute(_filtered(stmt, f, skip).group_by(column)).all())


def event_facets(event: ShoppingEvent, f: EventFilters, now: datetime) -> EventFacets:
    """Shops per filter value, each facet counted under the other filters (as on browse pages)."""
    kinds = _facet(event.id, f, now, "kind", Offer.kind)
    industries = _facet(event.id, f, now, "industry", enterprise_industry.c.industry_id, enterprise_industry)
    cities = _facet(event.id, f, now, "city", Enterprise.city_id)
    platforms = _facet(event.id, f, now, "platform", Shop.platform_id)

    def rows(model, counts):
        if not counts:
            return []
        found = db.session.scalars(select(model).where(model.id.in_(counts)).order_by(model.position))
        return [(row, counts[row.id]) for row in found]

    return EventFacets(
        kinds=[(k, label, kinds[k]) for k, label in OfferKind.LABELS.items() if k in kinds],
        industries=rows(Industry, industries), cities=rows(City, cities), platforms=rows(Platform, platforms))


def event_shops(event: ShoppingEvent, f: EventFilters, page: int, per_page: int,
                now: datetime) -> Pagination:
    """One page of the shops with visible offers in ``event`` (most visited first); each item is
    ``(shop, [offers])`` with only the offers matching the filters, soonest ending first."""
    ids = _filtered(_visible(now, Shop.id).where(Offer.event_id == event.id), f)
    ids = ids.group_by(Shop.id, Shop.click_count).order_by(Shop.click_count.desc(), Shop.id)
    pagination = db.paginate(ids, page=page, per_page=per_page, error_out=False, count=True)
    shop_ids = list(pagination.items)
    shops = {s.id: s for s in db.session.scalars(select(Shop).where(Shop.id.in_(shop_ids)).options(
        selectinload(Shop.enterprise).selectinload(Enterprise.brands),
        selectinload(Shop.enterprise).selectinload(Enterprise.industries)))} if shop_ids else {}
    offers: dict[int, list[Offer]] = {}
    if shop_ids:
        stmt = _filtered(_visible(now).where(Offer.event_id == event.id, Offer.shop_id.in_(shop_ids)), f)
        for offer in db.session.scalars(stmt.order_by(Offer.ends_at, Offer.id)):
            offers.setdefault(offer.shop_id, []).append(offer)
    pagination.items = [(shops[i], offers.get(i, [])) for i in shop_ids if i in shops]
    return pagination


def participants(event: ShoppingEvent, limit: int = PARTICIPANTS_LIMIT) -> list[Shop]:
    """Certified shops that had an approved offer in an event (shown once it has ended, when no
    offer is shown any more)."""
    ids = select(Offer.shop_id).where(Offer.event_id == event.id, Offer.status == OfferStatus.APPROVED)
    return list(db.session.scalars(
        select(Shop).join(Shop.enterprise).where(Shop.id.in_(ids), shop_is_public())
        .order_by(Shop.click_count.desc(), Shop.id).limit(limit)
        .options(selectinload(Shop.enterprise).selectinload(Enterprise.brands))))


# ------------------------------------------------------------------ click-through


def click_source(shop_id: int, raw_offer: str | None) -> tuple[int, int] | None:
    """``(event_id, offer_id)`` when ``/go/<shop_id>?offer=<id>`` names an approved offer of that
    shop, else None (a forged or stale argument is simply not attributed)."""
    raw = (raw_offer or "").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        return None
    row = db.session.execute(select(Offer.event_id, Offer.id).where(
        Offer.id == int(raw), Offer.shop_id == shop_id, Offer.status == OfferStatus.APPROVED)).first()
    return (row.event_id, row.id) if row else None
