"""Read-side queries behind the consumer pages: browse, counts, featured listings.

Plain functions over the session (no request objects), so the public views, the staff console's
home preview and the API can share them. Only public rows are ever returned: certified
enterprises, and for platform / shop-type filters only enterprises with a certified shop there.
Every list eager-loads what its cards show (brands, industries, badges, city, shops with their
platform), so a page of 20 costs a handful of queries whatever the directory's size.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Mapping, TypeVar

from flask import current_app

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Badge, City, Enterprise, FeaturedSlot, Industry, Placement, Platform, SearchOutbox, Shop, ShopType,
    Status, enterprise_badge, enterprise_industry,
)
from .reference_data import REGIONS

SORTS = {
    "newest": "最新认证",
    "name": "名称拼音",
    "popular": "最多访问",
}
DEFAULT_SORT = "newest"
FILTER_KEYS = ("industry", "city", "region", "platform", "shop_type", "badge")
CAROUSEL_SIZE = 6
INDUSTRY_ROW_SIZE = 4
INDUSTRY_ROWS = 6


# ---------------------------------------------------------------- aggregate cache
#
# Counts over the whole directory (per industry, city, platform; totals) cost tens of
# milliseconds at 10,000 enterprises / 50,000 shops and are shown on every home and browse page.
# They are cached per process as plain values (never ORM objects, which would outlive their
# session), keyed by the search outbox head: every change to an enterprise, shop, brand,
# platform, industry, badge, certificate or featured slot writes an outbox row in its own
# transaction, so a committed change shows within half a second (the head is read at most twice
# a second per process) in every worker. CATALOG_CACHE_SECONDS
# bounds the age anyway (click counts, which order the fallback featured lists, change without
# an outbox row); 0 turns the cache off.

T = TypeVar("T")
_cache_lock = threading.Lock()


def _directory_version() -> int:
    return db.session.scalar(select(func.max(SearchOutbox.id))) or 0


def _cached(name: str, compute: Callable[[], T]) -> T:
    """``compute()`` cached under ``name`` for this app until the directory changes or ages."""
    ttl = current_app.config.get("CATALOG_CACHE_SECONDS", 60)
    if ttl <= 0:
        return compute()
    store = current_app.extensions.setdefault("catalog_cache", {})
    version = store.get("_version")
    now = time.monotonic()
    if version is None or now - version[1] > 0.5:  # check the version at most twice a second
        current = _directory_version()
        if version is None or current != version[0]:
            with _cache_lock:
                store.clear()
                store["_version"] = (current, now)
        else:
            store["_version"] = (current, now)
    hit = store.get(name)
    if hit is not None and now - hit[1] < ttl:
        return hit[0]
    value = compute()
    store[name] = (value, now)
    return value


def clear_cache() -> None:
    """Drop every cached aggregate of this app (tests, or after bulk SQL that skips the outbox)."""
    current_app.extensions.pop("catalog_cache", None)


@dataclass(frozen=True)
class IndustryRow:
    id: int
    name: str
    slug: str
    position: int


@dataclass(frozen=True)
class CityRow:
    id: int
    name: str
    slug: str
    region: str
    code: str
    position: int

    @property
    def full_name(self) -> str:
        return self.name + "市"


@dataclass(frozen=True)
class PlatformRow:
    id: int
    name: str
    slug: str
    kind: str
    description: str
    homepage: str
    position: int


@dataclass
class BrowseFilters:
    """Resolved browse filters; unknown values were dropped while parsing (never an error)."""

    industry: Industry | None = None
    city: City | None = None
    region: str | None = None
    platform: Platform | None = None
    shop_type: str | None = None
    badge: Badge | None = None

    def as_args(self) -> dict[str, str]:
        """The filters as query arguments (slugs / names), for links and canonical URLs."""
        args: dict[str, str] = {}
        if self.industry:
            args["industry"] = self.industry.slug
        if self.city:
            args["city"] = self.city.slug
        elif self.region:
            args["region"] = self.region
        if self.platform:
            args["platform"] = self.platform.slug
        if self.shop_type:
            args["shop_type"] = self.shop_type
        if self.badge:
            args["badge"] = self.badge.slug
        return args

    def active(self) -> list[tuple[str, str, str]]:
        """``(key, label, value label)`` of every active filter, in display order."""
        out = []
        if self.industry:
            out.append(("industry", "行业", self.industry.name))
        if self.city:
            out.append(("city", "城市", self.city.full_name))
        elif self.region:
            out.append(("region", "区域", self.region))
        if self.platform:
            out.append(("platform", "平台", self.platform.name))
        if self.shop_type:
            out.append(("shop_type", "店铺类型", self.shop_type))
        if self.badge:
            out.append(("badge", "荣誉", self.badge.name))
        return out

    def describe(self) -> str:
        """A short Chinese phrase naming the filters, for titles (``佛山市 · 家电``)."""
        return " · ".join(value for _, _, value in self.active())

    def __bool__(self) -> bool:
        return bool(self.active())


def _clean(value: object, max_len: int = 80) -> str:
    if not isinstance(value, str):
        return ""
    value = value.strip()
    if not value or len(value) > max_len or "\x00" in value:
        return ""
    return value


def parse_filters(args: Mapping[str, str]) -> BrowseFilters:
    """Resolve filter arguments (slugs; region and shop type by name) to rows.

    Unknown or malformed values are ignored rather than refused: a stale bookmark still shows a
    useful list. A city wins over a region when both are given.
    """
    f = BrowseFilters()
    slug = _clean(args.get("industry"))
    if slug:
        f.industry = db.session.scalar(select(Industry).where(Industry.slug == slug, Industry.active.is_(True)))
    slug = _clean(args.get("city"))
    if slug:
        f.city = db.session.scalar(select(City).where(City.slug == slug))
    region = _clean(args.get("region"))
    if region in REGIONS and not f.city:
        f.region = region
    slug = _clean(args.get("platform"))
    if slug:
        f.platform = db.session.scalar(select(Platform).where(Platform.slug == slug, Platform.active.is_(True)))
    shop_type = _clean(args.get("shop_type"))
    if shop_type in ShopType.ALL:
        f.shop_type = shop_type
    slug = _clean(args.get("badge"))
    if slug:
        f.badge = db.session.scalar(select(Badge).where(Badge.slug == slug))
    return f


def _card_options():
    """Eager loads for enterprise cards (city is joined by the model itself)."""
    return (
        selectinload(Enterprise.brands),
        selectinload(Enterprise.industries),
        selectinload(Enterprise.badges),
        selectinload(Enterprise.shops),  # Shop.platform is joined by the model
    )


def public_enterprise_query(f: BrowseFilters | None = None):
    """A select() of public enterprises matching ``f`` (no order, no eager loads)."""
    q = select(Enterprise).where(Enterprise.status == Status.CERTIFIED)
    if not f:
        return q
    # IN (subquery) rather than EXISTS: both databases build the small id set once from the
    # filter's own index instead of probing it for every certified enterprise.
    if f.industry:
        q = q.where(Enterprise.id.in_(select(enterprise_industry.c.enterprise_id)
                                      .where(enterprise_industry.c.industry_id == f.industry.id)))
    if f.city:
        q = q.where(Enterprise.city_id == f.city.id)
    elif f.region:
        q = q.where(Enterprise.city_id.in_(select(City.id).where(City.region == f.region)))
    if f.platform or f.shop_type:
        shops = select(Shop.enterprise_id).where(Shop.status == Status.CERTIFIED)
        if f.platform:
            shops = shops.where(Shop.platform_id == f.platform.id)
        if f.shop_type:
            shops = shops.where(Shop.shop_type == f.shop_type)
        q = q.where(Enterprise.id.in_(shops))
    if f.badge:
        q = q.where(Enterprise.id.in_(select(enterprise_badge.c.enterprise_id)
                                      .where(enterprise_badge.c.badge_id == f.badge.id)))
    return q


def _ordered(q, sort: str):
    if sort == "name":
        return q.order_by(Enterprise.name_sort.asc(), Enterprise.id.asc())
    if sort == "popular":
        return q.order_by(Enterprise.click_count.desc(), Enterprise.id.desc())
    return q.order_by(Enterprise.certified_at.desc(), Enterprise.id.desc())


def browse(f: BrowseFilters | None, sort: str = DEFAULT_SORT, page: int = 1, per_page: int = 20):
    """One page of public enterprises matching ``f`` in ``sort`` order (a Flask-SQLAlchemy
    Pagination; a page beyond the last has no items rather than raising)."""
    if sort not in SORTS:
        sort = DEFAULT_SORT
    q = _ordered(public_enterprise_query(f), sort).options(*_card_options())
    return db.paginate(q, page=page, per_page=per_page, error_out=False, count=True)


def newly_certified(limit: int = 8) -> list[Enterprise]:
    """The most recently certified public enterprises."""
    q = _ordered(public_enterprise_query(), "newest").options(*_card_options()).limit(limit)
    return list(db.session.scalars(q))


@dataclass
class HomeCounts:
    enterprises: int
    shops: int
    platforms: int
    goal: int

    @property
    def percent(self) -> float:
        """Progress toward the goal in percent (0-100, one decimal)."""
        if self.goal <= 0:
            return 100.0
        return round(min(100.0, self.enterprises * 100.0 / self.goal), 1)


def _shop_stats() -> dict[int, tuple[int, int]]:
    """``platform_id -> (public shops, enterprises with a public shop)``, for every platform
    (one pass over the shops, shared by the home counts and the platform facets)."""

    def compute():
        rows = db.session.execute(
            select(Shop.platform_id, func.count(Shop.id), func.count(func.distinct(Shop.enterprise_id)))
            .join(Enterprise, Enterprise.id == Shop.enterprise_id)
            .where(Shop.status == Status.CERTIFIED, Enterprise.status == Status.CERTIFIED)
            .group_by(Shop.platform_id)).all()
        return {pid: (shops, ents) for pid, shops, ents in rows}

    return _cached("shop_stats", compute)


def counts(goal: int) -> HomeCounts:
    """Live counts for the home page: certified enterprises, public shops, active platforms."""

    def compute():
        ents = db.session.scalar(select(func.count()).select_from(Enterprise)
                                 .where(Enterprise.status == Status.CERTIFIED)) or 0
        plats = db.session.scalar(select(func.count()).select_from(Platform)
                                  .where(Platform.active.is_(True))) or 0
        return ents, plats

    ents, plats = _cached("counts", compute)
    shops = sum(n for n, _ in _shop_stats().values())
    return HomeCounts(enterprises=ents, shops=shops, platforms=plats, goal=goal)


def industries_with_counts(include_empty: bool = True) -> list[tuple[IndustryRow, int]]:
    """Active industries in their position order, each with its number of public enterprises."""

    def compute():
        n = (select(enterprise_industry.c.industry_id, func.count().label("n"))
             .join(Enterprise, Enterprise.id == enterprise_industry.c.enterprise_id)
             .where(Enterprise.status == Status.CERTIFIED)
             .group_by(enterprise_industry.c.industry_id).subquery())
        rows = db.session.execute(
            select(Industry.id, Industry.name, Industry.slug, Industry.position, func.coalesce(n.c.n, 0))
            .outerjoin(n, n.c.industry_id == Industry.id)
            .where(Industry.active.is_(True)).order_by(Industry.position, Industry.id)).all()
        return tuple((IndustryRow(i, name, slug, pos), c) for i, name, slug, pos, c in rows)

    return [(i, c) for i, c in _cached("industries", compute) if include_empty or c]


def cities_with_counts() -> list[tuple[CityRow, int]]:
    """All cities in their position order, each with its number of public enterprises."""

    def compute():
        n = (select(Enterprise.city_id, func.count().label("n")).where(Enterprise.status == Status.CERTIFIED)
             .group_by(Enterprise.city_id).subquery())
        rows = db.session.execute(
            select(City.id, City.name, City.slug, City.region, City.code, City.position,
                   func.coalesce(n.c.n, 0))
            .outerjoin(n, n.c.city_id == City.id).order_by(City.position, City.id)).all()
        return tuple((CityRow(*r[:6]), r[6]) for r in rows)

    return list(_cached("cities", compute))


def cities_by_region() -> list[tuple[str, int, list[tuple[CityRow, int]]]]:
    """Cities grouped by region (珠三角, 粤东, 粤西, 粤北): ``(region, total, [(city, count)])``."""
    groups: dict[str, list[tuple[CityRow, int]]] = {r: [] for r in REGIONS}
    for c, k in cities_with_counts():
        groups.setdefault(c.region, []).append((c, k))
    return [(r, sum(k for _, k in cs), cs) for r, cs in groups.items()]


def platforms_with_counts() -> list[tuple[PlatformRow, int, int]]:
    """Active platforms with their numbers of public shops and of public enterprises there."""

    def compute():
        rows = db.session.execute(
            select(Platform.id, Platform.name, Platform.slug, Platform.kind, Platform.description,
                   Platform.homepage, Platform.position)
            .where(Platform.active.is_(True)).order_by(Platform.position, Platform.id)).all()
        return tuple(PlatformRow(*r) for r in rows)

    stats = _shop_stats()
    return [(p, *stats.get(p.id, (0, 0))) for p in _cached("platforms", compute)]


def platform_shops(platform: Platform, shop_type: str | None = None, page: int = 1, per_page: int = 20):
    """One page of a platform's public shops (newest certified first), enterprises eager-loaded."""
    q = (select(Shop).join(Enterprise, Enterprise.id == Shop.enterprise_id)
         .where(Shop.platform_id == platform.id, Shop.status == Status.CERTIFIED,
                Enterprise.status == Status.CERTIFIED))
    if shop_type in ShopType.ALL:
        q = q.where(Shop.shop_type == shop_type)
    q = q.order_by(Shop.certified_at.desc().nulls_last(), Shop.id.desc()).options(
        selectinload(Shop.enterprise).selectinload(Enterprise.brands))
    return db.paginate(q, page=page, per_page=per_page, error_out=False, count=True)


def get_enterprise(enterprise_id: int) -> Enterprise | None:
    """An enterprise with everything its page shows, whatever its status (the view decides)."""
    return db.session.scalar(
        select(Enterprise).where(Enterprise.id == enterprise_id).options(
            *_card_options(), selectinload(Enterprise.certifications)))


def shops_by_platform(ent: Enterprise, include_all: bool = False) -> list[tuple[Platform, list[Shop]]]:
    """An enterprise's shops grouped by platform (platform order); public ones unless
    ``include_all`` (owner / staff preview of a listing that is not public)."""
    shops = ent.shops if include_all else ent.public_shops
    groups: dict[int, tuple[Platform, list[Shop]]] = {}
    for s in shops:
        groups.setdefault(s.platform_id, (s.platform, []))[1].append(s)
    return sorted(groups.values(), key=lambda g: (g[0].position, g[0].id))


# ---------------------------------------------------------------- featured listings

@dataclass
class Featured:
    """What the home page puts first: the focus carousel and featured rows per industry.

    ``curated_*`` say whether the rows come from live FeaturedSlot rows (True) or from the
    automatic fallback (badged / most visited enterprises).
    """

    carousel: list[tuple[Enterprise, str]] = field(default_factory=list)  # (enterprise, slot title)
    industry_rows: list[tuple[Industry, list[Enterprise]]] = field(default_factory=list)
    curated_carousel: bool = False
    curated_rows: bool = False


def live_slots(at: datetime, placement: str | None = None) -> list[FeaturedSlot]:
    """FeaturedSlot rows live at ``at`` (starts_at <= at < ends_at, or no end) whose enterprise
    is public, ordered by placement, industry, position."""
    q = (select(FeaturedSlot).join(Enterprise, Enterprise.id == FeaturedSlot.enterprise_id)
         .where(FeaturedSlot.starts_at <= at,
                or_(FeaturedSlot.ends_at.is_(None), FeaturedSlot.ends_at > at),
                Enterprise.status == Status.CERTIFIED)
         .order_by(FeaturedSlot.placement, FeaturedSlot.industry_id, FeaturedSlot.position, FeaturedSlot.id)
         .options(selectinload(FeaturedSlot.enterprise).options(*_card_options()),
                  selectinload(FeaturedSlot.industry)))
    if placement:
        q = q.where(FeaturedSlot.placement == placement)
    return list(db.session.scalars(q))


def _load_public(ids) -> dict[int, Enterprise]:
    """Public enterprises by id with their card data (one query plus eager loads)."""
    ids = set(ids)
    if not ids:
        return {}
    q = public_enterprise_query().where(Enterprise.id.in_(ids)).options(*_card_options())
    return {e.id: e for e in db.session.scalars(q)}


def _fallback_carousel(limit: int) -> list[Enterprise]:
    """Badged certified enterprises first (most visited first), padded with the most visited."""

    def compute():
        badge_n = (select(func.count()).select_from(enterprise_badge)
                   .where(enterprise_badge.c.enterprise_id == Enterprise.id).scalar_subquery())
        q = (select(Enterprise.id).where(Enterprise.status == Status.CERTIFIED)
             .order_by(badge_n.desc(), Enterprise.click_count.desc(), Enterprise.certified_at.desc(),
                       Enterprise.id.desc())
             .limit(limit))
        return tuple(db.session.scalars(q))

    ids = _cached(f"fallback_carousel:{limit}", compute)
    ents = _load_public(ids)
    return [ents[i] for i in ids if i in ents]


def _fallback_industry_rows(rows: int, size: int) -> list[tuple[IndustryRow, list[Enterprise]]]:
    """For the industries with most public enterprises, their most visited ones (one query for
    the ranking with a window function; the result's ids are cached, the cards loaded fresh)."""

    def compute():
        top = [i for i, c in sorted(industries_with_counts(include_empty=False), key=lambda ic: -ic[1])][:rows]
        if not top:
            return ()
        top.sort(key=lambda i: (i.position, i.id))
        rn = func.row_number().over(
            partition_by=enterprise_industry.c.industry_id,
            order_by=(Enterprise.click_count.desc(), Enterprise.certified_at.desc(), Enterprise.id.desc()),
        ).label("rn")
        ranked = (select(enterprise_industry.c.industry_id, Enterprise.id.label("eid"), rn)
                  .join(Enterprise, Enterprise.id == enterprise_industry.c.enterprise_id)
                  .where(Enterprise.status == Status.CERTIFIED,
                         enterprise_industry.c.industry_id.in_([i.id for i in top]))
                  .subquery())
        # a few spare candidates per industry, so an enterprise in several industries is shown once
        pairs = db.session.execute(select(ranked.c.industry_id, ranked.c.eid).where(ranked.c.rn <= size * 3)
                                   .order_by(ranked.c.industry_id, ranked.c.rn)).all()
        candidates: dict[int, list[int]] = {}
        for iid, eid in pairs:
            candidates.setdefault(iid, []).append(eid)
        used: set[int] = set()
        out = []
        for ind in top:
            row = [e for e in candidates.get(ind.id, []) if e not in used][:size]
            used.update(row)
            if row:
                out.append((ind, tuple(row)))
        return tuple(out)

    cached = _cached(f"fallback_rows:{rows}:{size}", compute)
    ents = _load_public(eid for _, ids in cached for eid in ids)
    out = []
    for ind, ids in cached:
        row = [ents[i] for i in ids if i in ents]
        if row:
            out.append((ind, row))
    return out


def featured(at: datetime) -> Featured:
    """The featured listings live at ``at`` (naive UTC): curated FeaturedSlot rows for the
    carousel and per-industry rows; where no slot is live, a fallback from the data.

    An enterprise appears once per placement even if several slots name it.
    """
    out = Featured()
    seen_carousel: set[int] = set()
    industry_rows: dict[int, tuple[Industry, list[Enterprise]]] = {}
    for slot in live_slots(at):
        ent = slot.enterprise
        if slot.placement == Placement.CAROUSEL:
            if ent.id not in seen_carousel:
                seen_carousel.add(ent.id)
                out.carousel.append((ent, slot.title))
        elif slot.placement == Placement.INDUSTRY and slot.industry is not None and slot.industry.active:
            row = industry_rows.setdefault(slot.industry_id, (slot.industry, []))
            if ent not in row[1]:
                row[1].append(ent)
    if out.carousel:
        out.curated_carousel = True
    else:
        out.carousel = [(e, "") for e in _fallback_carousel(CAROUSEL_SIZE)]
    if industry_rows:
        out.curated_rows = True
        out.industry_rows = sorted(industry_rows.values(), key=lambda r: (r[0].position, r[0].id))
    else:
        out.industry_rows = _fallback_industry_rows(INDUSTRY_ROWS, INDUSTRY_ROW_SIZE)
    return out
