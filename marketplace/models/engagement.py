"""What consumers do and what staff put in front of them: clicks, complaints, featured slots."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import BigId
from ..clock import utc_now


class ClickEvent(db.Model):
    """One click-through via ``/go/<shop id>``; feeds the merchants' 30-day chart and statistics.

    A click from a 网购节 page (``/go/<shop id>?offer=<offer id>``) also keeps the offer and its
    event, so the event report can count clicks per day.
    """

    __tablename__ = "click_event"
    __table_args__ = (Index("ix_click_event_event_id_at", "event_id", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("shopping_event.id", ondelete="SET NULL"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id", ondelete="SET NULL"), index=True)


class ComplaintKind:
    ALL = ("假冒伪劣", "虚假宣传", "售后问题", "链接失效/跳转异常", "其他")


class ComplaintStatus:
    """Stages of the 12315-style process (see ``services.complaint_process`` for the deadlines).

    待受理 -> 商家协商 (accepted) -> 调解中 -> 办结 (resolved or not), or 待受理 -> 不予受理.
    """

    NEW = "new"
    NEGOTIATING = "negotiating"
    MEDIATING = "mediating"
    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"
    DISMISSED = "dismissed"
    LABELS = {NEW: "待受理", NEGOTIATING: "商家协商", MEDIATING: "调解中", RESOLVED: "办结·已解决",
              UNRESOLVED: "办结·未解决", DISMISSED: "不予受理"}
    OPEN = (NEW, NEGOTIATING, MEDIATING)
    CLOSED = (RESOLVED, UNRESOLVED)  # 办结: the consumer may confirm or object afterwards


class DesiredOutcome:
    """What the consumer asks for (the 12315 form's 诉求)."""

    ALL = ("退货", "退款", "换货", "赔偿", "其他")


class ComplaintFeedback:
    """The consumer's answer after 办结: satisfied, or one objection."""

    SATISFIED = "satisfied"
    OBJECTED = "objected"  # waits for staff review
    REOPENED = "reopened"  # staff found the objection founded: mediation again
    MAINTAINED = "maintained"  # staff reviewed the objection and kept the result
    LABELS = {SATISFIED: "消费者确认满意", OBJECTED: "消费者提出异议，待工作人员复核",
              REOPENED: "异议成立，重新调解", MAINTAINED: "异议已复核，维持办结结果"}


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
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, onupdate=utc_now)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # what 12315 asks (all optional; phone is validated when given and, like contact, staff-only)
    order_number: Mapped[str] = mapped_column(String(40), default="")
    purchase_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    desired_outcome: Mapped[str] = mapped_column(String(8), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    # the stages: when each began and the last China day of each period (working days)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    mediation_at: Mapped[datetime | None] = mapped_column(DateTime)
    accept_due: Mapped[date | None] = mapped_column(Date)
    negotiation_due: Mapped[date | None] = mapped_column(Date)
    mediation_due: Mapped[date | None] = mapped_column(Date)
    feedback_due: Mapped[date | None] = mapped_column(Date)
    upheld: Mapped[bool | None] = mapped_column(Boolean)  # staff found the complaint true (查实)
    # after 办结: the consumer, proving it with the feedback code only they were shown
    feedback_code_hash: Mapped[str] = mapped_column(String(64), default="")
    feedback: Mapped[str] = mapped_column(String(12), default="")
    feedback_note: Mapped[str] = mapped_column(Text, default="")
    feedback_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # services/versioning.py
    __mapper_args__ = {"version_id_col": version}

    enterprise = relationship("Enterprise")
    shop = relationship("Shop")
    assignee = relationship("User")
    messages: Mapped[list["ComplaintMessage"]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="ComplaintMessage.id"
    )

    @property
    def status_label(self) -> str:
        return ComplaintStatus.LABELS.get(self.status, self.status)

    @property
    def is_open(self) -> bool:
        return self.status in ComplaintStatus.OPEN


class ComplaintMessage(db.Model):
    """A reply on a complaint by staff or by the merchant; ``public`` ones show on the status page."""

    __tablename__ = "complaint_message"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    author_role: Mapped[str] = mapped_column(String(10))  # staff / merchant
    body: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)

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
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # services/versioning.py
    __mapper_args__ = {"version_id_col": version}

    enterprise = relationship("Enterprise")
    industry = relationship("Industry")
