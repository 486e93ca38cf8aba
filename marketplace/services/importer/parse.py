"""Step 1 of an import, parse: both files read (csvfile), every row validated (rows), the stored
enterprises and shops they name loaded. Every problem goes into the report's error list; nothing
is written.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Enterprise, Shop
from ...validation import ValidationError
from ...validation.uscc import normalize_uscc
from .csvfile import _read_rows
from .report import RowError, _chunks, _Progress
from .rows import _EntRow, _Refs, _ShopRow, _validate_enterprise, _validate_shop


@dataclass
class ParsedImport:
    """The valid rows of both files and the stored rows they match."""

    refs: _Refs
    ent_rows: list[_EntRow] = field(default_factory=list)
    shop_rows: list[_ShopRow] = field(default_factory=list)
    existing: dict[str, Enterprise] = field(default_factory=dict)  # by uscc
    stored_shops: dict[str, Shop] = field(default_factory=dict)  # by normalised url


def _load_enterprises(usccs: list[str]) -> dict[str, Enterprise]:
    found: dict[str, Enterprise] = {}
    for chunk in _chunks(sorted(set(usccs))):
        q = (select(Enterprise).where(Enterprise.uscc.in_(chunk))
             .options(selectinload(Enterprise.brands), selectinload(Enterprise.industries),
                      selectinload(Enterprise.badges)))
        for ent in db.session.scalars(q):
            found[ent.uscc] = ent
    return found


def _load_shops(urls: list[str]) -> dict[str, Shop]:
    found: dict[str, Shop] = {}
    for chunk in _chunks(sorted(set(urls))):
        for shop in db.session.scalars(select(Shop).where(Shop.url.in_(chunk))):
            found[shop.url] = shop
    return found


def _parse_enterprises(data: bytes, fname: str, refs: _Refs, errors: list[RowError],
                       bar: _Progress) -> tuple[list[_EntRow], set[str]]:
    """The valid enterprise rows (first of each code), and every code listed, valid row or not."""
    ent_rows: list[_EntRow] = []
    listed_usccs: set[str] = set()
    parsed = _read_rows(data, fname, "enterprise", errors)
    if parsed is None:
        return ent_rows, listed_usccs
    rows, header = parsed
    first_line: dict[str, int] = {}
    for _line, values in rows:
        listed_usccs.add((values.get("uscc") or "").strip().upper())
    for line, values in bar(rows, len(rows), "检查企业"):
        row = _validate_enterprise(line, values, refs, header, fname, errors)
        if row is None:
            continue
        if row.uscc in first_line:
            errors.append(RowError(fname, line, header["uscc"], f"统一社会信用代码与第 {first_line[row.uscc]} 行重复。",
                                   row.uscc))
            continue
        first_line[row.uscc] = line
        ent_rows.append(row)
    return ent_rows, listed_usccs


def _parse_shops(data: bytes, fname: str, ent_name: str, parsed: ParsedImport, listed_usccs: set[str],
                 errors: list[RowError], bar: _Progress) -> dict[str, str]:
    """Validate the shop rows into ``parsed.shop_rows`` (loading the stored enterprises they name
    into ``parsed.existing``); return the header as written."""
    read = _read_rows(data, fname, "shop", errors)
    if read is None:
        return {}
    rows, header = read
    file_ents = {r.uscc: r for r in parsed.ent_rows}
    shop_usccs = set()
    for _line, values in rows:
        try:
            shop_usccs.add(normalize_uscc(values["uscc"]))
        except ValidationError:
            pass
    missing = [u for u in shop_usccs if u not in file_ents and u not in parsed.existing]
    parsed.existing.update(_load_enterprises(missing))
    first_url: dict[str, int] = {}
    for line, values in bar(rows, len(rows), "检查店铺"):
        row = _validate_shop(line, values, parsed.refs, header, fname, errors, file_ents, parsed.existing,
                             listed_usccs, ent_name)
        if row is None:
            continue
        if row.url in first_url:
            errors.append(RowError(fname, line, header["url"], f"店铺网址与第 {first_url[row.url]} 行重复。", row.url))
            continue
        first_url[row.url] = line
        parsed.shop_rows.append(row)
    return header


def _check_shop_owners(parsed: ParsedImport, header: dict[str, str], fname: str, errors: list[RowError]) -> None:
    """A stored shop URL belongs to one enterprise: a row giving it to another is an error."""
    for row in parsed.shop_rows:
        shop = parsed.stored_shops.get(row.url)
        target = parsed.existing.get(row.uscc)
        if shop is not None and (target is None or shop.enterprise_id != target.id):
            owner = db.session.get(Enterprise, shop.enterprise_id)
            errors.append(RowError(fname, row.line, header["url"],
                                   f"该网址已登记在其他企业（{owner.name if owner else '未知'}）名下。", row.url))


def parse_import(enterprises: bytes | None, shops: bytes | None, filenames: tuple[str, str],
                 errors: list[RowError], bar: _Progress) -> ParsedImport:
    """Read and validate both files (enterprises first: shop rows refer to them)."""
    ent_name, shop_name = filenames
    parsed = ParsedImport(refs=_Refs())
    listed_usccs: set[str] = set()
    if enterprises is not None:
        parsed.ent_rows, listed_usccs = _parse_enterprises(enterprises, ent_name, parsed.refs, errors, bar)
    parsed.existing = _load_enterprises([r.uscc for r in parsed.ent_rows])
    header: dict[str, str] = {}
    if shops is not None:
        header = _parse_shops(shops, shop_name, ent_name, parsed, listed_usccs, errors, bar)
    parsed.stored_shops = _load_shops([r.url for r in parsed.shop_rows])
    _check_shop_owners(parsed, header, shop_name, errors)
    return parsed
