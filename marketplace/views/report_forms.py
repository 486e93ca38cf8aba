"""The monthly report form (统计试点): one sales and one orders field per platform, built for the
enterprise's platforms. A one-time form, so a double click files (or corrects) once."""
from __future__ import annotations

from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length, Optional

from .form_fields import CountField, YuanField
from .once import OneTimeForm


class MonthlyReportForm(OneTimeForm):
    purpose = "monthly_report"
    note = TextAreaField("备注（可选；比上月增长超过 10 倍时必填）", validators=[
        Optional(), Length(max=1000, message="备注不能超过 1000 字。")])
    reason = TextAreaField("更正说明（更正已报送的数字时必填）", validators=[
        Optional(), Length(max=1000, message="更正说明不能超过 1000 字。")])
    revision = HiddenField()


def report_form(platforms, report=None) -> MonthlyReportForm:
    """A form with ``sales_<platform id>`` and ``orders_<platform id>`` for each platform, pre-filled
    from ``report`` when correcting it."""
    fields = {}
    for p in platforms:
        fields[f"sales_{p.id}"] = YuanField(f"{p.name} 网络销售额（元）")
        fields[f"orders_{p.id}"] = CountField(f"{p.name} 订单数")
    form_class = type("BoundMonthlyReportForm", (MonthlyReportForm,), fields)
    data = {}
    if report is not None:
        data = {"note": report.note, "revision": str(report.revision)}
        for line in report.lines:
            data[f"sales_{line.platform_id}"] = line.sales
            data[f"orders_{line.platform_id}"] = line.orders
    form = form_class(data=data)
    form.platform_fields = [(p, form[f"sales_{p.id}"], form[f"orders_{p.id}"]) for p in platforms]
    return form
