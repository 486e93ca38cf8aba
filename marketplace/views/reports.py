"""The statistics pilot (统计试点): merchants file monthly reports at ``/merchant/reports``; anyone
reads the aggregates at ``/statistics`` (no figure built from fewer than 3 enterprises).

Views parse the form and call ``services.reports`` / ``services.report_stats``; rules live there.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import clock
from ..models import Role
from ..services import report_stats, reports
from ..services.reports import Figures
from ..unit_of_work import catch_refusal
from .helpers import role_required, show_errors
from .once import earlier_result, record_result, spend_token
from .report_forms import report_form

bp = Blueprint("reports", __name__)


@bp.route("/merchant/reports")
@login_required
@role_required(Role.MERCHANT)
def merchant_list():
    """Each certified enterprise's months: filed (on time or late), due, or missing."""
    today = clock.china_today()
    rows = [(ent, reports.reports_of(ent)) for ent in reports.reporting_enterprises(current_user)]
    return render_template("reports/merchant_list.html", rows=rows, periods=reports.open_periods(today),
                           due_date=reports.due_date, today=today)


def _period_or_404(raw: str):
    period = reports.parse_period(raw)
    if period is None or period not in reports.open_periods():
        abort(404)
    return period


def _figures(form) -> list[Figures]:
    return [Figures(p.id, sales.data, orders.data) for p, sales, orders in form.platform_fields]


@bp.route("/merchant/reports/<int:enterprise_id>/<period>", methods=["GET", "POST"])
@login_required
@role_required(Role.MERCHANT)
def merchant_report(enterprise_id: int, period: str):
    """File (or correct) one month's report: sales and orders per platform, and a note."""
    month = _period_or_404(period)
    ent = reports.owned_reporting_enterprise(current_user, enterprise_id)
    report = reports.get_report(ent.id, month)
    form = report_form(reports.platforms_for(ent, report), report)
    back = redirect(url_for("reports.merchant_list"), code=303)
    if earlier_result(form):
        flash("该报表已提交。", "success")
        return back
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            if spend_token(form) is not None:  # a simultaneous submission of this form filed it
                flash("该报表已提交。", "success")
                return back
            saved = reports.file_report(ent, current_user, month, _figures(form), form.note.data or "",
                                        reason=form.reason.data or "",
                                        revision=int(form.revision.data) if (form.revision.data or "").isdigit() else None)
            record_result(form, f"{saved.id}:{saved.revision}")
            flash(f"{month:%Y 年 %m 月}报表已{'更正' if report else '报送'}。", "success")
            return back
        show_errors(form, refusal.error)
        report = reports.get_report(ent.id, month)  # as it is now (another window may have filed it)
    return render_template("reports/form.html", form=form, ent=ent, period=month, report=report,
                           due=reports.due_date(month))


@bp.route("/statistics")
def statistics():
    """Public aggregates of the monthly reports (every figure covers at least 3 enterprises)."""
    latest = reports.last_closed_period()
    chosen = reports.parse_period(request.args.get("period")) or latest
    if chosen > latest:
        abort(404)
    headline, tables = report_stats.public_tables(chosen)
    months = [latest]
    while len(months) < 12:
        months.append(reports.previous_month(months[-1]))
    return render_template("reports/statistics.html", period=chosen, headline=headline, tables=tables,
                           months=months, minimum=report_stats.MIN_ENTERPRISES)

