"""Enterprise cards for the list pages (home, browse, city / industry / platform pages): what a
card shows, read with narrow column queries into small read-only objects.

Why: building ORM objects for a home page's ~48 enterprises with their brands, industries,
badges and ~240 shops was 40-50 % of a render that misses the page cache (bench/README.md,
issue 15). A card needs a few columns of each: five narrow queries read them, and the reference
rows (cities, industries, badges, platforms: a few dozen) stay ORM objects, so their display
rules (``City.full_name`` ...) keep one home. The page cache learns which enterprises a page
shows from ORM loads (``page_changes``); these rows are not ORM loads, so the loader reports
them (``page_changes.note_shown``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select

from ... import page_changes
from ...extensions import db
from ...models import (
    Badge, Brand, City, Enterprise, Industry, Platform, Shop, Status, display_name, enterprise_badge,
    enterprise_industry, enterprise_is_public,
)


class ShopChip(NamedTuple):
    """A certified shop as a card shows it: its platform."""

    platform_id: int
    platform: Platform


@dataclass(slots=True)
class EnterpriseCard:
    """The part of a public enterprise a card (and the home page's carousel) shows; attribute
    names are ``Enterprise``'s, so the templates take either."""

    id: int
    name: str
    description: str | None
    logo_sha256: str | None
    certified_at: datetime | None
    click_count: int
    city: City | None
    brand_names: list[str]
    industries: list[Industry]
    badges: list[Badge]
    public_shops: list[ShopChip]

    @property
    def display_name(self) -> str:
        return display_name(self.brand_names, self.name)


def load_cards(ids) -> dict[int, EnterpriseCard]:
    """Public enterprises by id as cards; ids no longer public are left out (cached id lists
    are re-checked here). Five queries whatever the number of ids."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    session = db.session
    rows = session.execute(
        select(Enterprise.id, Enterprise.name, Enterprise.description, Enterprise.logo_sha256,
               Enterprise.certified_at, Enterprise.click_count, City)
        .outerjoin(City, City.id == Enterprise.city_id)
        .where(Enterprise.id.in_(ids), enterprise_is_public())).all()
    ids = [r.id for r in rows]
    brands = _grouped(session.execute(select(Brand.enterprise_id, Brand.name)
                                      .where(Brand.enterprise_id.in_(ids)).order_by(Brand.position, Brand.id)))
    industries = _grouped(session.execute(
        select(enterprise_industry.c.enterprise_id, Industry).join(Industry)
        .where(enterprise_industry.c.enterprise_id.in_(ids)).order_by(Industry.position)))
    badges = _grouped(session.execute(
        select(enterprise_badge.c.enterprise_id, Badge).join(Badge)
        .where(enterprise_badge.c.enterprise_id.in_(ids)).order_by(Badge.position)))
    shops = _grouped(session.execute(
        select(Shop.enterprise_id, Shop.platform_id, Platform).join(Platform, Platform.id == Shop.platform_id)
        .where(Shop.enterprise_id.in_(ids), Shop.status == Status.CERTIFIED).order_by(Shop.id)), chip=True)
    page_changes.note_shown(ids)
    return {r.id: EnterpriseCard(
        id=r.id, name=r.name, description=r.description, logo_sha256=r.logo_sha256, certified_at=r.certified_at,
        click_count=int(r.click_count or 0), city=r.City, brand_names=brands.get(r.id, []),
        industries=industries.get(r.id, []), badges=badges.get(r.id, []), public_shops=shops.get(r.id, []),
    ) for r in rows}


def _grouped(rows, chip: bool = False) -> dict[int, list]:
    """{enterprise id: [value, ...]} from (enterprise id, value) rows, in row order."""
    out: dict[int, list] = {}
    for row in rows:
        value = ShopChip(row[1], row[2]) if chip else row[1]
        out.setdefault(row[0], []).append(value)
    return out
