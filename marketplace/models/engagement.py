"""What consumers do and what staff put in front of them: clicks, complaints, featured slots."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import BigId, utcnow


class ClickEvent(db.Model):
    """One click-through via ``/go/<shop id>``; feeds the merchants' 30-day chart and statistics.

    A click from a 网购节 page (``/go/<shop id>?offer=<offer id>``) also keeps the offer and its
    event, so the event report can count clicks per day.
    """

    __tablename__ = "click_event"
    __table_args__ = (Index("ix_click_event_event_id_at", "event_id", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("shopping_event.id", ondelete="SET NULL"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id", ondelete="SET NULL"), index=True)


class ComplaintKind:
    ALL = ("假冒伪劣", "虚假宣传", "售后问题", "链接失效/跳转异常", "其他")


class ComplaintStatus:
    NEW = "new"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"
    LABELS = {NEW: "待处理", ASSIGNED: "处理中", RESOLVED: "已解决", DISMISSED: "不予受理"}


class Complaint(db.Model):
    """A consumer's report (投诉举报) about an enterprise or one of its shops."""

    __tablename__ = "complaint"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    description: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(String(120), default="")
    evidence_sha256: Mapped[str | None] = mapped_column(ForeignKey("image.sha256"), index=True)  # /media privacy check
    status: Mapped[str] = mapped_column(String(12), default=ComplaintStatus.NEW, index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    enterprise = relationship("Enterprise")
    shop = relationship("Shop")
    assignee = relationship("User")
    messages: Mapped[list["ComplaintMessage"]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="ComplaintMessage.id"
    )

    @property
    def status_label(self) -> str:
        return ComplaintStatus.LABELS.get(self.status, self.status)


class ComplaintMessage(db.Model):
    """A reply on a complaint by staff or by the merchant; ``public`` ones show on the status page."""

    __tablename__ = "complaint_message"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    author_role: Mapped[str] = mapped_column(String(10))  # staff / merchant
    body: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    complaint: Mapped[Complaint] = relationship(back_populates="messages")
    author = relationship("User")


class Placement:
    CAROUSEL = "carousel"  # the home page's focus carousel
    INDUSTRY = "industry"  # the featured row of one industry
    LABELS = {CAROUSEL: "首页焦点图", INDUSTRY: "行业推荐"}


class FeaturedSlot(db.Model):
    """A curated placement of an enterprise, live between ``starts_at`` and ``ends_at`` (UTC)."""

    __tablename__ = "featured_slot"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    placement: Mapped[str] = mapped_column(String(12), index=True)
    industry_id: Mapped[int | None] = mapped_column(ForeignKey("industry.id", ondelete="CASCADE"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    title: Mapped[str] = mapped_column(String(60), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    enterprise = relationship("Enterprise")
    industry = relationship("Industry")
