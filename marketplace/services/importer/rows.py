"""Validating import rows: one enterprises.csv / shops.csv row becomes an ``_EntRow`` / ``_ShopRow``
or a list of ``RowError`` (every problem in the row, in Chinese).

Pure checks against cached reference data (``_Refs``); nothing is written here.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ...clock import china_today
from ...extensions import db
from ...models import Badge, City, Enterprise, Industry, Platform, ShopType
from ...validation import ValidationError
from ...validation.text import clean_text, normalize_key, split_list
from ...validation.urls import normalize_url, validate_shop_url
from ...validation.uscc import normalize_uscc
from .report import RowError, clip, clip_list

TRUE_WORDS = {"是", "yes", "y", "1", "true", "t", "已认证", "认证", "√", "✓"}
FALSE_WORDS = {"否", "no", "n", "0", "false", "f", "未认证", "", "×"}
MAX_BRANDS = 10


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
    if year < 1800 or year > china_today().year:
        raise ValidationError(f"成立年份 {year} 不在合理范围内。")
    return year


def _resolve_names(cell: str, table: dict) -> tuple[list[int], list[str]]:
    """Ids (in first-seen order, no repeats) of the names in a list cell, looked up by name or
    lower-cased slug in ``table``, plus the names that matched nothing."""
    ids: list[int] = []
    unknown: list[str] = []
    for part in split_list(cell):
        row = table.get(part) or table.get(part.lower())
        if row is None:
            unknown.append(part)
        elif row.id not in ids:
            ids.append(row.id)
    return ids, unknown


def _parse_brands(raw: str) -> list[str]:
    """A brands cell: distinct names (compared as search keys), at most ``MAX_BRANDS``."""
    brands: list[str] = []
    keys: set[str] = set()
    for part in split_list(raw):
        name = clean_text(part, field="品牌", max_length=60, required=True)
        if normalize_key(name) not in keys:
            keys.add(normalize_key(name))
            brands.append(name)
    if len(brands) > MAX_BRANDS:
        raise ValidationError(f"品牌最多 {MAX_BRANDS} 个。")
    return brands


def _parse_website(raw: str) -> str:
    raw = raw.strip()
    return normalize_url(raw, field="官网") if raw else ""


# Optional enterprises.csv columns parsed cell by cell: column -> (field, parser).
_OPTIONAL_CELLS = {
    "brands": ("brands", _parse_brands),
    "description": ("description",
                    lambda raw: clean_text(raw, field="简介", max_length=5000, multiline=True)),
    "website": ("website", _parse_website),
    "founded": ("founded_year", lambda raw: _parse_year(raw)),
}


def _city_problem(raw: str) -> str:
    raw = raw.strip()
    if not raw:
        return "请填写城市。"
    return f"未知的城市「{clip(raw, 30)}」：应为广东省 21 个地级市之一（如 佛山 或 佛山市，或 6 位代码）。"


def _validate_enterprise(line: int, values: dict, refs: _Refs, header: dict, fname: str,
                         errors: list[RowError]) -> _EntRow | None:
    """Check one enterprises.csv row; append every problem to ``errors``."""
    bad: list[RowError] = []
    fields: dict = {}

    def err(key: str, reason: str) -> None:
        bad.append(RowError(fname, line, header.get(key, key), reason, values.get(key, "")))

    def parse(key: str, field: str, parser) -> None:
        try:
            fields[field] = parser(values[key])
        except ValidationError as exc:
            err(key, str(exc))

    def resolve(key: str, table: dict, field: str, label: str) -> None:
        """A cell listing reference names: their sorted ids into ``fields``, or one error that
        names every unknown one."""
        ids, unknown = _resolve_names(values[key], table)
        if unknown:
            err(key, f"未知的{label}：{clip_list(unknown)}。")
        else:
            fields[field] = sorted(ids)

    parse("uscc", "uscc", normalize_uscc)
    parse("name", "name", lambda raw: clean_text(raw, field="企业名称", max_length=120, required=True))
    city = refs.cities.get(values["city"].strip()) or refs.cities.get(values["city"].strip().lower())
    if city is None:
        err("city", _city_problem(values["city"]))
    else:
        fields["city_id"] = city.id
    for key, (field, parser) in _OPTIONAL_CELLS.items():
        if key in values:
            parse(key, field, parser)
    if "industries" in values:
        resolve("industries", refs.industries, "industry_ids", "行业")
    if "badges" in values:
        resolve("badges", refs.badges, "badge_ids", "标识")
    if "certified" in values:
        parse("certified", "certified", _parse_bool)
    if bad:
        errors.extend(bad)
        return None
    uscc, certified = fields.pop("uscc"), fields.pop("certified", None)
    return _EntRow(line, uscc, fields, certified)


def _default_shop_type(platform: Platform) -> str:
    return ShopType.OFFICIAL if platform.is_own_site else ShopType.FLAGSHIP


def _validate_shop(line: int, values: dict, refs: _Refs, header: dict, fname: str,
                   errors: list[RowError], file_ents: dict[str, _EntRow],
                   existing: dict[str, Enterprise], listed_usccs: set[str],
                   ent_name: str) -> _ShopRow | None:
    """Check one shops.csv row; append every problem to ``errors``."""
    bad: list[RowError] = []

    def err(key: str, reason: str) -> None:
        bad.append(RowError(fname, line, header.get(key, key), reason, values.get(key, "")))

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
        err("platform", f"未知的平台「{clip(raw_platform, 30)}」。" if raw_platform else "请填写平台。")
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
