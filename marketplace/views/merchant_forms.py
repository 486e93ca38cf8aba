"""Flask-WTF forms of the merchant area.

The forms only parse input and carry the CSRF token; the rules live in
``marketplace.services.listings`` (and ``services.events`` for 网购节 offers) so every path (form,
test, import) applies the same checks.
Fields a merchant must not set (status, owner, featured ...) simply do not exist here, so extra
POST fields are ignored.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import HiddenField, StringField, TextAreaField

from ..models import OfferKind, ShopType
from .form_fields import ChinaDateTimeField, CheckboxListField, LenientSelectField, coerce_int

LOGO_MAX_BYTES = 5 * 1024 * 1024


class EnterpriseForm(FlaskForm):
    """Create or edit an enterprise profile (USCC only when creating)."""

    name = StringField("企业名称（营业执照上的全称）")
    uscc = StringField("统一社会信用代码（18 位）")
    brands = StringField("品牌（多个品牌用“；”或“、”分隔）")
    city_id = LenientSelectField("所在城市", coerce=coerce_int)
    industry_ids = CheckboxListField("所属行业（1–5 个）", coerce=coerce_int)
    description = TextAreaField("企业简介")
    website = StringField("企业官网（可选）")
    founded_year = StringField("成立年份（可选）")
    service_phone = StringField("客服电话（可选）")
    service_hours = StringField("服务时间（可选）")
    address = StringField("地址（可选）")
    version = HiddenField()  # the enterprise's version the edit form was rendered with

    def as_data(self) -> dict:
        """The submitted values as the service expects them."""
        return {
            "name": self.name.data, "uscc": self.uscc.data, "brands": self.brands.data,
            "city_id": self.city_id.data, "industry_ids": self.industry_ids.data or [],
            "description": self.description.data, "website": self.website.data,
            "founded_year": self.founded_year.data, "service_phone": self.service_phone.data,
            "service_hours": self.service_hours.data, "address": self.address.data, "version": self.version.data,
        }


class ShopForm(FlaskForm):
    """Add or edit a shop."""

    platform_id = LenientSelectField("电商平台", coerce=coerce_int)
    name = StringField("店铺名称")
    url = StringField("店铺网址")
    shop_type = LenientSelectField("店铺类型", choices=[(t, t) for t in ShopType.ALL])
    version = HiddenField()  # the shop's version the edit form was rendered with

    def as_data(self) -> dict:
        return {"platform_id": self.platform_id.data, "name": self.name.data, "url": self.url.data,
                "shop_type": self.shop_type.data, "version": self.version.data}


class LogoForm(FlaskForm):
    """Upload a logo; the image pipeline re-checks and re-encodes it."""

    logo = FileField("企业标志图片（PNG、JPEG 或 WebP，不超过 5 MB）", validators=[
        FileRequired("请选择要上传的图片文件。"),
        FileSize(max_size=LOGO_MAX_BYTES, message="图片文件不能超过 5 MB。"),
    ])
    version = HiddenField()  # the enterprise's version the form was rendered with


class ClaimForm(FlaskForm):
    """Ask to take over an imported enterprise."""

    note = TextAreaField("认领说明（职务、联系方式等，便于工作人员核实）")


class ConfirmForm(FlaskForm):
    """An empty form: a POST with a CSRF token for submit / withdraw / delete."""


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
