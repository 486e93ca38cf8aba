"""Home and browse aggregates: totals and counts per industry, city, region and platform."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ...extensions import db
from ...models import (
    City, Enterprise, Industry, Shop, enterprise_industry, enterprise_is_public,
    shop_is_public,
)
from ..reference_data import REGIONS
from .cache import cached
from .filters import reference_rows
from .rows import CityRow, IndustryRow, PlatformRow


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
            .where(shop_is_public())
            .group_by(Shop.platform_id)).all()
        return {pid: (shops, ents) for pid, shops, ents in rows}

    return cached("shop_stats", compute)


def counts(goal: int) -> HomeCounts:
    """Live counts for the home page: certified enterprises, public shops, active platforms."""

    def compute():
        return db.session.scalar(select(func.count()).select_from(Enterprise).where(enterprise_is_public())) or 0

    shops = sum(n for n, _ in _shop_stats().values())
    return HomeCounts(enterprises=cached("counts", compute), shops=shops, platforms=len(reference_rows("platform")),
                      goal=goal)


def industries_with_counts(include_empty: bool = True) -> list[tuple[IndustryRow, int]]:
    """Active industries in their position order, each with its number of public enterprises."""

    def compute():
        n = (select(enterprise_industry.c.industry_id, func.count().label("n"))
             .join(Enterprise, Enterprise.id == enterprise_industry.c.enterprise_id)
             .where(enterprise_is_public())
             .group_by(enterprise_industry.c.industry_id).subquery())
        rows = db.session.execute(
            select(Industry.id, Industry.name, Industry.slug, Industry.position, func.coalesce(n.c.n, 0))
            .outerjoin(n, n.c.industry_id == Industry.id)
            .where(Industry.active.is_(True)).order_by(Industry.position, Industry.id)).all()
        return tuple((IndustryRow(i, name, slug, pos), c) for i, name, slug, pos, c in rows)

    return [(i, c) for i, c in cached("industries", compute) if include_empty or c]


def cities_with_counts() -> list[tuple[CityRow, int]]:
    """All cities in their position order, each with its number of public enterprises."""

    def compute():
        n = (select(Enterprise.city_id, func.count().label("n")).where(enterprise_is_public())
             .group_by(Enterprise.city_id).subquery())
        rows = db.session.execute(
            select(City.id, City.name, City.slug, City.region, City.code, City.position,
                   func.coalesce(n.c.n, 0))
            .outerjoin(n, n.c.city_id == City.id).order_by(City.position, City.id)).all()
        return tuple((CityRow(*r[:6]), r[6]) for r in rows)

    return list(cached("cities", compute))


def cities_by_region() -> list[tuple[str, int, list[tuple[CityRow, int]]]]:
    """Cities grouped by region (珠三角, 粤东, 粤西, 粤北): ``(region, total, [(city, count)])``."""
    groups: dict[str, list[tuple[CityRow, int]]] = {r: [] for r in REGIONS}
    for c, k in cities_with_counts():
        groups.setdefault(c.region, []).append((c, k))
    return [(r, sum(k for _, k in cs), cs) for r, cs in groups.items()]


def platforms_with_counts() -> list[tuple[PlatformRow, int, int]]:
    """Active platforms with their numbers of public shops and of public enterprises there."""
    stats = _shop_stats()
    return [(p, *stats.get(p.id, (0, 0))) for p in reference_rows("platform").values()]
