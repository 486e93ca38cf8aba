"""The statistics pilot (统计试点): each certified enterprise's monthly online sales and orders."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, Numeric, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..clock import utc_now


class MonthlyReport(db.Model):
    """One enterprise's report for one month (``period`` is the first day of that month).

    Due by the 10th of the following month (China date). A correction rewrites the lines, adds
    one to ``revision`` and writes an audit entry with the figures before and after.
    """

    __tablename__ = "monthly_report"
    __table_args__ = (UniqueConstraint("enterprise_id", "period"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    period: Mapped[date] = mapped_column(Date, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # first filed after the due date

    enterprise = relationship("Enterprise")
    lines: Mapped[list["MonthlyReportLine"]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="MonthlyReportLine.platform_id")

    @property
    def total_sales(self) -> Decimal:
        return sum((line.sales for line in self.lines), Decimal("0"))

    @property
    def total_orders(self) -> int:
        return sum(line.orders for line in self.lines)


class MonthlyReportLine(db.Model):
    """Sales (yuan) and orders on one platform in the reported month."""

    __tablename__ = "monthly_report_line"
    __table_args__ = (UniqueConstraint("report_id", "platform_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("monthly_report.id", ondelete="CASCADE"), index=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"), index=True)
    sales: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    orders: Mapped[int] = mapped_column(Integer)

    report: Mapped[MonthlyReport] = relationship(back_populates="lines")
    platform = relationship("Platform", lazy="joined")


class ReportStatus:
    """How an enterprise stands for one period (for staff lists)."""

    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"
    LABELS = {ON_TIME: "按时报送", LATE: "逾期报送", MISSING: "未报送"}

