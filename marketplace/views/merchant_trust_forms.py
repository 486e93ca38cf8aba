"""Flask-WTF forms of the merchant's brand authorizations and annual confirmation.

They only parse input and carry the CSRF token; the rules (and their Chinese messages) live in
``services.authorizations`` and ``services.annual_confirmation``. Dates are ``ChinaDateField``s
(a date picker's ``2026-05-01``, or ``2026年5月1日`` typed by hand).
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import BooleanField, HiddenField, StringField, TextAreaField

from ..services.authorizations import AuthorizationInput
from .form_fields import ChinaDateField, CheckboxListField, LenientSelectField, coerce_int

LETTER_MAX_BYTES = 10 * 1024 * 1024


class _Validity:
    platform_ids = CheckboxListField("授权平台", coerce=coerce_int)
    valid_from = ChinaDateField("授权开始日期")
    valid_until = ChinaDateField("授权截止日期")


class GrantForm(_Validity, FlaskForm):
    """The brand owner authorizes a distributor."""

    brand_id = LenientSelectField("授权品牌", coerce=coerce_int)
    distributor_uscc = StringField("被授权企业（经销商）的统一社会信用代码")

    def as_input(self) -> AuthorizationInput:
        return AuthorizationInput(brand_id=self.brand_id.data, distributor_uscc=self.distributor_uscc.data or "",
                                  platform_ids=self.platform_ids.data or [], valid_from=self.valid_from.data,
                                  valid_until=self.valid_until.data)


class LetterForm(_Validity, FlaskForm):
    """The distributor uploads the brand owner's authorization letter."""

    enterprise_id = LenientSelectField("被授权企业（本企业）", coerce=coerce_int)
    brand_name = StringField("授权品牌")
    grantor_name = StringField("授权方企业全称（品牌方）")
    grantor_uscc = StringField("授权方的统一社会信用代码")
    letter = FileField("授权书（照片、扫描图片或 PDF）", validators=[
        FileRequired("请选择授权书的照片、扫描图片或 PDF。"),
        FileSize(max_size=LETTER_MAX_BYTES, message="授权书文件不能超过 10 MB。"),
    ])

    def as_input(self) -> AuthorizationInput:
        return AuthorizationInput(enterprise_id=self.enterprise_id.data, brand_name=self.brand_name.data or "",
                                  grantor_name=self.grantor_name.data or "", grantor_uscc=self.grantor_uscc.data or "",
                                  platform_ids=self.platform_ids.data or [], valid_from=self.valid_from.data,
                                  valid_until=self.valid_until.data)


class WithdrawForm(FlaskForm):
    reason = TextAreaField("撤回理由（被授权方会看到）")
    version = HiddenField()


class LinkShopsForm(FlaskForm):
    shop_ids = CheckboxListField("经营该品牌的店铺", coerce=coerce_int)


class AnnualConfirmationForm(FlaskForm):
    confirmed = BooleanField("我确认：以上企业资料、网店和证明材料真实有效（有变化的已提交修改）")
    note = TextAreaField("变更说明（可选）")
    version = HiddenField()
