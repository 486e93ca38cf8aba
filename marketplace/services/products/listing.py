"""The public side of products: what consumers may see, decided at query time.

Every query here starts from ``product_is_public`` (approved, enterprise certified, at least one
certified shop), and pages show only the links to certified shops (``Product.public_links``).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import (
    City, Enterprise, Industry, Platform, Product, ProductLink, ProductStatus, Shop, Status, product_is_public,
)
from ..catalog.cache import cached


@dataclass(frozen=True)
class ProductFilters:
    """The /products filters, as slugs (empty = any)."""

    industry: str = ""
    city: str = ""
    platform: str = ""

    def active(self) -> bool:
        return bool(self.industry or self.city or self.platform)


def _on_platform(platform_id):
    return exists(select(ProductLink.id).join(Shop, Shop.id == ProductLink.shop_id).where(
        ProductLink.product_id == Product.id, Shop.status == Status.CERTIFIED, Shop.platform_id == platform_id))


def _public_base():
    return select(Product).join(Product.enterprise).where(product_is_public())


def _apply(stmt, f: ProductFilters, skip: str = ""):
    if f.industry and skip != "industry":
        stmt = stmt.where(Product.industry_id == select(Industry.id).where(Industry.slug == f.industry)
                          .scalar_subquery())
    if f.city and skip != "city":
        stmt = stmt.where(Enterprise.city_id == select(City.id).where(City.slug == f.city).scalar_subquery())
    if f.platform and skip != "platform":
        stmt = stmt.where(_on_platform(select(Platform.id).where(Platform.slug == f.platform).scalar_subquery()))
    return stmt


def browse_query(f: ProductFilters):
    """Public products matching ``f``, newest approved first."""
    return (_apply(_public_base(), f).order_by(Product.decided_at.desc(), Product.id.desc())
            .options(selectinload(Product.photos), selectinload(Product.enterprise).selectinload(Enterprise.brands),
                     selectinload(Product.links)))


def facets(f: ProductFilters) -> dict[str, list[tuple[object, int]]]:
    """(row, count) per industry, city and platform, each counted under the other filters."""
    ids = lambda skip: _apply(_public_base(), f, skip).with_only_columns(Product.id).subquery()  # noqa: E731
    sub = ids("industry")
    industries = db.session.execute(
        select(Industry, func.count()).join(Product, Product.industry_id == Industry.id)
        .where(Product.id.in_(select(sub.c.id))).group_by(Industry.id).order_by(Industry.position)).all()
    sub = ids("city")
    cities = db.session.execute(
        select(City, func.count()).join(Enterprise, Enterprise.city_id == City.id)
        .join(Product, Product.enterprise_id == Enterprise.id)
        .where(Product.id.in_(select(sub.c.id))).group_by(City.id).order_by(City.position)).all()
    sub = ids("platform")
    platforms = db.session.execute(
        select(Platform, func.count(func.distinct(ProductLink.product_id)))
        .join(Shop, Shop.platform_id == Platform.id).join(ProductLink, ProductLink.shop_id == Shop.id)
        .where(ProductLink.product_id.in_(select(sub.c.id)), Shop.status == Status.CERTIFIED)
        .group_by(Platform.id).order_by(Platform.position)).all()
    return {"industry": [tuple(r) for r in industries], "city": [tuple(r) for r in cities],
            "platform": [tuple(r) for r in platforms]}


def get_public_product(product_id: int) -> Product | None:
    return db.session.scalar(_public_base().where(Product.id == product_id).options(
        selectinload(Product.photos), selectinload(Product.links)))


# built once: every enterprise page asks it (docs/architecture.md, "Statements built once")
_WITH_APPROVED = select(Product.enterprise_id).distinct().where(Product.status == ProductStatus.APPROVED)
_ENTERPRISE_PRODUCTS = (
    _public_base().where(Product.enterprise_id == bindparam("enterprise_id"))
    .order_by(Product.decided_at.desc(), Product.id.desc()).limit(bindparam("limit"))
    .options(selectinload(Product.photos), selectinload(Product.links)))


def enterprise_products(ent: Enterprise, limit: int = 24) -> list[Product]:
    """An enterprise's public products for its page, newest first.

    Enterprises with an approved product are kept with the catalog aggregates (an approval or
    withdrawal writes a ``page_lists`` outbox row, which drops them): the others, most of the
    directory, are answered without a query."""
    with_products = cached("enterprises_with_approved_products", lambda: frozenset(db.session.scalars(_WITH_APPROVED)))
    if ent.id not in with_products:
        return []
    return list(db.session.scalars(_ENTERPRISE_PRODUCTS, {"enterprise_id": ent.id, "limit": limit}))


def public_link(product_id: int, link_id: int):
    """(product, link) when both are public now, else None (for ``/go/``)."""
    product = get_public_product(product_id)
    if product is None:
        return None
    link = next((k for k in product.public_links if k.id == link_id), None)
    return (product, link) if link is not None else None
