"""Browse-page facet counts that narrow with the filters already chosen.

Why: with 城市=广州 selected, the industry chips must say how many *Guangzhou* enterprises each
industry has (and hide the industries with none there), or a visitor clicks into empty lists.
Each facet is counted under every active filter except its own, so the other values of the
facet being used stay selectable with honest numbers - the same rule as the search page's facets.
Without any filter the whole-directory counts of ``aggregates`` (cached) are used instead; counts
under one or two other filters are cached the same way (dropped on every listing change).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import func, select

from ...extensions import db
from ...models import Enterprise, Shop, Status, enterprise_industry
from .aggregates import cities_by_region, cities_with_counts, industries_with_counts, platforms_with_counts
from .cache import cached
from .filters import BrowseFilters, public_enterprise_query
from .rows import CityRow, IndustryRow, PlatformRow


@dataclass
class BrowseFacets:
    industries: list[tuple[IndustryRow, int]]
    regions: list[tuple[str, int, list[tuple[CityRow, int]]]]  # (region, total, [(city, count)])
    platforms: list[tuple[PlatformRow, int]]  # enterprises with a public shop there


def browse_facets(f: BrowseFilters | None) -> BrowseFacets:
    """The sidebar counts for a browse page filtered by ``f``."""
    if f is None or not f.as_args():
        return BrowseFacets(
            industries=industries_with_counts(include_empty=False),
            regions=cities_by_region(),
            platforms=[(p, e) for p, _, e in platforms_with_counts() if e],
        )
    return BrowseFacets(industries=_industries(f), regions=_regions(f), platforms=_platforms(f))


# Counts under at most this many other filters are kept in the catalog cache (dropped on every
# listing change, like the directory counts): one or two filters cover almost every visit, and the
# bound keeps the number of cached combinations small (~2,000) whatever a crawler requests.
CACHED_FILTERS = 2


def _counts(facet: str, others: BrowseFilters, compute) -> dict[int, int]:
    """``compute()`` for one facet under the ``others`` filters, cached when they are few."""
    args = others.as_args()
    if len(args) > CACHED_FILTERS:
        return compute()
    key = "&".join(f"{k}={v}" for k, v in sorted(args.items()))
    return cached(f"facet:{facet}:{key}", compute)


def _ids(f: BrowseFilters):
    """Ids of the public enterprises matching ``f``, as a subquery."""
    return public_enterprise_query(f).with_only_columns(Enterprise.id)


def _industries(f: BrowseFilters) -> list[tuple[IndustryRow, int]]:
    others = replace(f, industry=None)
    if not others.as_args():  # only this facet is filtered: the cached directory counts apply
        counts = {row.id: n for row, n in industries_with_counts()}
    else:
        counts = _counts("industry", others, lambda: dict(db.session.execute(
            select(enterprise_industry.c.industry_id, func.count())
            .where(enterprise_industry.c.enterprise_id.in_(_ids(others)))
            .group_by(enterprise_industry.c.industry_id)).all()))
    chosen = f.industry.id if f.industry else None
    return [(row, counts.get(row.id, 0)) for row, _ in industries_with_counts()
            if counts.get(row.id) or row.id == chosen]


def _regions(f: BrowseFilters) -> list[tuple[str, int, list[tuple[CityRow, int]]]]:
    others = replace(f, city=None, region=None)
    if not others.as_args():
        return cities_by_region()
    counts = _counts("city", others, lambda: dict(db.session.execute(
        select(Enterprise.city_id, func.count())
        .where(Enterprise.id.in_(_ids(others)))
        .group_by(Enterprise.city_id)).all()))
    groups: dict[str, list[tuple[CityRow, int]]] = {}
    for city, _ in cities_with_counts():
        groups.setdefault(city.region, []).append((city, counts.get(city.id, 0)))
    return [(region, sum(n for _, n in cities), cities) for region, cities in groups.items()]


def _platforms(f: BrowseFilters) -> list[tuple[PlatformRow, int]]:
    others = replace(f, platform=None)
    if not others.as_args():
        counts = {p.id: ents for p, _, ents in platforms_with_counts()}
    else:
        counts = _counts("platform", others, lambda: dict(db.session.execute(
            select(Shop.platform_id, func.count(func.distinct(Shop.enterprise_id)))
            .where(Shop.status == Status.CERTIFIED, Shop.enterprise_id.in_(_ids(others)))
            .group_by(Shop.platform_id)).all()))
    chosen = f.platform.id if f.platform else None
    return [(p, counts.get(p.id, 0)) for p, _, _ in platforms_with_counts()
            if counts.get(p.id) or p.id == chosen]
