"""Shopping festivals (网购节) and the offers certified shops publish in them.

Staff create a ``ShoppingEvent`` (a time window in UTC, entered in China time). Certified
merchants enroll their certified shops with ``Offer`` rows; staff review each offer before it is
published. An offer is public only while it is approved, has not ended, its event is not hidden
and its shop and enterprise are certified — always decided at query time, so an offer expires,
and a revoked shop's offers disappear, without any job running (see services/events/listing.py).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utc_now
from ..extensions import db
from .reference import Industry

shopping_event_industry = Table(
    "shopping_event_industry",
    db.metadata,
    Column("event_id", ForeignKey("shopping_event.id", ondelete="CASCADE"), primary_key=True),
    Column("industry_id", ForeignKey("industry.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class ShoppingEvent(db.Model):
    """A 网购节: live while ``starts_at <= now < ends_at`` (naive UTC) unless staff hid it."""

    __tablename__ = "shopping_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    banner_sha256: Mapped[str | None] = mapped_column(ForeignKey("image.sha256"))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, onupdate=utc_now)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # services/versioning.py
    __mapper_args__ = {"version_id_col": version}

    industries: Mapped[list[Industry]] = relationship(secondary=shopping_event_industry,
                                                      order_by=Industry.position)
    offers: Mapped[list["Offer"]] = relationship(back_populates="event", cascade="all, delete-orphan",
                                                 order_by="Offer.id")

    def state(self, at: datetime) -> str:
        """``upcoming`` / ``live`` / ``ended`` at ``at`` (naive UTC)."""
        if at < self.starts_at:
            return "upcoming"
        return "live" if at < self.ends_at else "ended"

    def __repr__(self) -> str:
        return f"<ShoppingEvent {self.slug}>"


EVENT_STATE_LABELS = {"live": "进行中", "upcoming": "即将开始", "ended": "已结束"}


class OfferKind:
    """The kinds of offer of the national 网购节 practice (实折实扣)."""

    THRESHOLD = "threshold"  # 满减: spend ``threshold``, get ``amount`` off
    DISCOUNT = "discount"  # 折扣: pay ``discount_tenths``/10 of the price (8.5折 = 85)
    COUPON = "coupon"  # 优惠券: ``amount`` off, from ``threshold`` (0 = no minimum)
    FREE_SHIPPING = "free_shipping"  # 包邮: from ``threshold`` (0 = every order)
    GIFT = "gift"  # 赠品: ``gift`` with orders from ``threshold``
    LABELS = {THRESHOLD: "满减", DISCOUNT: "折扣", COUPON: "优惠券", FREE_SHIPPING: "包邮", GIFT: "赠品"}


class OfferStatus:
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    LABELS = {PENDING: "审核中", APPROVED: "已通过", REJECTED: "未通过", WITHDRAWN: "已撤下"}


class Offer(db.Model):
    """One offer of one shop in one event. Money is stored in fen (integer), never as floats."""

    __tablename__ = "offer"
    __table_args__ = (  # the event page: an event's approved offers still running
        Index("ix_offer_event_status_ends_at", "event_id", "status", "ends_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("shopping_event.id", ondelete="CASCADE"))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    threshold_fen: Mapped[int] = mapped_column(Integer, default=0)
    amount_fen: Mapped[int] = mapped_column(Integer, default=0)
    discount_tenths: Mapped[int] = mapped_column(Integer, default=0)
    gift: Mapped[str] = mapped_column(String(40), default="")
    terms: Mapped[str] = mapped_column(Text, default="")
    coupon_code: Mapped[str] = mapped_column(String(32), default="")
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(12), default=OfferStatus.PENDING, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)  # ends a published offer's run early
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, onupdate=utc_now)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # services/versioning.py
    __mapper_args__ = {"version_id_col": version}

    event: Mapped[ShoppingEvent] = relationship(back_populates="offers")
    shop = relationship("Shop", lazy="joined")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @property
    def kind_label(self) -> str:
        return OfferKind.LABELS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return OfferStatus.LABELS.get(self.status, self.status)

    @property
    def headline(self) -> str:
        """What the offer gives, in the words Chinese shoppers use (``满300减50``, ``8.5折``)."""
        t, a = _yuan(self.threshold_fen), _yuan(self.amount_fen)
        if self.kind == OfferKind.THRESHOLD:
            return f"满{t}减{a}"
        if self.kind == OfferKind.DISCOUNT:
            return f"{self.discount_tenths / 10:g}折"
        if self.kind == OfferKind.COUPON:
            return f"{a}元优惠券" + (f"（满{t}可用）" if self.threshold_fen else "（无门槛）")
        if self.kind == OfferKind.FREE_SHIPPING:
            return f"满{t}元包邮" if self.threshold_fen else "全场包邮"
        if self.kind == OfferKind.GIFT:
            return (f"满{t}元赠" if self.threshold_fen else "下单赠") + self.gift
        return self.kind_label

    def __repr__(self) -> str:
        return f"<Offer {self.id} {self.kind} {self.status}>"


def _yuan(fen: int) -> str:
    """Fen as a yuan amount without needless decimals (30000 -> ``300``, 1990 -> ``19.9``)."""
    return f"{fen / 100:.2f}".rstrip("0").rstrip(".")
