"""Brand authorizations: a 专卖店 or 专营店 selling a brand that belongs to another enterprise
needs the brand owner's authorization (the Tmall rule).

Both sides are named by their 统一社会信用代码, not by a foreign key: the brand owner grants to a
distributor code that may not be registered yet, and a letter names a grantor that may never
register; whoever controls the enterprise with that code (``Enterprise.uscc`` is unique) is that
side on the portal. A distributor's shop depends on an authorization through a
``ShopAuthorization`` link; when the authorization is withdrawn or expires the linked shops are
suspended (``services.authorizations``).

An authorization letter (授权书) is private like a business licence: its bytes live on this row,
never in the ``image`` table, so ``/media`` cannot serve them to anyone; only the distributor's
owner and staff can read them, through their own routes.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Column, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Table, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..clock import china_today, utc_now
from ..extensions import db
from .reference import Platform

brand_authorization_platform = Table(
    "brand_authorization_platform",
    db.metadata,
    Column("authorization_id", ForeignKey("brand_authorization.id", ondelete="CASCADE"), primary_key=True),
    Column("platform_id", ForeignKey("platform.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class AuthorizationSource:
    GRANT = "grant"  # granted on the portal by the brand owner
    LETTER = "letter"  # a letter uploaded by the distributor, checked by staff
    LABELS = {GRANT: "品牌方在线授予", LETTER: "授权书（工作人员核验）"}


class AuthorizationStatus:
    PENDING = "pending"  # a letter waiting for staff
    ACTIVE = "active"
    REJECTED = "rejected"  # staff did not accept the letter
    WITHDRAWN = "withdrawn"  # the brand owner or staff withdrew it
    EXPIRED = "expired"
    ENDED = (WITHDRAWN, EXPIRED)
    LABELS = {PENDING: "待核验", ACTIVE: "有效", REJECTED: "未通过", WITHDRAWN: "已撤回", EXPIRED: "已过期"}


class BrandAuthorization(db.Model):
    """The brand owner (``grantor_uscc``) allows the distributor (``distributor_uscc``) to sell
    ``brand_name`` on ``platforms`` from ``valid_from`` to ``valid_until`` (China dates)."""

    __tablename__ = "brand_authorization"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(10), default=AuthorizationSource.GRANT)
    status: Mapped[str] = mapped_column(String(12), default=AuthorizationStatus.ACTIVE, index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    brand_name: Mapped[str] = mapped_column(String(60))
    grantor_uscc: Mapped[str] = mapped_column(String(18), index=True)
    grantor_name: Mapped[str] = mapped_column(String(120))
    distributor_uscc: Mapped[str] = mapped_column(String(18), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date, index=True)
    letter_mime: Mapped[str | None] = mapped_column(String(40))
    letter_sha256: Mapped[str | None] = mapped_column(String(64))
    letter_data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    expiry_warned_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # services/versioning.py
    __mapper_args__ = {"version_id_col": version}

    platforms: Mapped[list[Platform]] = relationship(
        secondary=brand_authorization_platform, order_by=Platform.position)
    links: Mapped[list["ShopAuthorization"]] = relationship(
        back_populates="authorization", cascade="all, delete-orphan")
    created_by = relationship("User", foreign_keys=[created_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @property
    def status_label(self) -> str:
        if self.status == AuthorizationStatus.ACTIVE and not self.started:
            return "未生效"
        return AuthorizationStatus.LABELS.get(self.status, self.status)

    @property
    def source_label(self) -> str:
        return AuthorizationSource.LABELS.get(self.source, self.source)

    @property
    def started(self) -> bool:
        return self.valid_from <= china_today()

    @property
    def in_effect(self) -> bool:
        """Active and within its dates today: only then is it shown to consumers."""
        today = china_today()
        return self.status == AuthorizationStatus.ACTIVE and self.valid_from <= today <= self.valid_until

    @property
    def shops(self) -> list:
        return [link.shop for link in self.links]

    @property
    def platform_names(self) -> str:
        return "、".join(p.name for p in self.platforms)


class ShopAuthorization(db.Model):
    """A distributor's shop sells the authorized brand under this authorization."""

    __tablename__ = "shop_authorization"
    __table_args__ = (UniqueConstraint("shop_id", "authorization_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    authorization_id: Mapped[int] = mapped_column(
        ForeignKey("brand_authorization.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)

    shop = relationship("Shop")
    authorization: Mapped[BrandAuthorization] = relationship(back_populates="links")
