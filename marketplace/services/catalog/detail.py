"""Single-listing reads: an enterprise and its shops by platform, a platform's shops."""
from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlalchemy import bindparam, inspect as sa_inspect, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ...extensions import db
from ...models import Enterprise, Platform, Shop, ShopType, shop_is_public
from .. import complaint_record


def platform_shops(platform: Platform, shop_type: str | None = None, page: int = 1, per_page: int = 20):
    """One page of a platform's public shops (newest certified first), enterprises eager-loaded."""
    q = (select(Shop).join(Enterprise, Enterprise.id == Shop.enterprise_id)
         .where(Shop.platform_id == platform.id, shop_is_public()))
    if shop_type in ShopType.ALL:
        q = q.where(Shop.shop_type == shop_type)
    q = q.order_by(Shop.certified_at.desc().nulls_last(), Shop.id.desc()).options(
        selectinload(Shop.enterprise).selectinload(Enterprise.brands))
    return db.paginate(q, page=page, per_page=per_page, error_out=False, count=True)


# Built once (docs/architecture.md, "Statements built once").
_ENTERPRISE = select(Enterprise, complaint_record.ANY_IN_WINDOW).where(Enterprise.id == bindparam("id")).options(
    joinedload(Enterprise.brands), joinedload(Enterprise.industries), joinedload(Enterprise.badges),
    joinedload(Enterprise.certifications))
_SHOPS = select(Shop).where(Shop.enterprise_id == bindparam("id")).order_by(Shop.id)


class EnterpriseRead(NamedTuple):
    enterprise: Enterprise | None
    complaints_in_window: bool  # False: its public complaint record is empty, no need to read it


def read_enterprise(enterprise_id: int, today: date | None = None) -> EnterpriseRead:
    """An enterprise with everything its page shows, whatever its status (the view decides).

    Two queries. Brands, industries, badges and certificates (a few rows each) are joined into
    the enterprise's, with whether any complaint counts in its public record (today's window).
    Its shops (a few to dozens) are read by a second query and put in place as the loaded
    collection: joined they would multiply the other rows, and ``selectinload`` cost 0.6 ms per
    load, a third of what a page miss spent reading (bench/README.md, issue 15)."""
    row = db.session.execute(_ENTERPRISE, {"id": enterprise_id, **complaint_record.window_params(today)}
                             ).unique().first()
    if row is None:
        return EnterpriseRead(None, False)
    ent, complaints = row
    if "shops" in sa_inspect(ent).unloaded:
        set_committed_value(ent, "shops", db.session.scalars(_SHOPS, {"id": enterprise_id}).all())
    return EnterpriseRead(ent, bool(complaints))


def get_enterprise(enterprise_id: int) -> Enterprise | None:
    """``read_enterprise``'s enterprise."""
    return read_enterprise(enterprise_id).enterprise


def shops_by_platform(ent: Enterprise, include_all: bool = False) -> list[tuple[Platform, list[Shop]]]:
    """An enterprise's shops grouped by platform (platform order); public ones unless
    ``include_all`` (owner / staff preview of a listing that is not public)."""
    shops = ent.shops if include_all else ent.public_shops
    groups: dict[int, tuple[Platform, list[Shop]]] = {}
    for s in shops:
        groups.setdefault(s.platform_id, (s.platform, []))[1].append(s)
    return sorted(groups.values(), key=lambda g: (g[0].position, g[0].id))
