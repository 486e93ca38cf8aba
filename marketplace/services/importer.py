"""Import the campaign's enterprise list (enterprises.csv / shops.csv) and export it again.

The one path every bulk load takes: the ``import-data`` CLI, the staff console's upload and the
demo data. Rules:

* enterprises.csv columns ``uscc,name,brands,city,industries,description,website,founded,badges,
  certified``; shops.csv ``uscc,platform,name,url,shop_type``; the Chinese header names are
  accepted too. Lists are separated by ``;`` or ``；``. UTF-8 (with or without BOM) and GB18030/GBK.
* All rows are validated first. Any bad row rejects the whole import: the report lists every bad
  row (file, line, column, reason in Chinese) and nothing is written.
* Idempotent: enterprises match on 统一社会信用代码, shops on the normalised URL; a row equal to
  the stored one changes nothing, so importing the same files twice reports "unchanged".
* ``certified`` 是 makes the enterprise certified (certificate issued) with its listed shops;
  否 creates an unclaimed draft listing (``source="import"``, no owner). An import never
  demotes: a certified / suspended / revoked enterprise keeps its status (use the console).

Fast enough for 10,000 enterprises / 50,000 shops: reference rows are cached, existing rows are
fetched in chunks, and new rows are flushed in batches. Services flush, never commit.
"""
from __future__ import annotations

import csv
import io
import secrets
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import click
from flask import Flask, current_app
from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    CHINA_TZ, AuditLog, Badge, Brand, Certification, City, Enterprise, Industry, Platform, Shop,
    ShopType, Status, enterprise_badge, enterprise_industry, utcnow,
)
from ..validation import ValidationError
from ..validation.text import clean_text, normalize_key, pinyin_sort_key, split_list
from ..validation.urls import normalize_url, validate_shop_url
from ..validation.uscc import normalize_uscc

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

TRUE_WORDS = {"是", "yes", "y", "1", "true", "t", "已认证", "认证", "√", "✓"}
FALSE_WORDS = {"否", "no", "n", "0", "false", "f", "未认证", "", "×"}
FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r")
MAX_BRANDS = 10
BATCH = 1000
ENTITIES = ("enterprise", "shop")


@dataclass
class RowError:
    """One problem in one cell (or the whole file when ``line`` is 0)."""

    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"第 {self.line} 行" if self.line else "文件"
        col = f"「{self.column}」列" if self.column else ""
        return f"{self.file} {where}{col}：{self.reason}"


def _zero() -> dict[str, int]:
    return {k: 0 for k in ENTITIES}


@dataclass
class ImportReport:
    """What an import did (or, for a dry run or a refused import, would do)."""

    errors: list[RowError] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=_zero)
    updated: dict[str, int] = field(default_factory=_zero)
    unchanged: dict[str, int] = field(default_factory=_zero)
    certificates: int = 0
    dry_run: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary_lines(self) -> list[str]:
        """The summary in Chinese, one line per entity kind."""
        names = {"enterprise": "企业", "shop": "店铺"}
        return [
            f"{names[k]}：新增 {self.created[k]}，更新 {self.updated[k]}，未变 {self.unchanged[k]}"
            for k in ENTITIES
        ]


class _Progress:
    """A tqdm bar on a terminal, nothing otherwise."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, iterable, total: int, desc: str):
        if not self.enabled or total < 500:
            return iterable
        from tqdm import tqdm

        return tqdm(iterable, total=total, desc=desc, unit="行", file=sys.stderr, leave=False)

    def chunks(self, items: list, size: int, desc: str):
        """Yield ``items`` in chunks of ``size``, advancing the bar by rows, not chunks."""
        if not self.enabled or len(items) < 500:
            yield from _chunks(items, size)
            return
        from tqdm import tqdm

        with tqdm(total=len(items), desc=desc, unit="行", file=sys.stderr, leave=False) as progress:
            for chunk in _chunks(items, size):
                yield chunk
                progress.update(len(chunk))


# ---- reading files ------------------------------------------------------------------------------

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
    """Parse a CSV file into ``(line, {column: value}, {column: header as written})``.

    Header and encoding problems are appended to ``errors``; returns None when the file cannot
    be read at all.
    """
    try:
        text = decode_csv_bytes(data)
    except ValidationError as exc:
        errors.append(RowError(fname, 0, "", str(exc)))
        return None
    aliases = ENTERPRISE_HEADERS if kind == "enterprise" else SHOP_HEADERS
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        errors.append(RowError(fname, 1, "", f"表头无法解析（{exc}）。"))
        return None
    if not header:
        errors.append(RowError(fname, 0, "", "文件为空，缺少表头。"))
        return None
    columns: list[str | None] = []
    written: dict[str, str] = {}
    for raw in header:
        name = raw.replace("\ufeff", "").strip().strip("*").strip()
        key = aliases.get(name) or aliases.get(name.lower().replace(" ", "_"))
        if not name:
            columns.append(None)
            continue
        if key is None:
            errors.append(RowError(fname, 1, name, "未知的列名。可用的列：" + "、".join(
                f"{c}（{LABELS[c]}）" for c in (ENTERPRISE_COLUMNS if kind == "enterprise" else SHOP_COLUMNS))))
            columns.append(None)
            continue
        if key in written:
            errors.append(RowError(fname, 1, name, f"列重复（与「{written[key]}」相同）。"))
            columns.append(None)
            continue
        written[key] = name
        columns.append(key)
    for key in REQUIRED[kind]:
        if key not in written:
            errors.append(RowError(fname, 1, key, f"缺少必需的列「{key}」（{LABELS[key]}）。"))
    if any(e.file == fname for e in errors):
        return None

    rows = []
    line = 1
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(fname, start, "", f"无法解析此行（{exc}）。"))
            break
        line = start
        if not any(c.strip() for c in cells):
            continue  # blank lines, often left by spreadsheets at the end
        if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns):]):
            errors.append(RowError(fname, line, "", f"此行有 {len(cells)} 列，多于表头的 {len(columns)} 列"
                                                    "（含逗号的内容请用英文双引号括起来）。"))
            continue
        values = {}
        for key, cell in zip(columns, cells):
            if key is not None:
                values[key] = _unneutralise(cell)
        for key in written:
            values.setdefault(key, "")
        rows.append((line, values))
    return rows, written


# ---- validated rows -----------------------------------------------------------------------------

@dataclass
class _EntRow:
    line: int
    uscc: str
    fields: dict  # present columns only: name, brands, city_id, industry_ids, description, ...
    certified: bool | None


@dataclass
class _ShopRow:
    line: int
    uscc: str
    platform: Platform
    name: str
    url: str
    shop_type: str | None


class _Refs:
    """Reference rows cached once per import (cities, industries, platforms, badges)."""

    def __init__(self):
        self.cities: dict[str, City] = {}
        for c in db.session.scalars(select(City)):
            for k in (c.name, c.name + "市", c.code, c.slug, c.slug.lower()):
                self.cities[k] = c
        self.industries: dict[str, Industry] = {}
        for i in db.session.scalars(select(Industry)):
            self.industries[i.name] = i
            self.industries[i.slug.lower()] = i
        self.platforms: dict[str, Platform] = {}
        for p in db.session.scalars(select(Platform)):
            self.platforms[p.name.lower()] = p
            self.platforms[p.slug.lower()] = p
        self.badges: dict[str, Badge] = {}
        for b in db.session.scalars(select(Badge)):
            self.badges[b.name] = b
            self.badges[b.slug.lower()] = b
        self.platform_hosts = {p.id: p.host_list for p in set(self.platforms.values())}


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ValidationError("应为 是/否、yes/no 或 1/0。")


def _parse_year(raw: str) -> int | None:
    value = raw.strip().removesuffix("年").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) != 4:
        raise ValidationError("成立年份应为四位数字，例如 1998。")
    year = int(value)
    if year < 1800 or year > datetime.now(CHINA_TZ).year:
        raise ValidationError(f"成立年份 {year} 不在合理范围内。")
    return year


def _validate_enterprise(line: int, values: dict, refs: _Refs, header: dict, fname: str,
                         errors: list[RowError]) -> _EntRow | None:
    """Check one enterprises.csv row; append every problem to ``errors``."""
    bad: list[RowError] = []

    def err(key: str, reason: str) -> None:
        bad.append(RowError(fname, line, header.get(key, key), reason))

    uscc = ""
    try:
        uscc = normalize_uscc(values["uscc"])
    except ValidationError as exc:
        err("uscc", str(exc))
    fields: dict = {}
    try:
        fields["name"] = clean_text(values["name"], field="企业名称", max_length=120, required=True)
    except ValidationError as exc:
        err("name", str(exc))
    city = refs.cities.get(values["city"].strip()) or refs.cities.get(values["city"].strip().lower())
    if city is None:
        err("city", f"未知的城市「{values['city'].strip()}」：应为广东省 21 个地级市之一（如 佛山 或 佛山市，或 6 位代码）。"
            if values["city"].strip() else "请填写城市。")
    else:
        fields["city_id"] = city.id
    if "brands" in values:
        brands: list[str] = []
        keys: set[str] = set()
        try:
            for part in split_list(values["brands"]):
                name = clean_text(part, field="品牌", max_length=60, required=True)
                if normalize_key(name) not in keys:
                    keys.add(normalize_key(name))
                    brands.append(name)
            if len(brands) > MAX_BRANDS:
                raise ValidationError(f"品牌最多 {MAX_BRANDS} 个。")
            fields["brands"] = brands
        except ValidationError as exc:
            err("brands", str(exc))
    if "industries" in values:
        ids, unknown = [], []
        for part in split_list(values["industries"]):
            ind = refs.industries.get(part) or refs.industries.get(part.lower())
            if ind is None:
                unknown.append(part)
            elif ind.id not in ids:
                ids.append(ind.id)
        if unknown:
            err("industries", "未知的行业：" + "、".join(unknown) + "。")
        else:
            fields["industry_ids"] = sorted(ids)
    if "description" in values:
        try:
            fields["description"] = clean_text(values["description"], field="简介", max_length=5000,
                                               multiline=True)
        except ValidationError as exc:
            err("description", str(exc))
    if "website" in values:
        try:
            raw = values["website"].strip()
            fields["website"] = normalize_url(raw, field="官网") if raw else ""
        except ValidationError as exc:
            err("website", str(exc))
    if "founded" in values:
        try:
            fields["founded_year"] = _parse_year(values["founded"])
        except ValidationError as exc:
            err("founded", str(exc))
    if "badges" in values:
        ids, unknown = [], []
        for part in split_list(values["badges"]):
            b = refs.badges.get(part) or refs.badges.get(part.lower())
            if b is None:
                unknown.append(part)
            elif b.id not in ids:
                ids.append(b.id)
        if unknown:
            err("badges", "未知的标识：" + "、".join(unknown) + "。")
        else:
            fields["badge_ids"] = sorted(ids)
    certified = None
    if "certified" in values:
        try:
            certified = _parse_bool(values["certified"])
        except ValidationError as exc:
            err("certified", str(exc))
    if bad:
        errors.extend(bad)
        return None
    return _EntRow(line, uscc, fields, certified)


# ---- the import ---------------------------------------------------------------------------------

def _chunks(items: list, size: int = 500):
    for i in range(0, len(items), size):
        yield items[i:i + size]


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


def _enterprise_changes(ent: Enterprise | None, row: _EntRow) -> dict:
    """The fields of ``row`` that differ from ``ent`` (all of them for a new enterprise)."""
    if ent is None:
        return dict(row.fields)
    current = {
        "name": ent.name,
        "city_id": ent.city_id,
        "brands": [b.name for b in ent.brands],
        "industry_ids": sorted(i.id for i in ent.industries),
        "description": ent.description or "",
        "website": ent.website or "",
        "founded_year": ent.founded_year,
        "badge_ids": sorted(b.id for b in ent.badges),
    }
    return {k: v for k, v in row.fields.items() if current[k] != v}


def _will_certify(ent: Enterprise | None, row: _EntRow) -> bool:
    """Certify when the row says so and the stored status is not a deliberate staff decision."""
    if not row.certified:
        return False
    return ent is None or ent.status in (Status.DRAFT, Status.PENDING, Status.REJECTED, Status.EXPIRED)


def _apply_enterprise(ent: Enterprise, changes: dict, refs_by_id: dict) -> None:
    if "name" in changes:
        ent.name = changes["name"]
        ent.name_key = normalize_key(changes["name"])[:120]
        ent.name_sort = pinyin_sort_key(changes["name"])
    if "city_id" in changes:
        ent.city_id = changes["city_id"]
    if "brands" in changes:
        existing = {b.name_key: b for b in ent.brands}
        new_list = []
        for pos, name in enumerate(changes["brands"]):
            key = normalize_key(name)[:60]
            brand = existing.get(key) or Brand(name_key=key)
            brand.name = name
            brand.position = pos
            new_list.append(brand)
        ent.brands = new_list
    if "industry_ids" in changes:
        ent.industries = [refs_by_id["industry"][i] for i in changes["industry_ids"]]
    if "badge_ids" in changes:
        ent.badges = [refs_by_id["badge"][i] for i in changes["badge_ids"]]
    for key in ("description", "website", "founded_year"):
        if key in changes:
            setattr(ent, key, changes[key])


def _certificate_numbers(count: int, year: int) -> list[str]:
    """``count`` fresh numbers ``GDWS-<year>-<6 digits>`` not used by any stored certificate."""
    prefix = f"GDWS-{year}-"
    used = set(db.session.scalars(select(Certification.number).where(Certification.number.like(prefix + "%"))))
    if len(used) + count > 900_000:
        raise ValidationError(f"{year} 年的证书编号已用尽。")
    numbers: list[str] = []
    while len(numbers) < count:
        number = f"{prefix}{secrets.randbelow(1_000_000):06d}"
        if number not in used:
            used.add(number)
            numbers.append(number)
    return numbers


def run_import(enterprises: bytes | None, shops: bytes | None, *, dry_run: bool, actor=None,
               filenames: tuple[str, str] = ("enterprises.csv", "shops.csv"),
               progress: bool = False) -> ImportReport:
    """Validate and (unless ``dry_run``) apply an enterprises.csv and/or shops.csv upload.

    Returns an ``ImportReport``. With any error nothing is written; otherwise the changes are
    flushed (the caller commits). ``actor`` (a staff user or None for the CLI) is recorded in the
    audit log. ``progress`` shows a tqdm bar for large files (the CLI on a terminal).
    """
    started = time.perf_counter()
    report = ImportReport(dry_run=dry_run)
    bar = _Progress(progress)
    ent_name, shop_name = filenames
    if enterprises is None and shops is None:
        report.errors.append(RowError(ent_name, 0, "", "请至少提供 enterprises.csv 或 shops.csv 之一。"))
        return report

    refs = _Refs()
    errors = report.errors

    # 1. Parse and validate every enterprise row.
    ent_rows: list[_EntRow] = []
    listed_usccs: set[str] = set()  # every code in enterprises.csv, valid row or not
    if enterprises is not None:
        parsed = _read_rows(enterprises, ent_name, "enterprise", errors)
        if parsed is not None:
            rows, header = parsed
            first_line: dict[str, int] = {}
            for _line, values in rows:
                listed_usccs.add((values.get("uscc") or "").strip().upper())
            for line, values in bar(rows, len(rows), "检查企业"):
                row = _validate_enterprise(line, values, refs, header, ent_name, errors)
                if row is None:
                    continue
                if row.uscc in first_line:
                    errors.append(RowError(ent_name, line, header["uscc"],
                                           f"统一社会信用代码与第 {first_line[row.uscc]} 行重复。"))
                    continue
                first_line[row.uscc] = line
                ent_rows.append(row)

    with db.session.no_autoflush:
        existing = _load_enterprises([r.uscc for r in ent_rows])
        file_ents = {r.uscc: r for r in ent_rows}

        # 2. Parse and validate every shop row (needs the enterprises: file first, then database).
        shop_rows: list[_ShopRow] = []
        shop_header: dict[str, str] = {}
        if shops is not None:
            parsed = _read_rows(shops, shop_name, "shop", errors)
            if parsed is not None:
                rows, shop_header = parsed
                shop_usccs = set()
                for _line, values in rows:
                    try:
                        shop_usccs.add(normalize_uscc(values["uscc"]))
                    except ValidationError:
                        pass
                missing = [u for u in shop_usccs if u not in file_ents and u not in existing]
                existing.update(_load_enterprises(missing))
                first_url: dict[str, int] = {}
                for line, values in bar(rows, len(rows), "检查店铺"):
                    row = _validate_shop(line, values, refs, shop_header, shop_name, errors,
                                         file_ents, existing, listed_usccs, ent_name)
                    if row is None:
                        continue
                    if row.url in first_url:
                        errors.append(RowError(shop_name, line, shop_header["url"],
                                               f"店铺网址与第 {first_url[row.url]} 行重复。"))
                        continue
                    first_url[row.url] = line
                    shop_rows.append(row)
        stored_shops = _load_shops([r.url for r in shop_rows])
        for row in shop_rows:
            shop = stored_shops.get(row.url)
            target = existing.get(row.uscc)
            if shop is not None and (target is None or shop.enterprise_id != target.id):
                owner = db.session.get(Enterprise, shop.enterprise_id)
                errors.append(RowError(shop_name, row.line, shop_header["url"],
                                       f"该网址已登记在其他企业（{owner.name if owner else '未知'}）名下。"))
        if errors:
            report.seconds = time.perf_counter() - started
            return report

        # 3. Plan (and, unless a dry run, apply) the enterprise rows.
        refs_by_id = {
            "city": {c.id: c for c in refs.cities.values()},
            "industry": {i.id: i for i in refs.industries.values()},
            "badge": {b.id: b for b in refs.badges.values()},
        }
        now = utcnow()
        today = datetime.now(CHINA_TZ).date()
        valid_days = int(current_app.config["CERTIFICATE_VALID_DAYS"])
        certify_usccs: set[str] = set()
        plans = []
        for row in ent_rows:
            ent = existing.get(row.uscc)
            changes = _enterprise_changes(ent, row)
            certify = _will_certify(ent, row)
            if certify:
                certify_usccs.add(row.uscc)
            if ent is None:
                report.created["enterprise"] += 1
            elif changes or certify:
                report.updated["enterprise"] += 1
            else:
                report.unchanged["enterprise"] += 1
            plans.append((row, ent, changes, certify))
        report.certificates = len(certify_usccs)

        def final_status(uscc: str) -> str:
            if uscc in certify_usccs:
                return Status.CERTIFIED
            ent = existing.get(uscc)
            return ent.status if ent is not None else Status.DRAFT

        shop_plans = []
        for row in shop_rows:
            shop = stored_shops.get(row.url)
            status = final_status(row.uscc)
            shop_changes: dict = {}
            if shop is None:
                report.created["shop"] += 1
            else:
                if shop.name != row.name:
                    shop_changes["name"] = row.name
                if shop.platform_id != row.platform.id:
                    shop_changes["platform_id"] = row.platform.id
                if row.shop_type and shop.shop_type != row.shop_type:
                    shop_changes["shop_type"] = row.shop_type
                if status == Status.CERTIFIED and shop.status in (Status.DRAFT, Status.PENDING,
                                                                   Status.REJECTED, Status.EXPIRED):
                    shop_changes["status"] = Status.CERTIFIED
                if shop_changes:
                    report.updated["shop"] += 1
                else:
                    report.unchanged["shop"] += 1
            shop_plans.append((row, shop, shop_changes, status))

        if dry_run:
            report.seconds = time.perf_counter() - started
            return report

        # 4. Write. Changes to stored rows go through the ORM (the search outbox listener sees
        # them); new rows, the bulk of any large import, are inserted with Core executemany in
        # batches and queued for the search index explicitly (search_sync.enqueue).
        numbers = iter(_certificate_numbers(len(certify_usccs), today.year))
        audit: list[dict] = []
        actor_id = getattr(actor, "id", None)

        def audit_row(action: str, kind: str, entity_id, enterprise_id, before, after) -> dict:
            return {"at": now, "actor_id": actor_id, "action": action, "entity_kind": kind,
                    "entity_id": entity_id, "enterprise_id": enterprise_id, "before": before,
                    "after": after, "note": "CSV 导入"}

        def cert_after(after: dict, certify: bool) -> tuple[dict, str | None]:
            if not certify:
                return after, None
            number = next(numbers)
            return {**after, "status": Status.CERTIFIED, "certificate": number}, number

        ent_ids: dict[str, int] = {u: e.id for u, e in existing.items()}
        reindex: set[int] = set()
        new_plans = [(row, changes, certify) for row, ent, changes, certify in plans if ent is None]
        for row, ent, changes, certify in plans:
            if ent is None or not (changes or certify):
                continue
            _apply_enterprise(ent, changes, refs_by_id)
            after, number = cert_after(dict(changes), certify)
            if number:
                ent.status = Status.CERTIFIED
                ent.status_reason = ""
                ent.certified_at = now
                ent.certifications.append(Certification(number=number, issued_on=today,
                                                        valid_until=today + timedelta(days=valid_days)))
            audit.append(audit_row("import.enterprise_update", "enterprise", ent.id, ent.id, None, after))
        db.session.flush()

        ent_table, cert_table = Enterprise.__table__, Certification.__table__
        for chunk in bar.chunks(new_plans, BATCH, "写入企业"):
            values, extras = [], []
            for row, changes, certify in chunk:
                f = changes
                values.append({
                    "uscc": row.uscc, "name": f["name"], "name_key": normalize_key(f["name"])[:120],
                    "name_sort": pinyin_sort_key(f["name"]), "description": f.get("description", ""),
                    "website": f.get("website", ""), "founded_year": f.get("founded_year"),
                    "city_id": f["city_id"], "status": Status.CERTIFIED if certify else Status.DRAFT,
                    "status_reason": "", "owner_id": None, "source": "import", "click_count": 0,
                    "created_at": now, "updated_at": now, "certified_at": now if certify else None,
                })
                extras.append(cert_after(dict(changes), certify))
            result = db.session.execute(
                insert(ent_table).returning(ent_table.c.id, ent_table.c.uscc, sort_by_parameter_order=True),
                values)
            brands, inds, badges, certs = [], [], [], []
            for (ent_id, uscc), (row, changes, _certify), (after, number) in zip(result, chunk, extras):
                ent_ids[uscc] = ent_id
                reindex.add(ent_id)
                brands += [{"enterprise_id": ent_id, "name": b, "name_key": normalize_key(b)[:60], "position": i}
                           for i, b in enumerate(changes.get("brands", []))]
                inds += [{"enterprise_id": ent_id, "industry_id": i} for i in changes.get("industry_ids", [])]
                badges += [{"enterprise_id": ent_id, "badge_id": i} for i in changes.get("badge_ids", [])]
                if number:
                    certs.append({"enterprise_id": ent_id, "number": number, "issued_on": today,
                                  "valid_until": today + timedelta(days=valid_days), "status": "valid",
                                  "reason": "", "created_at": now})
                audit.append(audit_row("import.enterprise_create", "enterprise", ent_id, ent_id, None, after))
            for table, rows in ((Brand.__table__, brands), (enterprise_industry, inds),
                                (enterprise_badge, badges), (cert_table, certs)):
                if rows:
                    db.session.execute(insert(table), rows)

        new_shops = []
        for row, shop, shop_changes, status in shop_plans:
            if shop is None:
                new_shops.append((row, status))
            elif shop_changes:
                before = {k: getattr(shop, k) for k in shop_changes}
                for key, value in shop_changes.items():
                    setattr(shop, key, value)
                if shop_changes.get("status") == Status.CERTIFIED:
                    shop.certified_at = now
                    shop.status_reason = ""
                audit.append(audit_row("import.shop_update", "shop", shop.id, shop.enterprise_id, before,
                                       dict(shop_changes)))
        db.session.flush()

        shop_table = Shop.__table__
        for chunk in bar.chunks(new_shops, BATCH, "写入店铺"):
            values = []
            for row, status in chunk:
                shop_status = Status.CERTIFIED if status == Status.CERTIFIED else Status.DRAFT
                values.append({
                    "enterprise_id": ent_ids[row.uscc], "platform_id": row.platform.id, "name": row.name,
                    "url": row.url, "shop_type": row.shop_type or _default_shop_type(row.platform),
                    "status": shop_status, "status_reason": "", "click_count": 0, "created_at": now,
                    "updated_at": now, "certified_at": now if shop_status == Status.CERTIFIED else None,
                })
            result = db.session.execute(
                insert(shop_table).returning(shop_table.c.id, sort_by_parameter_order=True), values)
            for (shop_id,), value in zip(result, values):
                reindex.add(value["enterprise_id"])
                audit.append(audit_row("import.shop_create", "shop", shop_id, value["enterprise_id"], None,
                                       {"name": value["name"], "url": value["url"], "status": value["status"]}))

        for chunk in _chunks(audit, 2000):
            db.session.execute(insert(AuditLog), chunk)
        if report.created["enterprise"] or report.updated["enterprise"] or report.created["shop"] \
                or report.updated["shop"]:
            db.session.add(AuditLog(actor_id=actor_id, action="import.run", entity_kind="import",
                                    note="；".join(report.summary_lines()),
                                    after={"created": report.created, "updated": report.updated,
                                           "unchanged": report.unchanged}))
        db.session.flush()
        if reindex:
            _queue_reindex(sorted(reindex))
    report.seconds = time.perf_counter() - started
    return report


def _queue_reindex(enterprise_ids: list[int]) -> None:
    """Queue the enterprises (and with them their shops) that Core inserts touched for search."""
    try:
        from .. import search_sync
    except ImportError:  # pragma: no cover - the search bridge is part of the app
        return
    search_sync.enqueue("enterprise", enterprise_ids)


def _default_shop_type(platform: Platform) -> str:
    return ShopType.OFFICIAL if platform.is_own_site else ShopType.FLAGSHIP


def _validate_shop(line: int, values: dict, refs: _Refs, header: dict, fname: str,
                   errors: list[RowError], file_ents: dict[str, _EntRow],
                   existing: dict[str, Enterprise], listed_usccs: set[str],
                   ent_name: str) -> _ShopRow | None:
    """Check one shops.csv row; append every problem to ``errors``."""
    bad: list[RowError] = []

    def err(key: str, reason: str) -> None:
        bad.append(RowError(fname, line, header.get(key, key), reason))

    uscc = ""
    website = None
    try:
        uscc = normalize_uscc(values["uscc"])
        if uscc in file_ents:
            website = file_ents[uscc].fields.get("website")
            if website is None and uscc in existing:
                website = existing[uscc].website
        elif uscc in existing:
            website = existing[uscc].website
        elif uscc in listed_usccs:
            err("uscc", f"该企业在 {ent_name} 中的行有错误，请先修正该行。")
        else:
            err("uscc", f"找不到该统一社会信用代码对应的企业：请先在 {ent_name} 中列出该企业。")
    except ValidationError as exc:
        err("uscc", str(exc))
    raw_platform = values["platform"].strip()
    platform = refs.platforms.get(raw_platform.lower())
    if platform is None:
        err("platform", f"未知的平台「{raw_platform}」。" if raw_platform else "请填写平台。")
    name = ""
    try:
        name = clean_text(values["name"], field="店铺名称", max_length=120, required=True)
    except ValidationError as exc:
        err("name", str(exc))
    url = ""
    if platform is not None:
        try:
            if platform.is_own_site and not website and not bad:
                raise ValidationError("企业自建商城的网址需与企业官网同一域名，请先填写企业官网。")
            url = validate_shop_url(values["url"], refs.platform_hosts[platform.id],
                                    platform_name=platform.name, own_site_domain=website or None)
        except ValidationError as exc:
            err("url", str(exc))
    shop_type = None
    raw_type = values.get("shop_type", "").strip()
    if raw_type:
        if raw_type not in ShopType.ALL:
            err("shop_type", "店铺类型应为 " + "、".join(ShopType.ALL) + " 之一。")
        else:
            shop_type = raw_type
    if bad:
        errors.extend(bad)
        return None
    return _ShopRow(line, uscc, platform, name, url, shop_type)


# ---- export -------------------------------------------------------------------------------------

def neutralise_cell(value) -> str:
    """Make a cell safe for spreadsheets: a leading = + - @ tab or CR gets an apostrophe."""
    text = "" if value is None else str(value)
    if _needs_apostrophe(text):  # also "'=x" typed literally, so the import's undo is exact
        return "'" + text
    return text


def _csv_bytes(header: tuple[str, ...], rows) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise_cell(v) for v in row])
    return "\ufeff".encode("utf-8") + buf.getvalue().encode("utf-8")


def export_enterprises_csv(rows) -> bytes:
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

    return _csv_bytes(ENTERPRISE_COLUMNS, (cells(e) for e in rows))


def export_shops_csv(rows) -> bytes:
    """Shops as shops.csv bytes (UTF-8 with BOM, formula cells neutralised); ``rows`` are ``Shop``."""
    return _csv_bytes(SHOP_COLUMNS, (
        (s.enterprise.uscc, s.platform.slug, s.name, s.url, s.shop_type) for s in rows
    ))


# ---- CLI ----------------------------------------------------------------------------------------

def register_cli(app: Flask) -> None:
    """Add ``flask import-data``."""

    @app.cli.command("import-data")
    @click.option("--enterprises", "enterprises_path", type=click.Path(exists=True, dir_okay=False),
                  help="enterprises.csv")
    @click.option("--shops", "shops_path", type=click.Path(exists=True, dir_okay=False), help="shops.csv")
    @click.option("--dry-run", is_flag=True, help="只检查并报告，不写入数据库。")
    def import_data_command(enterprises_path, shops_path, dry_run):
        """Import enterprises.csv and/or shops.csv (all rows or nothing)."""
        if not enterprises_path and not shops_path:
            raise click.UsageError("请用 --enterprises 和/或 --shops 指定文件。")
        import os
        from pathlib import Path

        ent_bytes = Path(enterprises_path).read_bytes() if enterprises_path else None
        shop_bytes = Path(shops_path).read_bytes() if shops_path else None
        names = (os.path.basename(enterprises_path or "enterprises.csv"),
                 os.path.basename(shops_path or "shops.csv"))
        started = time.perf_counter()
        report = run_import(ent_bytes, shop_bytes, dry_run=dry_run, filenames=names,
                            progress=sys.stderr.isatty())
        if not report.ok:
            db.session.rollback()
            click.echo(f"导入被拒绝：发现 {len(report.errors)} 处错误，未写入任何数据。", err=True)
            for error in report.errors:
                click.echo("  " + str(error), err=True)
            raise SystemExit(1)
        if dry_run:
            db.session.rollback()
            click.echo("试运行（--dry-run）：检查通过，未写入任何数据。以下为将要进行的变更：")
        else:
            db.session.commit()
            click.echo("导入完成。")
        for line in report.summary_lines():
            click.echo("  " + line)
        if report.certificates:
            click.echo(f"  颁发证书：{report.certificates}")
        click.echo(f"用时 {time.perf_counter() - started:.1f} 秒。")
