"""Campaign statistics for the staff console: each chart is a small table.

Every function returns a ``Table`` (title, column names, rows) so the same data feeds the chart
(via a JSON block) and its CSV download. Week and day buckets are computed in Python from naive
UTC timestamps converted to China time, so the SQL stays portable (SQLite and PostgreSQL).
"""
from __future__ import annotations

import statistics
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    Application, AppStatus, City, ClickEvent, Complaint, ComplaintKind, ComplaintStatus, Enterprise,
    Industry, Platform, Shop, enterprise_industry, enterprise_is_public, shop_is_public,
)
from ..clock import to_china, utc_now
from ..services.reference_data import REGIONS


@dataclass
class Table:
    """One chart's data: ``rows`` are lists matching ``columns``; ``chart`` names how to draw it."""

    name: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    chart: str = "bar"
    note: str = ""
    series: list[int] = field(default_factory=list)  # columns the chart draws (default: every numeric one)

    def as_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "columns": self.columns, "rows": self.rows,
                "chart": self.chart, "note": self.note, "series": self.series}


def _certified_shops():
    return (select(Shop).join(Shop.enterprise)
            .where(shop_is_public()))


def progress() -> Table:
    """Certified enterprises against the campaign goal (ENTERPRISE_GOAL)."""
    goal = current_app.config["ENTERPRISE_GOAL"]
    certified = db.session.scalar(select(func.count()).select_from(Enterprise)
                                  .where(enterprise_is_public())) or 0
    shops = db.session.scalar(select(func.count()).select_from(_certified_shops().subquery())) or 0
    pct = round(100 * certified / goal, 1) if goal else 0
    return Table("progress", "万家名优企业目标进度", ["指标", "数值"],
                 [["已认证企业", certified], ["目标", goal], ["完成率(%)", pct], ["已认证店铺", shops]],
                 chart="gauge")


def by_city() -> Table:
    """Certified enterprises and shops per city, ranked by enterprises (all 21 cities)."""
    ents = dict(db.session.execute(select(Enterprise.city_id, func.count()).where(
        enterprise_is_public()).group_by(Enterprise.city_id)).all())
    shops = dict(db.session.execute(select(Enterprise.city_id, func.count()).select_from(Shop).join(Shop.enterprise)
                                    .where(shop_is_public())
                                    .group_by(Enterprise.city_id)).all())
    cities = db.session.scalars(select(City).order_by(City.position)).all()
    rows = [[c.name, c.region, ents.get(c.id, 0), shops.get(c.id, 0)] for c in cities]
    rows.sort(key=lambda r: (-r[2], -r[3]))
    return Table("by_city", "各地市认证企业与店铺（排名）", ["城市", "区域", "认证企业", "认证店铺"], rows,
                 chart="hbar")


def by_region(city_table: Table | None = None) -> Table:
    """Certified enterprises and shops per region group (珠三角 / 粤东 / 粤西 / 粤北)."""
    city_table = city_table or by_city()
    totals = OrderedDict((r, [0, 0]) for r in REGIONS)
    for _name, region, ents, shops in city_table.rows:
        totals.setdefault(region, [0, 0])
        totals[region][0] += ents
        totals[region][1] += shops
    return Table("by_region", "珠三角与粤东西北", ["区域", "认证企业", "认证店铺"],
                 [[r, v[0], v[1]] for r, v in totals.items()], chart="pie")


def by_industry() -> Table:
    """Certified enterprises per industry (an enterprise counts in each of its industries)."""
    counts = dict(db.session.execute(
        select(enterprise_industry.c.industry_id, func.count()).select_from(enterprise_industry)
        .join(Enterprise, Enterprise.id == enterprise_industry.c.enterprise_id)
        .where(enterprise_is_public()).group_by(enterprise_industry.c.industry_id)).all())
    rows = [[i.name, counts.get(i.id, 0)] for i in db.session.scalars(select(Industry).order_by(Industry.position))]
    rows.sort(key=lambda r: -r[1])
    return Table("by_industry", "各行业认证企业", ["行业", "认证企业"], rows, chart="hbar")


def by_platform() -> Table:
    """Certified shops (of certified enterprises) per platform."""
    counts = dict(db.session.execute(select(Shop.platform_id, func.count()).join(Shop.enterprise).where(
        shop_is_public()).group_by(Shop.platform_id)).all())
    rows = [[p.name, counts.get(p.id, 0)] for p in db.session.scalars(select(Platform).order_by(Platform.position))]
    rows.sort(key=lambda r: -r[1])
    return Table("by_platform", "各电商平台认证店铺", ["平台", "认证店铺"], rows, chart="bar")


def _week_start(dt: datetime) -> date:
    d = to_china(dt).date()
    return d - timedelta(days=d.weekday())


def weekly(weeks: int = 12, now: datetime | None = None) -> Table:
    """Applications submitted, approved and rejected per week (China weeks, Monday first),
    with that week's median review time in hours."""
    now = now or utc_now()
    first = _week_start(now) - timedelta(weeks=weeks - 1)
    since = datetime.combine(first, datetime.min.time()) - timedelta(hours=8)
    buckets = OrderedDict((first + timedelta(weeks=i), [0, 0, 0, []]) for i in range(weeks))
    for (submitted,) in db.session.execute(select(Application.submitted_at).where(Application.submitted_at >= since)):
        b = buckets.get(_week_start(submitted))
        if b:
            b[0] += 1
    for submitted, decided, status in db.session.execute(
            select(Application.submitted_at, Application.decided_at, Application.status).where(
                Application.decided_at >= since, Application.status.in_((AppStatus.APPROVED, AppStatus.REJECTED)))):
        b = buckets.get(_week_start(decided))
        if b:
            b[1 if status == AppStatus.APPROVED else 2] += 1
            b[3].append((decided - submitted).total_seconds() / 3600)
    rows = [[f"{d:%m-%d}", s, a, r, round(statistics.median(t), 1) if t else None]
            for d, (s, a, r, t) in buckets.items()]
    return Table("weekly", "每周申请与审核", ["周（起始日）", "提交", "通过", "驳回", "审核时长中位数(小时)"], rows,
                 chart="weekly")


def review_time_summary() -> Table:
    """Median review time overall and over the last 30 days, plus the current queue length."""
    from .review import pending_count, review_seconds_median

    overall = review_seconds_median()
    recent = review_seconds_median(utc_now() - timedelta(days=30))
    hours = lambda s: round(s / 3600, 1) if s is not None else None  # noqa: E731
    oldest = db.session.scalar(select(func.min(Application.submitted_at)).where(Application.status == AppStatus.PENDING))
    wait = round((utc_now() - oldest).total_seconds() / 3600, 1) if oldest else 0
    return Table("review_time", "审核时效", ["指标", "数值"], [
        ["审核时长中位数（全部，小时）", hours(overall)], ["审核时长中位数（近30天，小时）", hours(recent)],
        ["待审核申请", pending_count()], ["最早待审申请已等待（小时）", wait]], chart="kpi")


def clicks(days: int = 30, now: datetime | None = None) -> Table:
    """Click-throughs to shops per day over the last ``days`` days (China dates)."""
    now = now or utc_now()
    today = to_china(now).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time()) - timedelta(hours=8)
    counter = Counter(to_china(at).date() for (at,) in db.session.execute(
        select(ClickEvent.at).where(ClickEvent.at >= since)))
    rows = [[f"{first + timedelta(days=i):%m-%d}", counter.get(first + timedelta(days=i), 0)] for i in range(days)]
    return Table("clicks", f"近{days}天店铺点击", ["日期", "点击"], rows, chart="line")


def top_shops(limit: int = 10) -> Table:
    """The most clicked certified shops (all-time counter)."""
    rows = db.session.execute(_certified_shops().with_only_columns(Shop.name, Enterprise.name, Shop.click_count)
                              .order_by(Shop.click_count.desc()).limit(limit)).all()
    return Table("top_shops", "点击最多的店铺", ["店铺", "企业", "累计点击"], [list(r) for r in rows], chart="table")


def complaints_by_kind() -> Table:
    """Complaints by type and outcome (open, resolved, dismissed)."""
    grid = {k: {s: 0 for s in ComplaintStatus.LABELS} for k in ComplaintKind.ALL}
    for kind, status, n in db.session.execute(select(Complaint.kind, Complaint.status, func.count())
                                              .group_by(Complaint.kind, Complaint.status)):
        grid.setdefault(kind, {s: 0 for s in ComplaintStatus.LABELS})[status] = n
    cols = ["类型"] + [ComplaintStatus.LABELS[s] for s in ComplaintStatus.LABELS]
    rows = [[k] + [grid[k][s] for s in ComplaintStatus.LABELS] for k in grid]
    return Table("complaints", "投诉类型与处理结果", cols, rows, chart="stack")


def all_tables() -> list[Table]:
    """Every chart on the statistics page, in display order."""
    city = by_city()
    return [progress(), review_time_summary(), city, by_region(city), by_industry(), by_platform(), weekly(),
            clicks(), top_shops(), complaints_by_kind()]


TABLES = {
    "progress": progress, "review_time": review_time_summary, "by_city": by_city, "by_region": by_region,
    "by_industry": by_industry, "by_platform": by_platform, "weekly": weekly, "clicks": clicks,
    "top_shops": top_shops, "complaints": complaints_by_kind,
}


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A CSV cell that spreadsheets will not run as a formula (``'`` before = + - @ tab CR)."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def to_csv(table: Table) -> bytes:
    """The table as CSV for Excel: UTF-8 with BOM, CRLF line ends, formula-safe cells."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([safe_cell(v) for v in row])
    return "\ufeff".encode() + buf.getvalue().encode("utf-8")
