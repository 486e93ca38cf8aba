"""Aggregates of the monthly reports (统计试点): filing rates and figures by city, industry and
platform, for staff (every cell) and for the public page (no figure may reveal one enterprise).

Disclosure control on the public page, per table:
- primary: a cell built from fewer than ``MIN_ENTERPRISES`` (3) enterprises is not published;
- secondary: the table's total is published, so the hidden cells' sum could be recovered by
  subtraction; when the hidden cells together cover 1 or 2 enterprises, the smallest published
  cells are hidden too until the hidden group covers at least 3 (or everything is hidden);
- the total itself is published only when it covers at least 3 enterprises.
Figures are shown in 万元 (sales) and orders; each ``Table`` feeds a chart, a data table and a CSV.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from ..models import City, Enterprise, Industry, MonthlyReport, MonthlyReportLine, Platform, enterprise_industry
from .reports import due_date, filing_status, previous_month
from .stats import Table

MIN_ENTERPRISES = 3
DIMENSIONS = {"city": "城市", "industry": "行业", "platform": "平台"}
TREND_MONTHS = 12


@dataclass
class Cell:
    """One group's figures and the enterprises behind them."""

    label: str
    enterprises: set[int] = field(default_factory=set)
    sales: Decimal = Decimal("0")
    orders: int = 0
    position: int = 0

    @property
    def n(self) -> int:
        return len(self.enterprises)

    def add(self, ent_id: int, sales: Decimal, orders: int) -> None:
        self.enterprises.add(ent_id)
        self.sales += sales
        self.orders += orders


def wan(yuan: Decimal) -> float:
    """Yuan as 万元 with two decimals (what the tables and charts show)."""
    return float((yuan / Decimal("10000")).quantize(Decimal("0.01")))


def _lines(period: date):
    """(enterprise id, city id, platform id, sales, orders) of every line filed for ``period``."""
    return db.session.execute(
        select(MonthlyReport.enterprise_id, Enterprise.city_id, MonthlyReportLine.platform_id,
               MonthlyReportLine.sales, MonthlyReportLine.orders)
        .join(MonthlyReportLine.report).join(Enterprise, Enterprise.id == MonthlyReport.enterprise_id)
        .where(MonthlyReport.period == period)).all()


def _labels(dimension: str) -> dict[int, tuple[str, int]]:
    model = {"city": City, "industry": Industry, "platform": Platform}[dimension]
    return {row.id: (row.name, row.position) for row in db.session.scalars(select(model))}


def cells(period: date, dimension: str) -> list[Cell]:
    """The period's figures grouped by ``dimension`` (an enterprise counts in each of its industries)."""
    labels = _labels(dimension)
    groups: dict[int, Cell] = {}
    lines = _lines(period)
    industries: dict[int, list[int]] = defaultdict(list)
    if dimension == "industry":
        ent_ids = {line[0] for line in lines}
        for ent_id, ind_id in db.session.execute(select(enterprise_industry.c.enterprise_id,
                                                        enterprise_industry.c.industry_id)
                                                 .where(enterprise_industry.c.enterprise_id.in_(ent_ids))):
            industries[ent_id].append(ind_id)
    for ent_id, city_id, platform_id, sales, orders in lines:
        keys = {"city": [city_id], "platform": [platform_id], "industry": industries[ent_id]}[dimension]
        for key in keys:
            name, position = labels[key]
            groups.setdefault(key, Cell(name, position=position)).add(ent_id, sales, orders)
    return sorted(groups.values(), key=lambda c: (-c.sales, c.position))


def total(period: date) -> Cell:
    cell = Cell("合计")
    for ent_id, _city, _platform, sales, orders in _lines(period):
        cell.add(ent_id, sales, orders)
    return cell


def hidden_cells(group: list[Cell]) -> list[bool]:
    """Which cells the public page must not show (primary and secondary suppression)."""
    hidden = [c.n < MIN_ENTERPRISES for c in group]
    while True:
        covered = set().union(*(c.enterprises for c, h in zip(group, hidden) if h))
        shown = [i for i, h in enumerate(hidden) if not h]
        if not (0 < len(covered) < MIN_ENTERPRISES) or not shown:
            return hidden
        hidden[min(shown, key=lambda i: (group[i].n, group[i].sales))] = True


def _table(name: str, title: str, dimension: str, group: list[Cell], hide: list[bool] | None = None) -> Table:
    rows = []
    for i, c in enumerate(group):
        if hide and hide[i]:
            rows.append([c.label, None, None, None])
        else:
            rows.append([c.label, c.n, wan(c.sales), c.orders])
    return Table(name, title, [DIMENSIONS[dimension], "报送企业", "网络销售额（万元）", "订单数"], rows,
                 chart="hbar" if dimension != "platform" else "bar", series=[2])


def filing_table(period: date, today: date) -> Table:
    """Filing rate for ``period``: who had to file, who did (on time or late), who did not."""
    rows = filing_status(period)
    required = len(rows)
    on_time = sum(1 for _e, r in rows if r is not None and not r.late)
    late = sum(1 for _e, r in rows if r is not None and r.late)
    missing = required - on_time - late
    rate = round(100 * (on_time + late) / required, 1) if required else 0
    return Table("filing", f"{period:%Y 年 %m 月}报送情况（截止 {due_date(period):%m-%d}）", ["指标", "数值"], [
        ["应报送企业", required], ["按时报送", on_time], ["逾期报送", late],
        ["未报送" if today > due_date(period) else "尚未报送", missing], ["报送率(%)", rate]], chart="kpi")


def filing_by_city(period: date) -> Table:
    counts: dict[str, list[int]] = {}
    for ent, report in filing_status(period):
        row = counts.setdefault(ent.city.name, [0, 0])
        row[0] += 1
        row[1] += report is not None
    rows = [[name, req, done, round(100 * done / req, 1)] for name, (req, done) in counts.items()]
    rows.sort(key=lambda r: (r[3], -r[1]))
    return Table("filing_city", "各地市报送率", ["城市", "应报送", "已报送", "报送率(%)"], rows,
                 chart="hbar", series=[3])


def trend(period: date, public: bool = False) -> Table:
    """Monthly totals for the 12 months up to ``period`` (public: months under 3 enterprises hidden)."""
    months = [period]
    while len(months) < TREND_MONTHS:
        months.insert(0, previous_month(months[0]))
    rows = []
    for month in months:
        t = total(month)
        if public and t.n < MIN_ENTERPRISES:
            rows.append([f"{month:%Y-%m}", None, None, None])
        else:
            rows.append([f"{month:%Y-%m}", t.n, wan(t.sales), t.orders])
    return Table("trend", "近 12 个月合计", ["月份", "报送企业", "网络销售额（万元）", "订单数"], rows,
                 chart="line", series=[2])


def staff_tables(period: date, today: date) -> list[Table]:
    """Everything on the staff page for ``period``: filing, aggregates by city/industry/platform, trend."""
    tables = [filing_table(period, today), filing_by_city(period)]
    for dim, label in DIMENSIONS.items():
        tables.append(_table(f"by_{dim}", f"按{label}汇总", dim, cells(period, dim)))
    tables.append(trend(period))
    return tables


STAFF_TABLE_NAMES = ("filing", "filing_city", "by_city", "by_industry", "by_platform", "trend")


def public_tables(period: date) -> tuple[list, list[Table]]:
    """The public page: the total (if it covers 3+ enterprises) and the suppressed tables."""
    t = total(period)
    headline = [["报送企业", t.n], ["网络销售额（万元）", wan(t.sales)], ["订单数", t.orders]] \
        if t.n >= MIN_ENTERPRISES else []
    tables = []
    for dim, label in DIMENSIONS.items():
        group = cells(period, dim)
        tables.append(_table(f"by_{dim}", f"按{label}", dim, group, hidden_cells(group)))
    tables.append(trend(period, public=True))
    return headline, tables
