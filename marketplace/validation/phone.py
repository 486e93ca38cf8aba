"""Chinese phone numbers as people type them: mobiles (``1[3-9]`` + 9 digits) and landlines.

Accepts full-width digits, spaces and dashes, and a ``+86`` / ``86`` prefix on mobiles; returns
the number in one stored form (``13812345678``, ``020-12345678``).
"""
from __future__ import annotations

import re

from . import ValidationError
from .text import fold_fullwidth_alnum

MOBILE = re.compile(r"1[3-9]\d{9}")
# Area codes 010 and 02X have three digits, all others four (the national numbering plan).
LANDLINE = re.compile(r"(0[12]\d|0[3-9]\d{2})([2-9]\d{6,7})")
MESSAGE = "请填写正确的手机号（11 位，以 1 开头）或带区号的固定电话（如 020-12345678）。"


def normalize_phone(raw: str | None) -> str:
    """The phone number in stored form, or ``ValidationError`` with a Chinese message."""
    text = fold_fullwidth_alnum(raw or "").strip()
    digits = re.sub(r"[\s\-()（）]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if MOBILE.fullmatch(digits):
        return digits
    match = LANDLINE.fullmatch(digits)
    if match:
        return f"{match.group(1)}-{match.group(2)}"
    raise ValidationError(MESSAGE)
