"""Products (名优广货) that certified enterprises list, with photos and links to their shops.

A product is public only while it is approved by staff, its enterprise is certified and at least
one of its links points at a certified shop; only the links to certified shops are shown. All of
it is decided at query time (``product_is_public``), so revoking a shop or an enterprise hides its
products without any job running. A merchant's change sends the product back to review
(``services/products/manage.py``): consumers only ever see what staff approved.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, and_, exists, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utc_now
from ..extensions import db
from .base import Status
from .directory import Enterprise, Shop, enterprise_is_public
from .reference import Industry

MAX_PHOTOS = 5


class ProductStatus:
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    LABELS = {PENDING: "审核中", APPROVED: "已通过", REJECTED: "未通过", WITHDRAWN: "已下架"}


class Product(db.Model):
    """One product of an enterprise. Prices are stored in fen (integers), never as floats."""

    __tablename__ = "product"
    __table_args__ = (  # the public list: approved products, newest first
        Index("ix_product_status_decided_at", "status", "decided_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    industry_id: Mapped[int] = mapped_column(ForeignKey("industry.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    price_min_fen: Mapped[int] = mapped_column(Integer)
    price_max_fen: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=ProductStatus.PENDING, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    click_count: Mapped[int] = mapped_column(Integer, default=0)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, onupdate=utc_now)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # services/versioning.py
    __mapper_args__ = {"version_id_col": version}

    enterprise: Mapped[Enterprise] = relationship()
    industry: Mapped[Industry] = relationship(lazy="joined")
    photos: Mapped[list["ProductPhoto"]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductPhoto.position")
    links: Mapped[list["ProductLink"]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductLink.id")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @property
    def status_label(self) -> str:
        return ProductStatus.LABELS.get(self.status, self.status)

    @property
    def public_links(self) -> list["ProductLink"]:
        """Links to shops that are public now (the only ones consumers see)."""
        return [link for link in self.links if link.shop.is_public]

    @property
    def is_public(self) -> bool:
        return (self.status == ProductStatus.APPROVED and self.enterprise.status == Status.CERTIFIED
                and bool(self.public_links))

    @property
    def cover_sha256(self) -> str | None:
        return self.photos[0].image_sha256 if self.photos else None

    @property
    def price_label(self) -> str:
        """``¥39`` or ``¥39 – 199.5``."""
        low, high = _yuan(self.price_min_fen), _yuan(self.price_max_fen)
        return f"¥{low}" if low == high else f"¥{low} – {high}"

    def __repr__(self) -> str:
        return f"<Product {self.id} {self.name}>"


class ProductPhoto(db.Model):
    """One photo of a product (an ``Image`` re-encoded by ``services/images.py``), in order."""

    __tablename__ = "product_photo"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    image_sha256: Mapped[str] = mapped_column(ForeignKey("image.sha256"))

    product: Mapped[Product] = relationship(back_populates="photos")


class ProductLink(db.Model):
    """The product's page on one of its enterprise's shops (checked by ``validate_product_url``)."""

    __tablename__ = "product_link"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))

    product: Mapped[Product] = relationship(back_populates="links")
    shop: Mapped[Shop] = relationship(lazy="joined")


def product_is_public():
    """SQL condition: the product is public (approved, enterprise certified, one certified shop).

    The statement must have ``Enterprise`` in its FROM (join ``Product.enterprise``);
    ``Product.is_public`` is the same rule on a row.
    """
    public_link = exists(select(ProductLink.id).join(Shop, Shop.id == ProductLink.shop_id).where(
        ProductLink.product_id == Product.id, Shop.status == Status.CERTIFIED))
    return and_(Product.status == ProductStatus.APPROVED, enterprise_is_public(), public_link)


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}".rstrip("0").rstrip(".")
