"""The directory itself: enterprises, their brands, shops and certificates."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    DDL, Column, Date, DateTime, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint, and_, event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import ShopType, Status
from ..clock import china_today, utc_now
from .reference import Badge, City, Industry, Platform

enterprise_industry = Table(
    "enterprise_industry",
    db.metadata,
    Column("enterprise_id", ForeignKey("enterprise.id", ondelete="CASCADE"), primary_key=True),
    Column("industry_id", ForeignKey("industry.id", ondelete="CASCADE"), primary_key=True, index=True),
)

enterprise_badge = Table(
    "enterprise_badge",
    db.metadata,
    Column("enterprise_id", ForeignKey("enterprise.id", ondelete="CASCADE"), primary_key=True),
    Column("badge_id", ForeignKey("badge.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Enterprise(db.Model):
    """A Guangdong enterprise (brand owner). Public only while ``status`` is certified."""

    __tablename__ = "enterprise"
    __table_args__ = (  # the public lists' sorts: newest certified, pinyin name, most visited
        Index("ix_enterprise_status_certified_at", "status", "certified_at"),
        Index("ix_enterprise_status_name_sort", "status", "name_sort"),
        Index("ix_enterprise_status_click_count", "status", "click_count"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120), index=True)  # NFKC + casefold, no spaces
    name_sort: Mapped[str] = mapped_column(String(400), default="", index=True)  # pinyin order
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(500), default="")
    founded_year: Mapped[int | None] = mapped_column(Integer)
    # Customer service shown on the enterprise page (optional; changed through reviewed edits)
    service_phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    service_hours: Mapped[str] = mapped_column(String(60), default="", server_default="")
    address: Mapped[str] = mapped_column(String(200), default="", server_default="")
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=Status.DRAFT, index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    logo_sha256: Mapped[str | None] = mapped_column(ForeignKey("image.sha256"))
    source: Mapped[str] = mapped_column(String(12), default="merchant")  # merchant / import
    click_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, onupdate=utc_now)
    certified_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # services/versioning.py
    __mapper_args__ = {"version_id_col": version}

    city: Mapped[City] = relationship(lazy="joined")
    owner = relationship("User", foreign_keys=[owner_id])
    brands: Mapped[list["Brand"]] = relationship(
        back_populates="enterprise", cascade="all, delete-orphan", order_by="Brand.position"
    )
    industries: Mapped[list[Industry]] = relationship(
        secondary=enterprise_industry, order_by=Industry.position
    )
    badges: Mapped[list[Badge]] = relationship(secondary=enterprise_badge, order_by=Badge.position)
    shops: Mapped[list["Shop"]] = relationship(
        back_populates="enterprise", cascade="all, delete-orphan", order_by="Shop.id"
    )
    certifications: Mapped[list["Certification"]] = relationship(
        back_populates="enterprise", cascade="all, delete-orphan",
        order_by="Certification.id.desc()",
    )

    @property
    def is_public(self) -> bool:
        return self.status == Status.CERTIFIED

    @property
    def status_label(self) -> str:
        return Status.LABELS.get(self.status, self.status)

    @property
    def brand_names(self) -> list[str]:
        return [b.name for b in self.brands]

    @property
    def display_name(self) -> str:
        return display_name(self.brand_names, self.name)

    @property
    def certificate(self) -> "Certification | None":
        """The most recent certificate, whatever its status."""
        return self.certifications[0] if self.certifications else None

    @property
    def public_shops(self) -> list["Shop"]:
        return [s for s in self.shops if s.status == Status.CERTIFIED]

    def __repr__(self) -> str:
        return f"<Enterprise {self.id} {self.name}>"


def display_name(brand_names: list[str], legal_name: str) -> str:
    """What consumers call an enterprise: its first brand when it has one, else its legal name
    (``Enterprise.display_name`` and the list pages' cards, ``services.catalog.cards``)."""
    return brand_names[0] if brand_names else legal_name


class Brand(db.Model):
    """A brand name of an enterprise; the first one is shown as the enterprise's display name."""

    __tablename__ = "brand"
    __table_args__ = (UniqueConstraint("enterprise_id", "name_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    name_key: Mapped[str] = mapped_column(String(60), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    enterprise: Mapped[Enterprise] = relationship(back_populates="brands")


class Shop(db.Model):
    """An online shop of an enterprise on a platform. ``url`` is normalised and unique."""

    __tablename__ = "shop"
    __table_args__ = (
        # a platform's public shops, newest first
        Index("ix_shop_platform_status_certified_at", "platform_id", "status", "certified_at"),
        # /verify asks for the shops whose URL contains a shop id or host and path (LIKE
        # '%token%'): without trigrams PostgreSQL reads every shop (15 ms at 50,000). The pg_trgm
        # extension is created before the table (the listener after this class; the migration).
        Index("ix_shop_url_trgm", "url", postgresql_using="gin",
              postgresql_ops={"url": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    shop_type: Mapped[str] = mapped_column(String(10), default=ShopType.FLAGSHIP, index=True)
    status: Mapped[str] = mapped_column(String(12), default=Status.DRAFT, index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    click_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, onupdate=utc_now)
    certified_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Proof of control: the merchant puts this code in the shop's announcement (services/shop_codes.py)
    verify_code: Mapped[str | None] = mapped_column(String(12), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # services/versioning.py
    __mapper_args__ = {"version_id_col": version}

    enterprise: Mapped[Enterprise] = relationship(back_populates="shops")
    platform: Mapped[Platform] = relationship(lazy="joined")

    @property
    def is_public(self) -> bool:
        return self.status == Status.CERTIFIED and self.enterprise.status == Status.CERTIFIED

    @property
    def status_label(self) -> str:
        return Status.LABELS.get(self.status, self.status)

    def __repr__(self) -> str:
        return f"<Shop {self.id} {self.name}>"


# pg_trgm (a contrib module shipped with PostgreSQL) provides gin_trgm_ops for ix_shop_url_trgm.
event.listen(Shop.__table__, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))


class CertStatus:
    VALID = "valid"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    LABELS = {VALID: "有效", SUSPENDED: "已暂停", REVOKED: "已撤销", EXPIRED: "已过期"}


class Certification(db.Model):
    """A certificate issued to an enterprise when staff approve it (``GDWS-<year>-<6 digits>``)."""

    __tablename__ = "certification"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12), default=CertStatus.VALID, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    expiry_warned_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)

    enterprise: Mapped[Enterprise] = relationship(back_populates="certifications")

    @property
    def is_valid(self) -> bool:
        return self.status == CertStatus.VALID and self.valid_until >= china_today()

    @property
    def status_label(self) -> str:
        if self.status == CertStatus.VALID and self.valid_until < china_today():
            return CertStatus.LABELS[CertStatus.EXPIRED]
        return CertStatus.LABELS.get(self.status, self.status)


def enterprise_is_public():
    """SQL condition: the enterprise is public (consumers, search, the API and feeds may show it).

    The one definition of "public" in queries; ``Enterprise.is_public`` is the same rule on a row.
    """
    return Enterprise.status == Status.CERTIFIED


def shop_is_public():
    """SQL condition: the shop is public (certified, and its enterprise is public).

    The statement must have ``Enterprise`` in its FROM (join ``Shop.enterprise``);
    ``Shop.is_public`` is the same rule on a row.
    """
    return and_(Shop.status == Status.CERTIFIED, enterprise_is_public())
