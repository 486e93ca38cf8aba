"""Flask-WTF forms of the 网购节 pages (staff console and merchant area).

The forms parse input and carry the CSRF token; every rule lives in ``services.events`` so each
path (form, test, demo) applies the same checks with the same Chinese messages. Fields a user
must not set (status, event of an existing offer, reviewer ...) do not exist here.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateTimeLocalField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..models import OfferKind
from .merchant_forms import CheckboxListField, LenientSelectField, _coerce_int
from .staff_forms import DT_FORMAT


class ChinaDateTimeField(DateTimeLocalField):
    """A ``datetime-local`` input typed in China time. A malformed value becomes None (WTForms
    would add an English error) and the service explains in Chinese what is missing."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=DT_FORMAT, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None


class EventForm(FlaskForm):
    """Create or edit a 网购节 (staff)."""

    name = StringField("活动名称")
    slug = StringField("网址标识（/events/ 后面的部分，如 guanghuo-2026）")
    starts_at = ChinaDateTimeField("开始时间（北京时间）")
    ends_at = ChinaDateTimeField("结束时间（北京时间）")
    description = TextAreaField("活动介绍")
    industry_ids = CheckboxListField("面向行业（不选 = 所有行业）", coerce=_coerce_int)
    banner = FileField("横幅图片（可选；PNG、JPEG 或 WebP，建议 1200×400）")

    def as_data(self) -> dict:
        return {"name": self.name.data, "slug": self.slug.data, "starts_at": self.starts_at.data,
                "ends_at": self.ends_at.data, "description": self.description.data,
                "industry_ids": self.industry_ids.data or []}

    def banner_bytes(self) -> bytes | None:
        upload = self.banner.data
        return upload.read() if upload and getattr(upload, "filename", "") else None


class VisibilityForm(FlaskForm):
    action = HiddenField()  # "hide" or "show"


class OfferForm(FlaskForm):
    """Enroll a shop with an offer, or change a pending / rejected offer (merchant). The shop and
    the event come from the URL, never from the form."""

    kind = LenientSelectField("优惠类型", choices=list(OfferKind.LABELS.items()))
    threshold = StringField("门槛金额（元）")
    amount = StringField("减免金额 / 优惠券面额（元）")
    discount = StringField("折扣（折，如 8.5 表示八五折）")
    gift = StringField("赠品")
    terms = TextAreaField("使用说明（适用商品、限购、叠加规则等）")
    coupon_code = StringField("优惠码（可选）")
    starts_at = ChinaDateTimeField("开始时间（北京时间）")
    ends_at = ChinaDateTimeField("结束时间（北京时间）")

    def as_data(self) -> dict:
        return {k: getattr(self, k).data for k in (
            "kind", "threshold", "amount", "discount", "gift", "terms", "coupon_code",
            "starts_at", "ends_at")}


class OfferDecisionForm(FlaskForm):
    """Approve an offer; ``version`` is the offer's last change the reviewer saw."""

    version = HiddenField()


class OfferRejectForm(FlaskForm):
    version = HiddenField()
    reason = TextAreaField("驳回理由（商家可见）", validators=[
        DataRequired("请填写驳回理由。"), Length(max=1000, message="理由不能超过 1000 个字符。")])
