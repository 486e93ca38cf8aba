"""Flask-WTF forms of the merchant area.

The forms only parse input and carry the CSRF token; the rules live in
``marketplace.services.listings`` so every path (form, test, import) applies the same checks.
Fields a merchant must not set (status, owner, featured ...) simply do not exist here, so extra
POST fields are ignored.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField, widgets

from ..models import ShopType

LOGO_MAX_BYTES = 5 * 1024 * 1024


class _Lenient:
    """Select fields whose choices are validated by the service (with a Chinese message)."""

    def pre_validate(self, form):  # noqa: D401 - WTForms hook
        pass


class LenientSelectField(_Lenient, SelectField):
    """A SelectField that leaves choice validation to the service layer."""


class CheckboxListField(_Lenient, SelectMultipleField):
    """Multiple choice rendered as checkboxes; choice validation is done by the service."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _coerce_int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class EnterpriseForm(FlaskForm):
    """Create or edit an enterprise profile (USCC only when creating)."""

    name = StringField("企业名称（营业执照上的全称）")
    uscc = StringField("统一社会信用代码（18 位）")
    brands = StringField("品牌（多个品牌用“；”或“、”分隔）")
    city_id = LenientSelectField("所在城市", coerce=_coerce_int)
    industry_ids = CheckboxListField("所属行业（1–5 个）", coerce=_coerce_int)
    description = TextAreaField("企业简介")
    website = StringField("企业官网（可选）")
    founded_year = StringField("成立年份（可选）")
    version = HiddenField()  # the enterprise's version the edit form was rendered with

    def as_data(self) -> dict:
        """The submitted values as the service expects them."""
        return {
            "name": self.name.data, "uscc": self.uscc.data, "brands": self.brands.data,
            "city_id": self.city_id.data, "industry_ids": self.industry_ids.data or [],
            "description": self.description.data, "website": self.website.data,
            "founded_year": self.founded_year.data, "version": self.version.data,
        }


class ShopForm(FlaskForm):
    """Add or edit a shop."""

    platform_id = LenientSelectField("电商平台", coerce=_coerce_int)
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
