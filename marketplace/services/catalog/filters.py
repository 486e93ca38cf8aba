"""Browse: filter parsing, sort orders, the public enterprise query and its pages."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Mapping

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select

from ...extensions import db
from ...models import (
    Badge, City, Enterprise, Industry, Platform, Shop, ShopType, Status, enterprise_badge,
    enterprise_industry, enterprise_is_public,
)
from ..reference_data import REGIONS
from .cache import cached
from .cards import EnterpriseCard, load_cards
from .rows import BadgeRow, CityRow, IndustryRow, PlatformRow


SORTS = {
    "newest": "最新认证",
    "name": "名称拼音",
    "popular": "最多访问",
}
DEFAULT_SORT = "newest"
FILTER_KEYS = ("industry", "city", "region", "platform", "shop_type", "badge")


@dataclass
class BrowseFilters:
    """Resolved browse filters; unknown values were dropped while parsing (never an error)."""

    industry: IndustryRow | None = None
    city: CityRow | None = None
    region: str | None = None
    platform: PlatformRow | None = None
    shop_type: str | None = None
    badge: BadgeRow | None = None

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


class UnknownFilter(ValueError):
    """A filter value that names nothing (strict parsing only); ``key`` is the argument's name.

    ``value`` is what was given; for ``key == "region"`` with ``value == ""`` the city lies
    outside the given region. The API turns it into a message that says where valid values are.
    """

    def __init__(self, key: str, value: str):
        super().__init__(f"{key}={value}")
        self.key, self.value = key, value


def parse_filters(args: Mapping[str, str], strict: bool = False) -> BrowseFilters:
    """Resolve filter arguments (slugs; region and shop type by name) to rows.

    Pages ignore unknown or malformed values rather than refusing them: a stale bookmark still
    shows a useful list, and a city wins over a region. With ``strict`` (the API) an unknown value
    raises ``UnknownFilter``, and so does a city outside the given region.
    """
    f = BrowseFilters()
    max_len = 100 if strict else 80

    def resolve(key: str, value: str, found):
        if found is None and strict:
            raise UnknownFilter(key, value)
        return found

    def value(key: str) -> str:
        return _clean(args.get(key), max_len)

    def row(key: str):
        slug = value(key)
        return resolve(key, slug, reference_rows(key).get(slug)) if slug else None

    f.industry = row("industry")
    f.city = row("city")
    region = value("region")
    if region and resolve("region", region, region if region in REGIONS else None):
        if f.city is None:
            f.region = region
        elif strict and f.city.region != region:
            raise UnknownFilter("region", "")
    f.platform = row("platform")
    shop_type = value("shop_type")
    if shop_type:
        f.shop_type = resolve("shop_type", shop_type, shop_type if shop_type in ShopType.ALL else None)
    f.badge = row("badge")
    return f


# what a filter may name: (model, plain row, active ones only)
_REFERENCE = {"industry": (Industry, IndustryRow, True), "city": (City, CityRow, False),
              "platform": (Platform, PlatformRow, True), "badge": (Badge, BadgeRow, False)}


def reference_rows(key: str) -> dict[str, IndustryRow | CityRow | PlatformRow | BadgeRow]:
    """``slug -> plain row`` of the industries, cities, platforms or badges a filter may name
    (``key``), in position order; kept with the directory aggregates, since every list page
    resolves its filters (a change of one of them writes a ``page_all`` row)."""
    model, row_type, active_only = _REFERENCE[key]

    def compute():
        stmt = select(*(getattr(model, f.name) for f in fields(row_type))).order_by(model.position, model.id)
        if active_only:
            stmt = stmt.where(model.active.is_(True))
        return {r.slug: r for r in (row_type(*values) for values in db.session.execute(stmt))}

    return cached(f"reference:{key}", compute)


def public_enterprise_query(f: BrowseFilters | None = None):
    """A select() of public enterprises matching ``f`` (no order, no eager loads)."""
    q = select(Enterprise).where(enterprise_is_public())
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


class CardPage(Pagination):
    """A page of enterprise cards whose items and total come from the callables given as
    ``items(page, per_page)`` and ``total()`` (Flask-SQLAlchemy's Pagination, minus its query)."""

    def _query_items(self) -> list:
        return self._query_args["items"](self.page, self.per_page)

    def _query_count(self) -> int:
        return self._query_args["total"]()


def browse(f: BrowseFilters | None, sort: str = DEFAULT_SORT, page: int = 1, per_page: int = 20):
    """One page of public enterprises matching ``f`` in ``sort`` order (a Pagination; a page
    beyond the last has no items rather than raising).

    Why not ``db.paginate`` over full ORM rows: a browse miss spent ~20 ms there at 10,000
    enterprises (every column of 20 enterprises and their ~100 shops, four eager-load queries, a
    count over a subquery of every column). Now the page's ids come from one narrow query, the
    cards from ``cards.load_cards`` (kept per process, read with narrow column queries) and the ids
    and the total are kept with the directory aggregates: they depend only on the filters, the
    sort and the directory (the "popular" order also on click counts, which the aggregates'
    age limit bounds, as for the fallback featured lists).
    """
    if sort not in SORTS:
        sort = DEFAULT_SORT
    q = public_enterprise_query(f)

    key = "&".join(f"{k}={v}" for k, v in sorted((f.as_args() if f else {}).items()))

    def items(page_no: int, size: int) -> list[EnterpriseCard]:
        ids = cached(f"browse_ids:{key}:{sort}:{page_no}:{size}", lambda: tuple(db.session.scalars(
            _ordered(q.with_only_columns(Enterprise.id), sort).limit(size).offset((page_no - 1) * size))))
        cards = load_cards(ids)
        return [cards[i] for i in ids if i in cards]

    def total() -> int:
        return cached(f"browse_total:{key}", lambda: int(db.session.scalar(
            q.with_only_columns(func.count(Enterprise.id)).order_by(None)) or 0))

    return CardPage(page=page, per_page=per_page, max_per_page=None, error_out=False, count=True,
                    items=items, total=total)


def newest_ids(limit: int) -> tuple[int, ...]:
    """Ids of the ``2 * limit`` most recently certified public enterprises, newest first.

    Cached with the directory aggregates: the order is a pure function of the directory (a
    certification writes an outbox row), and on PostgreSQL the query sorts every certified
    enterprise (~10 ms at 10,000). The spare half covers enterprises made non-public by bulk SQL
    that skips the outbox: callers load the cards with a fresh status check and keep the first
    ``limit`` that are still public.
    """

    def compute():
        q = _ordered(select(Enterprise.id).where(enterprise_is_public()), "newest")
        return tuple(db.session.scalars(q.limit(2 * limit)))

    return cached(f"newest:{limit}", compute)
