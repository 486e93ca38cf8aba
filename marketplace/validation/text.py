"""Text hygiene shared by forms, the importer and search: NFKC, invisible characters, NUL."""
from __future__ import annotations

import unicodedata

from . import ValidationError

# Bidirectional overrides/isolates are how look-alike names hide their real order.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


def strip_format_chars(text: str) -> str:
    """Drop Unicode category Cf characters (zero-width spaces, joiners, BOM, bidi controls)."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


_FULLWIDTH_ALNUM = {
    **{cp: cp - 0xFEE0 for cp in range(0xFF10, 0xFF1A)},  # ０-９
    **{cp: cp - 0xFEE0 for cp in range(0xFF21, 0xFF3B)},  # Ａ-Ｚ
    **{cp: cp - 0xFEE0 for cp in range(0xFF41, 0xFF5B)},  # ａ-ｚ
    0x3000: 0x20,  # ideographic space
}


def fold_fullwidth_alnum(text: str) -> str:
    """Turn full-width Latin letters, digits and the ideographic space into ASCII; nothing else."""
    return text.translate(_FULLWIDTH_ALNUM)


def normalize_key(text: str) -> str:
    """Comparison key for names: NFKC, no format characters, no spaces, casefolded."""
    text = strip_format_chars(unicodedata.normalize("NFKC", text or ""))
    return "".join(text.split()).casefold()


def clean_text(value: str | None, *, field: str, max_length: int, required: bool = False,
               multiline: bool = False) -> str:
    """Validate free text: refuse NUL and control/bidi characters, trim, enforce length.

    Full-width Latin letters and digits are stored in their usual form (ＭＩＤＥＡ -> MIDEA), but
    Chinese full-width punctuation (，：（）) is kept as typed; comparisons and search use the full
    NFKC key (``normalize_key``) anyway.
    """
    value = value or ""
    if "\x00" in value:
        raise ValidationError(f"{field}含有不允许的空字符。")
    if any(ch in _BIDI for ch in value):
        raise ValidationError(f"{field}含有不允许的文字方向控制字符。")
    allowed_ws = "\n\r\t" if multiline else ""
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed_ws for ch in value):
        raise ValidationError(f"{field}含有不允许的控制字符。")
    value = fold_fullwidth_alnum(value)
    value = strip_format_chars(value)
    if multiline:
        value = value.replace("\r\n", "\n").strip()
    else:
        value = " ".join(value.split())
    if required and not value:
        raise ValidationError(f"请填写{field}。")
    if len(value) > max_length:
        raise ValidationError(f"{field}不能超过 {max_length} 个字符。")
    return value


def split_list(value: str | None) -> list[str]:
    """Split a list cell on ``;``, ``；``, ``,``, ``，`` or ``、``; drop empties and duplicates."""
    import re

    seen: list[str] = []
    for part in re.split(r"[;；,，、]", value or ""):
        part = part.strip()
        if part and part not in seen:
            seen.append(part)
    return seen


def pinyin_sort_key(text: str) -> str:
    """A key that sorts Chinese names in pinyin order (``美的`` -> ``mei de``), Latin text as is."""
    from pypinyin import Style, lazy_pinyin

    return " ".join(lazy_pinyin(normalize_key(text), style=Style.NORMAL, errors="default"))[:400]
