"""Form field types shared by every area's forms.

* Fields that parse what people type into types, leniently, and show it back when it does not
  parse: dates (``2026-09-28``, ``2026/9/28``, ``2026年9月28日``), amounts in yuan
  (``¥1,299.00 元``) and counts (``12,345``). Full-width digits are accepted everywhere. Messages
  are in Chinese.
* ``ChinaDateTimeField``: a ``datetime-local`` input typed in China time (``DT_FORMAT``).
* Choice fields whose choices the service validates (with a Chinese message): ``LenientSelectField``,
  ``CheckboxListField`` and their ``coerce_int``.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from wtforms import DateTimeLocalField, SelectField, SelectMultipleField, StringField, widgets

from ..validation.text import fold_fullwidth_alnum

DT_FORMAT = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]  # what datetime-local inputs send
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


def coerce_int(value) -> int:
    """A select's submitted value as an int (0 for junk: the service then names the bad choice);
    the coerce of the lenient choice fields here and in ``event_forms``."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
