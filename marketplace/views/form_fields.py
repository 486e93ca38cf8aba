"""Form fields that parse what people type into types, leniently, and show it back when it does not
parse: dates (``2026-09-28``, ``2026/9/28``, ``2026年9月28日``), amounts in yuan (``¥1,299.00 元``)
and counts (``12,345``). Full-width digits are accepted everywhere. Messages are in Chinese.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from wtforms import StringField

from ..validation.text import fold_fullwidth_alnum

DATE_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


class TypedTextField(StringField):
    """A text input whose value is parsed; what was typed is shown again when it does not parse."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


class ChinaDateField(TypedTextField):
    """A date typed as 2026-09-28, 2026/9/28 or 2026年9月28日 (a date picker sends the first)."""

    def process_formdata(self, valuelist):
        self.data = None
        raw = fold_fullwidth_alnum(valuelist[0] if valuelist else "").strip()
        if not raw:
            return
        match = DATE_RE.fullmatch(raw)
        try:
            self.data = date(*(int(g) for g in match.groups())) if match else None
        except ValueError:
            self.data = None
        if self.data is None:
            raise ValueError("请按“年-月-日”填写日期，如 2026-09-28。")


class YuanField(TypedTextField):
    """An amount in yuan with at most two decimals (``¥``, ``元`` and thousands separators allowed)."""

    def process_formdata(self, valuelist):
        self.data = None
        raw = fold_fullwidth_alnum(valuelist[0] if valuelist else "")
        raw = re.sub(r"[\s,，¥￥元]", "", raw)
        if not raw:
            return
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value.as_tuple().exponent < -2:
            raise ValueError("金额请填写数字，最多两位小数，如 199.00。")
        self.data = value


class CountField(TypedTextField):
    """A whole number (``12,345`` allowed); the sign is kept so the service can refuse negatives."""

    def process_formdata(self, valuelist):
        self.data = None
        raw = re.sub(r"[\s,，]", "", fold_fullwidth_alnum(valuelist[0] if valuelist else ""))
        if not raw:
            return
        if not re.fullmatch(r"-?\d{1,12}", raw):
            raise ValueError("请填写整数，如 1280。")
        self.data = int(raw)
