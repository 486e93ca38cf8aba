"""Single-listing reads: an enterprise and its shops by platform, a platform's shops."""
from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlalchemy import bindparam, inspect as sa_inspect, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ...extensions import db
from ...models import Enterprise, Platform, Shop, ShopType, Status, shop_is_public
from .. import complaint_record
from .rows import PlatformRow


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
_SHOP_LINES = (
    select(Shop.id, Shop.enterprise_id, Shop.platform_id, Shop.name, Shop.url, Shop.shop_type, Shop.status,
           Platform.id, Platform.name, Platform.slug, Platform.kind, Platform.description, Platform.homepage,
           Platform.position)
    .join(Platform, Platform.id == Shop.platform_id)
    .where(Shop.enterprise_id == bindparam("id")).order_by(Shop.id))


class ShopLine(NamedTuple):
    """A shop as its enterprise's page lists it, with ``Shop``'s attribute names (the page's
    templates and ``authorizations.shop_labels`` take either). Plain rows, not ORM objects:
    the Shop objects with their platforms (built, read by the template, expired at the commit)
    were ~0.3 ms of a 3.3-ms page miss (bench/README.md, issue 15, session 11)."""

    id: int
    enterprise_id: int
    platform_id: int
    name: str
    url: str
    shop_type: str
    status: str
    platform: PlatformRow
    is_public: bool  # ``Shop.is_public``: certified, and so is its enterprise

    @property
    def status_label(self) -> str:
        return Status.LABELS.get(self.status, self.status)


class EnterprisePage(NamedTuple):
    enterprise: Enterprise | None
    complaints_in_window: bool  # False: its public complaint record is empty, no need to read it
    shops: list[ShopLine]  # every shop of the enterprise, in id order

    @property
    def certified_shops(self) -> list[ShopLine]:
        """``Enterprise.public_shops``: the shops whose own status is certified."""
        return [s for s in self.shops if s.status == Status.CERTIFIED]


def _read(enterprise_id: int, today: date | None) -> tuple[Enterprise, bool] | None:
    """The enterprise with its brands, industries, badges and certificates joined in (a few rows
    each), and whether any complaint counts in its public record (today's window)."""
    row = db.session.execute(_ENTERPRISE, {"id": enterprise_id, **complaint_record.window_params(today)}
                             ).unique().first()
    return None if row is None else (row[0], bool(row[1]))


def read_enterprise_page(enterprise_id: int, today: date | None = None) -> EnterprisePage:
    """What an enterprise's page shows, whatever its status (the view decides): ``_read``, then
    its shops as ``ShopLine`` rows with their platforms (two queries). ``ent.shops`` is left
    unloaded: the page reads the lines."""
    found = _read(enterprise_id, today)
    if found is None:
        return EnterprisePage(None, False, [])
    ent, complaints = found
    public = ent.is_public
    lines = [ShopLine(*r[:7], PlatformRow(*r[7:]), public and r[6] == Status.CERTIFIED)
             for r in db.session.execute(_SHOP_LINES, {"id": enterprise_id})]
    return EnterprisePage(ent, complaints, lines)


def get_enterprise(enterprise_id: int) -> Enterprise | None:
    """An enterprise with its collections loaded, whatever its status (the API).

    Two queries: ``_read``, then its shops (a few to dozens), put in place as the loaded
    collection: joined they would multiply the other rows, and ``selectinload`` cost 0.6 ms per
    load, a third of what a page miss spent reading (bench/README.md, issue 15)."""
    found = _read(enterprise_id, None)
    if found is None:
        return None
    ent = found[0]
    if "shops" in sa_inspect(ent).unloaded:
        set_committed_value(ent, "shops", db.session.scalars(_SHOPS, {"id": enterprise_id}).all())
    return ent


def shops_by_platform(shops: list[ShopLine]) -> list[tuple[PlatformRow, list[ShopLine]]]:
    """An enterprise page's shops grouped by platform, in the platforms' order."""
    groups: dict[int, tuple[PlatformRow, list[ShopLine]]] = {}
    for s in shops:
        groups.setdefault(s.platform_id, (s.platform, []))[1].append(s)
    return sorted(groups.values(), key=lambda g: (g[0].position, g[0].id))
