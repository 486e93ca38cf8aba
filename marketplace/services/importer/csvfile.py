"""Reading an uploaded CSV file: decoding (UTF-8 / BOM / GB18030 / UTF-16), mapping the English or
Chinese header names onto our columns, and splitting it into ``(line, {column: cell})`` rows.

Kept apart from validation so every file-level problem (encoding, header, quoting) is reported
before any row is looked at.
"""
from __future__ import annotations

import csv
import io

from ...validation import ValidationError
from .report import RowError, clip, clip_list

ENTERPRISE_COLUMNS = ("uscc", "name", "brands", "city", "industries", "description", "website",
                      "founded", "badges", "certified")
SHOP_COLUMNS = ("uscc", "platform", "name", "url", "shop_type")

ENTERPRISE_HEADERS = {
    "uscc": "uscc", "统一社会信用代码": "uscc", "信用代码": "uscc",
    "name": "name", "企业名称": "name",
    "brands": "brands", "brand": "brands", "品牌": "brands",
    "city": "city", "城市": "city",
    "industries": "industries", "industry": "industries", "行业": "industries",
    "description": "description", "简介": "description", "企业简介": "description",
    "website": "website", "官网": "website",
    "founded": "founded", "founded_year": "founded", "成立年份": "founded",
    "badges": "badges", "badge": "badges", "标识": "badges",
    "certified": "certified", "已认证": "certified",
}
SHOP_HEADERS = {
    "uscc": "uscc", "统一社会信用代码": "uscc", "信用代码": "uscc",
    "platform": "platform", "平台": "platform",
    "name": "name", "店铺名称": "name",
    "url": "url", "网址": "url", "店铺网址": "url",
    "shop_type": "shop_type", "type": "shop_type", "店铺类型": "shop_type",
}
REQUIRED = {"enterprise": ("uscc", "name", "city"), "shop": ("uscc", "platform", "name", "url")}
LABELS = {
    "uscc": "统一社会信用代码", "name": "名称", "brands": "品牌", "city": "城市", "industries": "行业",
    "description": "简介", "website": "官网", "founded": "成立年份", "badges": "标识",
    "certified": "已认证", "platform": "平台", "url": "网址", "shop_type": "店铺类型",
}

FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r")

# Bounds of what a file may hold, so that neither the parse nor its report grows without limit.
MAX_COLUMNS = 100  # header cells (our files have 10 and 5 columns; spreadsheets add a few empty ones)
MAX_ROW_CHARS = 20_000  # characters in one row (the longest cell we keep, a description, is 5,000)
UNPARSABLE = "无法解析此行：可能有未闭合的英文双引号，或某个单元格超过 131072 个字符。"


def decode_csv_bytes(data: bytes) -> str:
    """Decode a CSV file as UTF-8 (with or without BOM), else GB18030 (a superset of GBK).

    Raises ``ValidationError`` when neither fits.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ValidationError("文件编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV 文件。") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ValidationError("文件编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV 文件。") from None


def _unneutralise(cell: str) -> str:
    """Undo the export's formula neutralisation (``'=x`` -> ``=x``) so an export re-imports."""
    if cell[:1] == "'" and _needs_apostrophe(cell[1:]):
        return cell[1:]
    return cell


def _needs_apostrophe(text: str) -> bool:
    """True for text a spreadsheet would run as a formula, or that looks already neutralised."""
    return text.lstrip("'").startswith(FORMULA_CHARS)


def _read_rows(data: bytes, fname: str, kind: str, errors: list[RowError]):
    """Parse a CSV file into ``([(line, {column: value})], {column: header as written})``.

    Header and encoding problems are appended to ``errors``; returns None when the file cannot
    be read at all.
    """
    try:
        text = decode_csv_bytes(data)
    except ValidationError as exc:
        errors.append(RowError(fname, 0, "", str(exc)))
        return None
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = _read_header(reader, fname, errors)
    if header is None:
        return None
    mapped = _map_header(header, kind, fname, errors)
    if mapped is None:
        return None
    columns, written = mapped
    return _split_rows(reader, columns, written, fname, errors), written


def _read_header(reader, fname: str, errors: list[RowError]) -> list[str] | None:
    """The header row, or None (with the reason in ``errors``) when there is none or it is too big."""
    try:
        header = next(reader, None)
    except csv.Error:
        errors.append(RowError(fname, 1, "", UNPARSABLE))
        return None
    if not header:
        errors.append(RowError(fname, 0, "", "文件为空，缺少表头。"))
        return None
    if len(header) > MAX_COLUMNS:
        errors.append(RowError(fname, 1, "", f"表头有 {len(header)} 列，超过上限 {MAX_COLUMNS} 列：请只保留导入所需的列。"))
        return None
    if sum(map(len, header)) > MAX_ROW_CHARS:
        errors.append(RowError(fname, 1, "", f"表头超过 {MAX_ROW_CHARS} 个字符，无法识别。"))
        return None
    return header


def _map_header(header: list[str], kind: str, fname: str,
                errors: list[RowError]) -> tuple[list[str | None], dict[str, str]] | None:
    """Our column for each header cell (None = ignored), and the header as written per column;
    None when a column is unknown, repeated or missing (each problem reported once)."""
    aliases = ENTERPRISE_HEADERS if kind == "enterprise" else SHOP_HEADERS
    columns: list[str | None] = []
    written: dict[str, str] = {}
    unknown: list[str] = []
    problems = 0
    for raw in header:
        name = raw.replace("\ufeff", "").strip().strip("*").strip()
        key = aliases.get(name) or aliases.get(name.lower().replace(" ", "_"))
        if name and key is None:
            unknown.append(name)
        elif key in written:
            errors.append(RowError(fname, 1, name, f"列重复（与「{clip(written[key], 30)}」相同）。"))
            problems += 1
        elif key is not None:
            written[key] = name
            columns.append(key)
            continue
        columns.append(None)
    if unknown:  # listed once, however many there are
        errors.append(RowError(fname, 1, clip_list(unknown, 3), f"未知的列名：{clip_list(unknown, 20)}。可用的列：" + "、".join(
            f"{c}（{LABELS[c]}）" for c in (ENTERPRISE_COLUMNS if kind == "enterprise" else SHOP_COLUMNS))))
        problems += 1
    for key in REQUIRED[kind]:
        if key not in written:
            errors.append(RowError(fname, 1, key, f"缺少必需的列「{key}」（{LABELS[key]}）。"))
            problems += 1
    return None if problems else (columns, written)


def _split_rows(reader, columns: list[str | None], written: dict[str, str], fname: str,
                errors: list[RowError]) -> list[tuple[int, dict[str, str]]]:
    """The data rows as ``(line, {column: cell})``; rows that cannot be used are reported."""
    rows = []
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            errors.append(RowError(fname, line, "", UNPARSABLE))
            break
        if not any(c.strip() for c in cells):
            continue  # blank lines, often left by spreadsheets at the end
        if sum(map(len, cells)) > MAX_ROW_CHARS:
            errors.append(RowError(fname, line, "", f"此行超过 {MAX_ROW_CHARS} 个字符（可能有未闭合的英文双引号）。"))
            continue
        if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns):]):
            errors.append(RowError(fname, line, "", f"此行有 {len(cells)} 列，多于表头的 {len(columns)} 列"
                                                    "（含逗号的内容请用英文双引号括起来）。"))
            continue
        values = {key: _unneutralise(cell) for key, cell in zip(columns, cells) if key is not None}
        for key in written:
            values.setdefault(key, "")
        rows.append((line, values))
    return rows
