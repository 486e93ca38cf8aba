"""Flask-WTF forms of the staff console (CSRF on every one; messages in Chinese)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField, DateTimeLocalField, EmailField, HiddenField, IntegerField, PasswordField, RadioField,
    SelectField, StringField, TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ...models import ComplaintStatus, Placement, Role
from ..form_fields import DT_FORMAT, ChinaDateTimeField, CheckboxListField, coerce_int

REQUIRED = "此项为必填。"


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for one-click actions (move, end, enable)."""


class ApproveForm(FlaskForm):
    """Approve: the CSRF token and the application's version the page showed (a change made
    after the page was rendered is refused, so staff never approve what they did not see)."""

    version = HiddenField()


class RejectForm(FlaskForm):
    reason = TextAreaField("驳回理由（商家可见）", validators=[DataRequired(REQUIRED), Length(max=1000, message="理由不能超过 1000 个字符。")])
    version = HiddenField()


class StatusChangeForm(FlaskForm):
    action = SelectField("操作", choices=[("suspended", "暂停"), ("revoked", "撤销")], validators=[InputRequired(REQUIRED)])
    reason = TextAreaField("理由（商家可见）", validators=[DataRequired(REQUIRED), Length(max=1000, message="理由不能超过 1000 个字符。")])


class ReinstateForm(FlaskForm):
    note = StringField("备注（可选）", validators=[Optional(), Length(max=500, message="备注不能超过 500 个字符。")])


class BadgeForm(FlaskForm):
    badge_id = SelectField("标识", coerce=int, validators=[InputRequired(REQUIRED)])
    action = SelectField("操作", choices=[("grant", "授予"), ("remove", "移除")], validators=[InputRequired(REQUIRED)])


class SlotForm(FlaskForm):
    placement = SelectField("展示位置", choices=list(Placement.LABELS.items()), validators=[InputRequired(REQUIRED)])
    industry_id = SelectField("行业（行业推荐位）", coerce=int, validators=[Optional()])
    enterprise_id = IntegerField("企业编号", validators=[InputRequired("请先搜索并选择企业。"), NumberRange(min=1, message="企业编号无效。")])
    starts_at = DateTimeLocalField("开始时间（北京时间）", format=DT_FORMAT, validators=[InputRequired("请填写开始时间。")])
    ends_at = DateTimeLocalField("结束时间（北京时间，可空）", format=DT_FORMAT, validators=[Optional()])
    title = StringField("标题（可选）", validators=[Optional(), Length(max=60, message="标题不能超过 60 个字符。")])


class SlotTimesForm(FlaskForm):
    starts_at = DateTimeLocalField("开始时间（北京时间）", format=DT_FORMAT, validators=[InputRequired("请填写开始时间。")])
    ends_at = DateTimeLocalField("结束时间（北京时间，可空）", format=DT_FORMAT, validators=[Optional()])
    title = StringField("标题（可选）", validators=[Optional(), Length(max=60, message="标题不能超过 60 个字符。")])
    version = HiddenField()  # the slot's version the form was rendered with (services/versioning.py)


class MoveForm(FlaskForm):
    direction = HiddenField(validators=[InputRequired()])


class AssignForm(FlaskForm):
    assignee_id = SelectField("指派给", coerce=int, validators=[InputRequired(REQUIRED)])


class ReplyForm(FlaskForm):
    body = TextAreaField("回复内容", validators=[DataRequired(REQUIRED), Length(max=2000, message="不能超过 2000 个字符。")])
    public = BooleanField("公开（举报人和商家可见；不勾选则为内部备注）", default=True)


class RefuseForm(FlaskForm):
    reason = TextAreaField("不予受理的理由（公开）", validators=[
        DataRequired(REQUIRED), Length(max=2000, message="不能超过 2000 个字符。")])


class MediateForm(FlaskForm):
    mediate_note = TextAreaField("说明（可选）", validators=[Optional(), Length(max=2000, message="不能超过 2000 个字符。")])


class CloseForm(FlaskForm):
    outcome = SelectField("办结结果", choices=[(ComplaintStatus.RESOLVED, "已解决"), (ComplaintStatus.UNRESOLVED, "未解决")],
                          validators=[InputRequired(REQUIRED)])
    note = TextAreaField("处理说明（公开）", validators=[DataRequired(REQUIRED), Length(max=2000, message="不能超过 2000 个字符。")])
    upheld = BooleanField("经核实投诉属实（查实；假冒伪劣查实会计入企业的公开记录）")


class ObjectionReviewForm(FlaskForm):
    decision = RadioField("复核结果", choices=[("reopen", "异议成立，重新调解"), ("maintain", "维持办结结果")],
                          validators=[InputRequired("请选择复核结果。")])
    review_note = TextAreaField("复核说明（维持原结果时必填）", validators=[
        Optional(), Length(max=2000, message="不能超过 2000 个字符。")])


class EventForm(FlaskForm):
    """Create or edit a 网购节 (staff)."""

    name = StringField("活动名称")
    slug = StringField("网址标识（/events/ 后面的部分，如 guanghuo-2026）")
    starts_at = ChinaDateTimeField("开始时间（北京时间）")
    ends_at = ChinaDateTimeField("结束时间（北京时间）")
    description = TextAreaField("活动介绍")
    industry_ids = CheckboxListField("面向行业（不选 = 所有行业）", coerce=coerce_int)
    banner = FileField("横幅图片（可选；PNG、JPEG 或 WebP，建议 1200×400）")
    version = HiddenField()  # the event version an edit page was opened at (services/versioning.py)

    def as_data(self) -> dict:
        return {"name": self.name.data, "slug": self.slug.data, "starts_at": self.starts_at.data,
                "ends_at": self.ends_at.data, "description": self.description.data,
                "industry_ids": self.industry_ids.data or []}

    def banner_bytes(self) -> bytes | None:
        upload = self.banner.data
        return upload.read() if upload and getattr(upload, "filename", "") else None


class VisibilityForm(FlaskForm):
    action = HiddenField()  # "hide" or "show"


class OfferDecisionForm(FlaskForm):
    """Approve an offer; ``version`` is the offer's last change the reviewer saw."""

    version = HiddenField()


class OfferRejectForm(FlaskForm):
    version = HiddenField()
    reason = TextAreaField("驳回理由（商家可见）", validators=[
        DataRequired("请填写驳回理由。"), Length(max=1000, message="理由不能超过 1000 个字符。")])


class ImportForm(FlaskForm):
    enterprises = FileField("企业表 enterprises.csv")
    shops = FileField("店铺表 shops.csv")


class ApplyImportForm(FlaskForm):
    token = HiddenField(validators=[InputRequired()])


class StaffAccountForm(FlaskForm):
    email = EmailField("邮箱", validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField("初始密码（至少 10 位）", validators=[DataRequired(REQUIRED), Length(max=1024)])
    display_name = StringField("姓名（可选）", validators=[Optional(), Length(max=60)])
    role = SelectField("角色", choices=[(Role.STAFF, Role.LABELS[Role.STAFF]), (Role.ADMIN, Role.LABELS[Role.ADMIN])],
                       validators=[InputRequired(REQUIRED)])


class AuthorizationDecisionForm(FlaskForm):
    """Accept or refuse a pending authorization letter (the letter's version the page showed)."""

    decision = HiddenField(validators=[InputRequired()])
    reason = TextAreaField("不通过的理由（商家可见）", validators=[Optional(), Length(max=1000, message="理由不能超过 1000 个字符。")])
    version = HiddenField()


class AuthorizationWithdrawForm(FlaskForm):
    reason = TextAreaField("撤回理由（双方可见）", validators=[DataRequired(REQUIRED), Length(max=1000, message="理由不能超过 1000 个字符。")])
    version = HiddenField()


class AnnualCheckForm(FlaskForm):
    """Accept a submitted annual confirmation or return it with a note."""

    decision = HiddenField(validators=[InputRequired()])
    note = TextAreaField("说明（退回时必填，商家可见）", validators=[Optional(), Length(max=1000, message="说明不能超过 1000 个字符。")])
    version = HiddenField()


class ObjectionDecisionForm(FlaskForm):
    """Uphold or dismiss a 公示 objection: the written reason goes to the merchant (uphold) and
    to the objector (both)."""

    reason = TextAreaField("处理理由（告知商家或异议人）", validators=[
        DataRequired("请填写处理理由。"), Length(max=1000, message="处理理由不能超过 1000 个字。")])
