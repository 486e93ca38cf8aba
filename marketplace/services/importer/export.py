"""CSV export of enterprises and shops in the import's own format (so an export re-imports as is),
with spreadsheet formula cells neutralised.
"""
from __future__ import annotations

import csv
import io

from ...models import Enterprise, Status
from .csvfile import ENTERPRISE_COLUMNS, ENTERPRISE_HEADERS, SHOP_COLUMNS, SHOP_HEADERS, _needs_apostrophe

def neutralise_cell(value) -> str:
    """Make a cell safe for spreadsheets: a leading = + - @ tab or CR gets an apostrophe."""
    text = "" if value is None else str(value)
    if _needs_apostrophe(text):  # also "'=x" typed literally, so the import's undo is exact
        return "'" + text
    return text


def chinese_header(columns: tuple[str, ...], aliases: dict[str, str]) -> tuple[str, ...]:
    """The columns under the Chinese names the importer also accepts (so the file still re-imports)."""
    return tuple(next(k for k, v in aliases.items() if v == c and not k.isascii()) for c in columns)


def _csv_bytes(header: tuple[str, ...], rows) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise_cell(v) for v in row])
    return "\ufeff".encode("utf-8") + buf.getvalue().encode("utf-8")


def export_enterprises_csv(rows, chinese_headers: bool = False) -> bytes:
    """Enterprises as enterprises.csv bytes (UTF-8 with BOM, opens in Excel, re-imports as is).

    ``rows`` is an iterable of ``Enterprise``. Cells that a spreadsheet would run as a formula
    are neutralised with a leading apostrophe (the importer strips it again).
    """
    def cells(ent: Enterprise):
        return (
            ent.uscc, ent.name, ";".join(b.name for b in ent.brands), ent.city.name,
            ";".join(i.name for i in ent.industries), ent.description or "", ent.website or "",
            ent.founded_year or "", ";".join(b.name for b in ent.badges),
            "是" if ent.status == Status.CERTIFIED else "否",
        )

    header = chinese_header(ENTERPRISE_COLUMNS, ENTERPRISE_HEADERS) if chinese_headers else ENTERPRISE_COLUMNS
    return _csv_bytes(header, (cells(e) for e in rows))


def export_shops_csv(rows, chinese_headers: bool = False) -> bytes:
    """Shops as shops.csv bytes (UTF-8 with BOM, formula cells neutralised); ``rows`` are ``Shop``."""
    header = chinese_header(SHOP_COLUMNS, SHOP_HEADERS) if chinese_headers else SHOP_COLUMNS
    return _csv_bytes(header, (
        (s.enterprise.uscc, s.platform.slug, s.name, s.url, s.shop_type) for s in rows
    ))
