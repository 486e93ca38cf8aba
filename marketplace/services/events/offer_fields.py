"""The rules an offer's input must pass, with a Chinese message per field.

Amounts are typed in yuan (``50``, ``19.9``) and stored in fen; a discount is typed the way
Chinese shops write it (``8.5`` 折 = pay 85 %) and stored in tenths. Each kind uses only its own
fields; the others are stored as zero / empty, so a hidden form field cannot smuggle a value in.
Dates are typed in China time. An offer must lie inside its event's window, must not have ended
already and cannot start before today (a coupon whose dates have passed is refused).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from ... import clock
from ...models import OfferKind, ShoppingEvent
from ...validation import ValidationError
from ...validation.text import clean_text, fold_fullwidth_alnum
from ..listings.common import FieldErrors
from .window import typed_window

MAX_YUAN = 1_000_000
MAX_TERMS = 300
MAX_GIFT = 40
_AMOUNT = re.compile(r"(\d{1,9})(?:\.(\d{1,2}))?")
_DISCOUNT = re.compile(r"(\d)(?:\.(\d))?")
_COUPON = re.compile(r"[A-Za-z0-9_-]{1,32}")

# The money fields each kind uses: (form key, label, required)
KIND_FIELDS = {
    OfferKind.THRESHOLD: (("threshold", "满减门槛", True), ("amount", "减免金额", True)),
    OfferKind.DISCOUNT: (("discount", "折扣", True),),
    OfferKind.COUPON: (("amount", "优惠券面额", True), ("threshold", "使用门槛", False)),
    OfferKind.FREE_SHIPPING: (("threshold", "包邮门槛", False),),
    OfferKind.GIFT: (("threshold", "赠品门槛", False),),
}


def parse_yuan(raw, label: str) -> int:
    """A yuan amount typed by a person -> fen (0 when left empty)."""
    text = unicodedata.normalize("NFKC", str(raw or "")).strip().replace(",", "")  # ＋０．５ → +0.5
    text = text.removeprefix("¥").removesuffix("元").strip()
    if not text:
        return 0
    if text.startswith("-"):
        raise ValidationError(f"{label}不能为负数。")
    match = _AMOUNT.fullmatch(text)
    if not match:
        raise ValidationError(f"{label}须为金额（元），如 50 或 19.90。")
    fen = int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))
    if fen > MAX_YUAN * 100:
        raise ValidationError(f"{label}不能超过 {MAX_YUAN:,} 元。")
    return fen


def parse_discount(raw) -> int:
    """A discount in 折 (``8.5``) -> tenths (85); 0.1 折 to 9.9 折."""
    text = unicodedata.normalize("NFKC", str(raw or "")).strip().removesuffix("折").strip()
    if not text:
        raise ValidationError("请填写折扣，如 8.5 表示八五折。")
    match = _DISCOUNT.fullmatch(text)
    tenths = int(match[1]) * 10 + int(match[2] or 0) if match else -1
    if not 1 <= tenths <= 99:
        raise ValidationError("折扣须在 0.1 折到 9.9 折之间，如 8.5 表示八五折。")
    return tenths


def _money(kind: str, data: dict, errors: dict) -> dict:
    """The amounts ``kind`` uses, in fen / tenths; every other amount is zero."""
    out = {"threshold_fen": 0, "amount_fen": 0, "discount_tenths": 0}
    for key, label, required in KIND_FIELDS[kind]:
        try:
            if key == "discount":
                out["discount_tenths"] = parse_discount(data.get(key))
                continue
            value = parse_yuan(data.get(key), label)
            if required and value == 0:
                raise ValidationError(f"{label}必须大于 0。")
            out[f"{key}_fen"] = value
        except ValidationError as err:
            errors[key] = str(err)
    if not errors and out["threshold_fen"] and out["amount_fen"] >= out["threshold_fen"]:
        errors["amount"] = "减免金额必须小于门槛金额（如满 300 减 50）。"
    return out


def _window(data: dict, event: ShoppingEvent, now: datetime, errors: dict) -> dict:
    """Start and end (typed in China time) -> naive UTC, inside the event and not in the past."""
    out = typed_window(data, errors)
    if errors.keys() & {"starts_at", "ends_at"}:
        return out
    start, end = out["starts_at"], out["ends_at"]
    window = (f"{clock.to_china(event.starts_at):%Y-%m-%d %H:%M} 至 "
              f"{clock.to_china(event.ends_at):%Y-%m-%d %H:%M}（北京时间）")
    if end <= start:
        errors["ends_at"] = "结束时间必须晚于开始时间。"
    elif end <= now:
        errors["ends_at"] = "优惠的结束时间已经过去，请填写将来的时间。"
    elif start < clock.china_day_start_utc(clock.china_date_of(now)):
        errors["starts_at"] = "优惠的开始日期已经过去，最早可以从今天开始。"
    elif start < event.starts_at or end > event.ends_at:
        errors["starts_at"] = f"优惠有效期必须在网购节期间：{window}。"
    return out


def _texts(kind: str, data: dict, errors: dict) -> dict:
    out = {"gift": ""}
    try:
        out["terms"] = clean_text(data.get("terms"), field="使用说明", max_length=MAX_TERMS,
                                  required=True, multiline=True)
    except ValidationError as err:
        errors["terms"] = str(err)
    if kind == OfferKind.GIFT:
        try:
            out["gift"] = clean_text(data.get("gift"), field="赠品", max_length=MAX_GIFT, required=True)
        except ValidationError as err:
            errors["gift"] = str(err)
    code = fold_fullwidth_alnum(str(data.get("coupon_code") or "")).strip()
    if code and not _COUPON.fullmatch(code):
        errors["coupon_code"] = "优惠码只能包含英文字母、数字、- 和 _，最多 32 位。"
    out["coupon_code"] = code
    return out


def clean_offer_fields(data: dict, event: ShoppingEvent, now: datetime | None = None) -> dict:
    """Validate an offer form against ``event``; return model values or raise ``FieldErrors``.

    ``data`` keys: kind, threshold, amount (yuan), discount (折), gift, terms, coupon_code,
    starts_at / ends_at (naive datetimes typed in China time).
    """
    now = now or clock.utc_now()
    errors: dict[str, str] = {}
    kind = data.get("kind")
    if kind not in OfferKind.LABELS:
        raise FieldErrors({"kind": "请选择优惠类型（满减、折扣、优惠券、包邮或赠品）。"})
    values = {"kind": kind}
    values.update(_money(kind, data, errors))
    values.update(_texts(kind, data, errors))
    values.update(_window(data, event, now, errors))
    if errors:
        raise FieldErrors(errors)
    return values
