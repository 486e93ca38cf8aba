"""Staff console: statistics page (ECharts, CSP-safe) and each chart's data as CSV / JSON."""
from __future__ import annotations

from flask import Response, abort, jsonify, render_template

from ...services import stats
from .blueprint import bp, staff_only


@bp.route("/stats")
@staff_only
def stats_page():
    """Charts of the campaign's progress; data passed in a JSON block, drawn by staff-stats.js."""
    tables = stats.all_tables()
    return render_template("staff/stats.html", tables=tables, data=[t.as_dict() for t in tables],
                           progress=dict((r[0], r[1]) for r in tables[0].rows))


@bp.route("/stats.json")
@staff_only
def stats_json():
    """All charts' data as JSON (same tables as the page)."""
    return jsonify({"charts": [t.as_dict() for t in stats.all_tables()]})


@bp.route("/stats/<name>.csv")
@staff_only
def stats_csv(name: str):
    """One chart's data as CSV (UTF-8 with BOM for Excel, formula-safe cells)."""
    func = stats.TABLES.get(name)
    if func is None:
        abort(404)
    table = func()
    return Response(stats.to_csv(table), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=gdws-stats-{name}.csv",
                             "Cache-Control": "no-store"})
