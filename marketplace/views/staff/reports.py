"""Staff console: the statistics pilot — filing rates, late filers, aggregates by city, industry
and platform with charts (ECharts, CSP-safe) and CSV downloads."""
from __future__ import annotations

from flask import Response, abort, render_template, request

from ... import clock
from ...services import report_stats, reports, stats
from .blueprint import bp, staff_only


def _period():
    """The month asked for (``?period=2026-09``), default the latest month already due."""
    today = clock.china_today()
    latest = reports.previous_month(reports.month_start(today))
    period = reports.parse_period(request.args.get("period")) or latest
    if period > latest:
        abort(404)
    return period, today


@bp.route("/reports")
@staff_only
def reports_page():
    """Filing rates, the late-filer list and the month's aggregates."""
    period, today = _period()
    tables = report_stats.staff_tables(period, today)
    months = [reports.previous_month(reports.month_start(today))]
    while len(months) < 12:
        months.append(reports.previous_month(months[-1]))
    return render_template("staff/reports.html", period=period, tables=tables, data=[t.as_dict() for t in tables],
                           kpis=dict((r[0], r[1]) for r in tables[0].rows), months=months,
                           late=reports.late_filers(period, today), due=reports.due_date(period),
                           before_due=today <= reports.due_date(period))


@bp.route("/reports/<name>.csv")
@staff_only
def reports_csv(name: str):
    """One table of the month as CSV (UTF-8 with BOM, formula-safe; file name in China time)."""
    if name not in report_stats.STAFF_TABLE_NAMES:
        abort(404)
    period, today = _period()
    table = next(t for t in report_stats.staff_tables(period, today) if t.name == name)
    stamp = clock.china_now().strftime("%Y%m%d-%H%M")
    return Response(stats.to_csv(table), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=gdws-reports-{period:%Y-%m}-{name}-{stamp}.csv",
        "Cache-Control": "no-store"})
