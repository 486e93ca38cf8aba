"""Annual confirmation (年度确认): once a year, on each anniversary of its certificate, the
owner of a certified enterprise confirms (or updates) its data and evidence; staff check it.

One row per certificate and anniversary, created when the owner is asked (30 days before the
anniversary). Not confirmed by ``due_on`` (30 days after the anniversary): the enterprise is
suspended and the row is ``overdue``; the owner's confirmation plus a staff check reinstate it
(``services.annual_confirmation``).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utc_now
from ..extensions import db


class ConfirmationStatus:
    OPEN = "open"  # asked; waiting for the owner
    SUBMITTED = "submitted"  # the owner confirmed; waiting for a staff check
    CONFIRMED = "confirmed"  # staff checked it
    OVERDUE = "overdue"  # not confirmed in time: the enterprise was suspended
    WAITING = (OPEN, OVERDUE)  # the owner has to act
    LABELS = {OPEN: "待确认", SUBMITTED: "待工作人员核实", CONFIRMED: "已确认", OVERDUE: "已逾期"}


class AnnualConfirmation(db.Model):
    __tablename__ = "annual_confirmation"
    __table_args__ = (UniqueConstraint("certification_id", "anniversary"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification.id", ondelete="CASCADE"))
    anniversary: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12), default=ConfirmationStatus.OPEN, index=True)
    asked_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    owner_note: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    staff_note: Mapped[str] = mapped_column(Text, default="")
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime)  # the lapse suspended the enterprise
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # services/versioning.py
    __mapper_args__ = {"version_id_col": version}

    enterprise = relationship("Enterprise")
    certification = relationship("Certification")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    checked_by = relationship("User", foreign_keys=[checked_by_id])

    @property
    def status_label(self) -> str:
        return ConfirmationStatus.LABELS.get(self.status, self.status)
