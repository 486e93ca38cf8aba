"""The statistics pilot (统计试点): certified enterprises report their online sales and orders per
platform each month, due by the 10th of the following month (China dates).

Rules: no negative figures; a figure more than 10 times the previous month's needs a note
explaining it; a filed report may be corrected (with a reason) — every filing and correction is in
the audit log with the figures before and after. Reminders and late notices are mailed by
``flask report-reminders`` (safe to repeat). Aggregates and the public page are in ``report_stats``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import click
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..models import Enterprise, MonthlyReport, MonthlyReportLine, Platform, Status, User, enterprise_is_public
from ..validation import ValidationError
from ..validation.text import clean_text
from . import EditConflict, Forbidden, NotFound, ServiceError
from .audit import record
from .listings.common import FieldErrors
from .reminders import Digest, first_time
from .review import site_link

DUE_DAY = 10
OPEN_MONTHS = 12  # how far back a month can be filed or corrected
JUMP_FACTOR = 10
MAX_SALES = Decimal("1000000000000")  # 1 万亿元
MAX_ORDERS = 2_000_000_000


class ReportChanged(EditConflict):
    """Someone corrected the report since the form was opened (its ``revision`` is the report's
    version, ``services.versioning``); nothing was changed."""

    def __init__(self, message: str = "该报表已被更新（可能在另一个窗口中），请刷新后核对再提交更正。"):
        super().__init__(message)


# ------------------------------------------------------------------ periods


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(period: date) -> date:
    return date(period.year + period.month // 12, period.month % 12 + 1, 1)


def previous_month(period: date) -> date:
    return date(period.year - (period.month == 1), (period.month - 2) % 12 + 1, 1)


def due_date(period: date) -> date:
    """The last day to file ``period``: the 10th of the following month."""
    return next_month(period).replace(day=DUE_DAY)


def open_periods(today: date | None = None) -> list[date]:
    """The months that may be filed or corrected today, newest first (the current month is not over)."""
    period = previous_month(month_start(today or clock.china_today()))
    periods = []
    for _ in range(OPEN_MONTHS):
        periods.append(period)
        period = previous_month(period)
    return periods


def last_closed_period(today: date | None = None) -> date:
    """The newest month whose due date has passed (the month the public figures describe)."""
    today = today or clock.china_today()
    period = previous_month(month_start(today))
    return period if today > due_date(period) else previous_month(period)


def parse_period(raw: str | None) -> date | None:
    """``2026-09`` as the first day of that month, or None."""
    raw = (raw or "").strip()
    if len(raw) != 7 or raw[4] != "-" or not (raw[:4] + raw[5:]).isdigit():
        return None
    year, month = int(raw[:4]), int(raw[5:])
    return date(year, month, 1) if 2000 <= year <= 2100 and 1 <= month <= 12 else None


# ------------------------------------------------------------------ who reports


def reporting_enterprises(user: User) -> list[Enterprise]:
    """The certified enterprises ``user`` owns: the ones that file monthly reports."""
    return list(db.session.scalars(select(Enterprise).where(
        Enterprise.owner_id == user.id, enterprise_is_public()).order_by(Enterprise.id)))


def owned_reporting_enterprise(user: User, enterprise_id: int) -> Enterprise:
    ent = db.session.get(Enterprise, enterprise_id)
    if ent is None or ent.owner_id != user.id:
        raise NotFound("企业不存在。")
    if not ent.is_public:
        raise Forbidden("只有已认证企业需要报送月度报表。")
    return ent


def platforms_for(ent: Enterprise, report: MonthlyReport | None = None) -> list[Platform]:
    """The platforms the enterprise reports on: those of its shops, plus any already in the report."""
    ids = {s.platform_id for s in ent.shops if s.status != Status.DRAFT}
    if report is not None:
        ids |= {line.platform_id for line in report.lines}
    return list(db.session.scalars(select(Platform).where(Platform.id.in_(ids)).order_by(Platform.position)))


def get_report(enterprise_id: int, period: date) -> MonthlyReport | None:
    return db.session.scalar(select(MonthlyReport).where(
        MonthlyReport.enterprise_id == enterprise_id, MonthlyReport.period == period)
        .options(selectinload(MonthlyReport.lines)))


def reports_of(ent: Enterprise) -> dict[date, MonthlyReport]:
    """Period -> report, for the merchant's overview."""
    rows = db.session.scalars(select(MonthlyReport).where(MonthlyReport.enterprise_id == ent.id)
                              .options(selectinload(MonthlyReport.lines)))
    return {r.period: r for r in rows}


# ------------------------------------------------------------------ filing


@dataclass
class Figures:
    """One platform's figures as typed (already parsed by the form; None when left empty)."""

    platform_id: int
    sales: Decimal | None
    orders: int | None


def _check_figures(figures: list[Figures], allowed: set[int]) -> dict[int, tuple[Decimal, int]]:
    errors: dict[str, str] = {}
    values: dict[int, tuple[Decimal, int]] = {}
    for f in figures:
        if f.platform_id not in allowed:
            raise ServiceError("报表中有不属于本企业网店的平台，请刷新页面后重新填写。")
        sales, orders = f.sales if f.sales is not None else Decimal("0"), f.orders or 0
        if sales < 0 or orders < 0:
            errors[f"sales_{f.platform_id}" if sales < 0 else f"orders_{f.platform_id}"] = "不能填写负数。"
        elif sales > MAX_SALES or orders > MAX_ORDERS:
            errors[f"sales_{f.platform_id}"] = "数字过大，请核对（销售额以元为单位）。"
        values[f.platform_id] = (sales.quantize(Decimal("0.01")), orders)
    if errors:
        raise FieldErrors(errors)
    return values


def jumps(ent: Enterprise, period: date, values: dict[int, tuple[Decimal, int]]) -> list[str]:
    """Figures more than 10 times the previous month's (in words), which need a note."""
    prev = get_report(ent.id, previous_month(period))
    if prev is None:
        return []
    before = {line.platform_id: (line.sales, line.orders) for line in prev.lines}
    names = {p.id: p.name for p in db.session.scalars(select(Platform).where(Platform.id.in_(values)))}
    found = []
    for pid, (sales, orders) in values.items():
        old_sales, old_orders = before.get(pid, (Decimal("0"), 0))
        if old_sales > 0 and sales > JUMP_FACTOR * old_sales:
            found.append(f"{names[pid]}销售额（上月 {old_sales} 元，本月 {sales} 元）")
        if old_orders > 0 and orders > JUMP_FACTOR * old_orders:
            found.append(f"{names[pid]}订单数（上月 {old_orders}，本月 {orders}）")
    return found


def _snapshot(report: MonthlyReport) -> dict:
    """The figures in words for the audit log (platform names, yuan and orders)."""
    out = {f"{line.platform.name}销售额（元）": str(line.sales) for line in report.lines}
    out.update({f"{line.platform.name}订单数": line.orders for line in report.lines})
    out["备注"] = report.note
    return out


def _note(note: str, field: str = "备注", required: bool = False) -> str:
    try:
        return clean_text(note, field=field, max_length=1000, required=required, multiline=True)
    except ValidationError as err:
        raise FieldErrors({"note" if field == "备注" else "reason": str(err)}) from None


def file_report(ent: Enterprise, user: User, period: date, figures: list[Figures], note: str = "",
                *, reason: str = "", revision: int | None = None) -> MonthlyReport:
    """File (or correct) the enterprise's report for ``period``; returns it (flushed).

    A correction (the report exists) needs ``reason`` and the ``revision`` the form was opened at.
    """
    if ent.owner_id != user.id or not ent.is_public:
        raise Forbidden("无权为该企业报送报表。")
    if period not in open_periods():
        raise ServiceError("只能报送或更正最近 12 个已结束月份的报表。")
    report = get_report(ent.id, period)
    values = _check_figures(figures, {p.id for p in platforms_for(ent, report)})
    note = _note(note)
    found = jumps(ent, period, values)
    if found and not note:
        raise FieldErrors({"note": "以下数字超过上月的 10 倍，请在备注中说明原因：" + "；".join(found) + "。"})
    if report is None:
        return _first_filing(ent, user, period, values, note)
    reason = _note(reason, "更正说明", required=True)
    return _correct(report, user, values, note, reason, revision)


def _first_filing(ent, user, period, values, note) -> MonthlyReport:
    now = clock.utc_now()
    report = MonthlyReport(enterprise_id=ent.id, period=period, note=note, submitted_by_id=user.id,
                           submitted_at=now, updated_at=now, late=clock.china_today() > due_date(period),
                           lines=[MonthlyReportLine(platform_id=pid, sales=s, orders=o) for pid, (s, o) in values.items()])
    db.session.add(report)
    db.session.flush()
    record("report.file", actor=user, entity_kind="monthly_report", entity_id=report.id, enterprise_id=ent.id,
           after={"月份": f"{period:%Y-%m}", **_snapshot(report)}, note="逾期报送" if report.late else "")
    return report


def _correct(report, user, values, note, reason, revision) -> MonthlyReport:
    result = db.session.execute(update(MonthlyReport).where(
        MonthlyReport.id == report.id, MonthlyReport.revision == (revision or report.revision))
        .values(revision=MonthlyReport.revision + 1, updated_at=clock.utc_now(), note=note)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise ReportChanged()
    before = _snapshot(report)
    db.session.refresh(report)
    by_platform = {line.platform_id: line for line in report.lines}
    for pid, (sales, orders) in values.items():
        line = by_platform.get(pid) or MonthlyReportLine(report=report, platform_id=pid, sales=sales, orders=orders)
        line.sales, line.orders = sales, orders
    db.session.flush()
    db.session.refresh(report)
    record("report.correct", actor=user, entity_kind="monthly_report", entity_id=report.id,
           enterprise_id=report.enterprise_id, before=before, after=_snapshot(report),
           note=f"{report.period:%Y-%m} 第 {report.revision} 版：{reason}")
    return report


# ------------------------------------------------------------------ who is late


def required_enterprises(period: date) -> list[Enterprise]:
    """Enterprises that had to file ``period``: certified, run by a merchant, certified before it ended."""
    end = clock.china_day_start_utc(next_month(period))
    return list(db.session.scalars(select(Enterprise).where(
        enterprise_is_public(), Enterprise.owner_id.is_not(None),
        (Enterprise.certified_at.is_(None)) | (Enterprise.certified_at < end)).order_by(Enterprise.id)))


def filing_status(period: date) -> list[tuple[Enterprise, MonthlyReport | None]]:
    """Every enterprise that had to file ``period`` with its report (or None)."""
    reports = {r.enterprise_id: r for r in db.session.scalars(
        select(MonthlyReport).where(MonthlyReport.period == period))}
    return [(ent, reports.get(ent.id)) for ent in required_enterprises(period)]


def late_filers(period: date, today: date | None = None) -> list[tuple[Enterprise, MonthlyReport | None]]:
    """After the due date: enterprises with no report (None) or that filed late, missing ones first."""
    today = today or clock.china_today()
    if today <= due_date(period):
        return []
    rows = [(e, r) for e, r in filing_status(period) if r is None or r.late]
    return sorted(rows, key=lambda er: (er[1] is not None, er[0].id))


def reminders(today: date | None = None) -> dict:
    """Mails for last month's report: a reminder from the 1st, a last call from 2 days before the
    10th, a late notice after it; each once per enterprise and month (the reminder ledger)."""
    today = today or clock.china_today()
    period = previous_month(month_start(today))
    due = due_date(period)
    days_left = (due - today).days
    kind = "late" if days_left < 0 else ("last" if days_left <= 2 else "due")
    digest = Digest()
    for ent, report in filing_status(period):
        if report is not None or ent.owner is None or not first_time(f"report:{ent.id}:{period:%Y-%m}:{kind}"):
            continue
        digest.add(ent.owner.email, f"{ent.name}：{period:%Y 年 %m 月}报表{'已逾期，请尽快补报' if kind == 'late' else '尚未报送'}")
    subject = {"due": f"请在 {due:%m 月 %d 日}前报送{period:%m 月}电商月度报表",
               "last": f"{period:%m 月}电商月度报表将于 {due:%m 月 %d 日}截止",
               "late": f"{period:%m 月}电商月度报表已逾期"}[kind]
    mails = digest.queue(subject, f"广货网上行统计试点：每月 10 日前报送上月各平台网络销售额和订单数（{site_link('/merchant/reports')}）。",
                         "广货网上行 工作人员")
    db.session.flush()
    return {"period": f"{period:%Y-%m}", "kind": kind, "mailed": sum(len(v) for v in digest.lines.values()),
            "mails": mails}


def register_cli(app: Flask) -> None:
    """``flask --app app report-reminders``: run daily; safe to repeat."""

    @app.cli.command("report-reminders")
    def report_reminders_command():
        """Remind merchants of last month's report (from the 1st, 2 days before the 10th, after it)."""
        counts = reminders()
        db.session.commit()  # the queued mails go out after this commit (services.mail)
        click.echo(f"{counts['period']} 月报表提醒（{counts['kind']}）：{counts['mailed']} 家企业，{counts['mails']} 封邮件。")

