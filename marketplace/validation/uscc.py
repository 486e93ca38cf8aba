"""统一社会信用代码 (Unified Social Credit Code, GB 32100-2015) validation."""
from __future__ import annotations

from . import ValidationError

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, ...


def check_character(first17: str) -> str:
    """Return the check character for the first 17 characters of a code."""
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def normalize_uscc(raw: str) -> str:
    """Strip spaces, upper-case and validate a code; return it or raise ``ValidationError``."""
    code = (raw or "").strip().upper()
    if not code:
        raise ValidationError("请填写统一社会信用代码。")
    if len(code) != 18:
        raise ValidationError(f"统一社会信用代码应为 18 位，当前为 {len(code)} 位。")
    bad = sorted({c for c in code if c not in VALUES})
    if bad:
        raise ValidationError(
            "统一社会信用代码含有不允许的字符：" + "、".join(bad) + "（不使用 I、O、S、V、Z）。"
        )
    if check_character(code[:17]) != code[17]:
        raise ValidationError("统一社会信用代码校验位不正确，请核对后重新输入。")
    return code


def is_valid_uscc(raw: str) -> bool:
    """True when ``raw`` is a valid code (after normalisation)."""
    try:
        normalize_uscc(raw)
    except ValidationError:
        return False
    return True


def area_code(code: str) -> str:
    """The registering authority's 6-digit area code (characters 3-8)."""
    return code[2:8]


def suggested_city_code(code: str) -> str | None:
    """For a Guangdong code (area 44xxxx) return the prefecture city code ``44xx00``, else None."""
    area = area_code(code)
    if area.startswith("44") and area[:4].isdigit():
        return area[:4] + "00"
    return None
