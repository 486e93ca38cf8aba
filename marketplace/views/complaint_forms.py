"""Flask-WTF forms of the consumer's and the merchant's complaint pages, messages in Chinese
(the staff console's are in ``views/staff/forms.py``).

The report form is a one-time form (``views.once``): a reload or a double click files once.
Dates and amounts are parsed into types by ``form_fields``; what they mean (not in the future,
not negative) is checked by the service.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..models import ComplaintKind, DesiredOutcome
from .form_fields import ChinaDateField, YuanField
from .once import OneTimeForm


class ReportForm(OneTimeForm):
    purpose = "complaint"
    kind = SelectField("投诉类型", choices=[(k, k) for k in ComplaintKind.ALL],
                       validators=[InputRequired("请选择投诉类型。")])
    description = TextAreaField("问题描述", validators=[
        DataRequired("请填写问题描述。"), Length(min=10, max=2000, message="问题描述需要 10 到 2000 个字。")])
    order_number = StringField("订单号（可选）", validators=[Optional(), Length(max=60, message="订单号不能超过 40 位。")])
    purchase_date = ChinaDateField("购买日期（可选）")
    amount = YuanField("涉及金额（元，可选）")
    desired_outcome = SelectField("您的诉求（可选）", choices=[("", "请选择")] + [(o, o) for o in DesiredOutcome.ALL],
                                  validators=[Optional()])
    phone = StringField("联系电话（可选，仅工作人员可见）",
                        validators=[Optional(), Length(max=30, message="联系电话不能超过 20 位。")])
    evidence = FileField("证据图片（可选，PNG/JPEG/WebP，不超过 5 MB）")
    contact = StringField("其他联系方式（可选，仅工作人员可见）",
                          validators=[Optional(), Length(max=120, message="联系方式不能超过 120 个字符。")])


class ResponseForm(FlaskForm):
    body = TextAreaField("回复内容", validators=[DataRequired("请填写回复内容。"),
                                             Length(max=2000, message="回复不能超过 2000 个字。")])


class SettleForm(FlaskForm):
    outcome = TextAreaField("和解结果（公开，消费者可确认或提出异议）", validators=[
        DataRequired("请填写与消费者达成的和解结果。"), Length(max=2000, message="不能超过 2000 个字。")])


class DeclineForm(FlaskForm):
    reason = TextAreaField("协商未成的原因（公开）", validators=[
        DataRequired("请说明协商未能达成一致的原因。"), Length(max=2000, message="不能超过 2000 个字。")])


class FeedbackForm(FlaskForm):
    code = StringField("反馈码（提交投诉时页面上显示的 8 位码）", validators=[
        DataRequired("请填写反馈码。"), Length(max=20, message="反馈码是 8 位字母和数字。")])
    answer = RadioField("您对处理结果", choices=[("satisfied", "满意，确认办结"), ("objection", "不满意，提出异议")],
                        validators=[InputRequired("请选择“满意”或“提出异议”。")])
    note = TextAreaField("异议理由（提出异议时必填）", validators=[
        Optional(), Length(max=2000, message="不能超过 2000 个字。")])


class ReferralForm(FlaskForm):
    code = StringField("反馈码", validators=[DataRequired("请填写反馈码。"),
                                          Length(max=20, message="反馈码是 8 位字母和数字。")])
