"""公示 (public notice): an approved first certification waits on ``/gongshi`` for N working days,
and anyone may object (异议) meanwhile (``services.gongshi``).

A notice keeps a snapshot of what the public is asked about (name, 统一社会信用代码, shops) as it
was approved, so an ended or withdrawn entry still says what was on notice. An objection's
evidence image is private like a business licence: its bytes live on the objection row, never in
the ``image`` table, so ``/media`` cannot serve it; only staff read it through their own route.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..clock import china_today, utc_now
from ..extensions import db


class NoticeStatus:
    OPEN = "open"  # on 公示 (or its period ended and it waits for the periodic command / an objection)
    EFFECTIVE = "effective"  # the certification took effect
    WITHDRAWN = "withdrawn"  # an objection was upheld: the application went back to review
    LABELS = {OPEN: "公示中", EFFECTIVE: "已生效", WITHDRAWN: "异议成立，重新审核"}


class ObjectionStatus:
    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"
    LABELS = {OPEN: "待处理", UPHELD: "异议成立", DISMISSED: "异议不成立"}


class PublicNotice(db.Model):
    """One 公示 entry: an approved application (an enterprise's first certification, or a new
    shop's) that takes effect on ``ends_on`` unless an objection is open or upheld."""

    __tablename__ = "public_notice"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    uscc: Mapped[str] = mapped_column(String(18))
    shops: Mapped[list] = mapped_column(JSON, default=list)  # [{name, platform, shop_type, url}]
    starts_on: Mapped[date] = mapped_column(Date, index=True)
    ends_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12), default=NoticeStatus.OPEN, index=True)
    # Objections not decided yet, kept on this row so that filing one and taking effect contend
    # for the same row lock and the take-effect UPDATE re-checks it (services.gongshi).
    open_objections: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    application = relationship("Application")
    enterprise = relationship("Enterprise")
    shop = relationship("Shop")
    objections: Mapped[list["NoticeObjection"]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", order_by="NoticeObjection.id")

    @property
    def status_label(self) -> str:
        if self.status == NoticeStatus.OPEN and self.ends_on < china_today():
            return "公示期满，待生效"
        return NoticeStatus.LABELS.get(self.status, self.status)

    @property
    def accepts_objections(self) -> bool:
        return self.status == NoticeStatus.OPEN


class NoticeObjection(db.Model):
    """An objection (异议) filed on a 公示 entry; the reference number is the filer's receipt."""

    __tablename__ = "notice_objection"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("public_notice.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[str] = mapped_column(String(60))
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    evidence_mime: Mapped[str | None] = mapped_column(String(40))
    evidence_data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    status: Mapped[str] = mapped_column(String(12), default=ObjectionStatus.OPEN, index=True)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    notice: Mapped[PublicNotice] = relationship(back_populates="objections")
    decided_by = relationship("User")

    @property
    def status_label(self) -> str:
        return ObjectionStatus.LABELS.get(self.status, self.status)

    @property
    def has_evidence(self) -> bool:
        return self.evidence_mime is not None
