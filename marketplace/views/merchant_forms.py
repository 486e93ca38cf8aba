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
from ..services.pdfs import PDF_MAX_BYTES
from .form_fields import ChinaDateTimeField, CheckboxListField, LenientSelectField, coerce_int
from .once import OneTimeForm

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


class EvidenceFields:
    """The evidence every application carries (``services.evidence``): the business licence and
    the people behind the enterprise. A mixin of one-time application forms."""

    licence = FileField("营业执照（照片、扫描图片或 PDF）", validators=[
        FileSize(max_size=PDF_MAX_BYTES, message="营业执照文件不能超过 10 MB。"),
    ])
    legal_representative = StringField("法定代表人姓名（与营业执照一致）")
    registered_address = StringField("注册地址（营业执照上的住所）")
    contact_name = StringField("联系人姓名")
    contact_mobile = StringField("联系人手机号")
    contact_email = StringField("联系人邮箱")

    EVIDENCE_FIELDS = ("legal_representative", "registered_address", "contact_name", "contact_mobile",
                       "contact_email")

    def evidence_data(self) -> dict:
        """The typed fields plus the licence bytes, as the application services take them."""
        upload = self.licence.data
        data = {name: getattr(self, name).data for name in self.EVIDENCE_FIELDS}
        data["licence"] = upload.read(PDF_MAX_BYTES + 1) if upload and hasattr(upload, "read") else b""
        return data

    def prefill_evidence(self, values: dict) -> None:
        for name in self.EVIDENCE_FIELDS:
            if values.get(name):
                getattr(self, name).data = values[name]


class CertificationForm(EvidenceFields, OneTimeForm):
    """Submit an enterprise with its shops for certification, with the evidence (one-time form)."""

    purpose = "certification"


class EvidenceUpdateForm(EvidenceFields, OneTimeForm):
    """New evidence for a certified enterprise (changed name, legal representative, address)."""

    purpose = "evidence"


class ClaimForm(EvidenceFields, OneTimeForm):
    """Ask to take over an imported enterprise, with the evidence (one-time form)."""

    purpose = "claim"
    note = TextAreaField("认领说明（职务等，便于工作人员核实）")


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
