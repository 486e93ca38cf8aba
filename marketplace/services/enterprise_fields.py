"""One way to write the editable fields onto an Enterprise row.

The merchant's direct edit (listings), the staff approval of an ``enterprise_edit`` application
(review) and the CSV import update (importer) all call ``apply_enterprise_fields`` so the same
change stores the same data whichever path it takes. The key helpers are also used by the
importer's bulk insert of new rows.
"""
from __future__ import annotations

from sqlalchemy import inspect, select

from ..extensions import db
from ..models import Brand, City, Enterprise, Industry, Shop
from ..validation.text import normalize_key, pinyin_sort_key
from . import ServiceError

NAME_KEY_LENGTH = Enterprise.__table__.c.name_key.type.length or 120
BRAND_KEY_LENGTH = Brand.__table__.c.name_key.type.length or 60
SCALAR_FIELDS = ("description", "website", "founded_year", "logo_sha256", "service_phone", "service_hours", "address")


def enterprise_name_key(name: str) -> str:
    """The stored comparison key of an enterprise name, cut to the column length."""
    return normalize_key(name)[:NAME_KEY_LENGTH]


def brand_key(name: str) -> str:
    """The stored comparison key of a brand name, cut to the column length."""
    return normalize_key(name)[:BRAND_KEY_LENGTH]


def unique_brands(names) -> list[tuple[str, str]]:
    """``(name, key)`` pairs in the given order, without empty names and duplicate keys.

    Duplicates are compared on the stored (cut) key, so two names can never collide on the
    ``UNIQUE(enterprise_id, name_key)`` constraint.
    """
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name in names or []:
        name = (name or "").strip()
        key = brand_key(name)
        if key and key not in seen:
            seen.add(key)
            out.append((name, key))
    return out


def enterprise_snapshot(ent: Enterprise) -> dict:
    """The editable fields of an enterprise in payload form: what an edit application carries,
    what diffs compare against and what the audit log records.

    Industries are listed in their display order (position, then id) whether the relationship
    was loaded from the database or just assigned, so two snapshots compare equal exactly when
    the same industries are chosen.
    """
    return {
        "name": ent.name,
        "brands": list(ent.brand_names),
        "city_id": ent.city.id if ent.city is not None else ent.city_id,
        "industry_ids": [i.id for i in sorted(ent.industries, key=lambda i: (i.position, i.id))],
        "description": ent.description or "",
        "website": ent.website or "",
        "founded_year": ent.founded_year,
        "logo_sha256": ent.logo_sha256,
        "service_phone": ent.service_phone or "",
        "service_hours": ent.service_hours or "",
        "address": ent.address or "",
    }


def shop_snapshot(shop: Shop) -> dict:
    """The editable fields of a shop in payload form (diffs, edit applications, the audit log)."""
    return {"name": shop.name, "url": shop.url, "shop_type": shop.shop_type, "platform_id": shop.platform_id}


def _set_brands(ent: Enterprise, names) -> None:
    wanted = unique_brands(names)
    existing: dict[str, Brand] = {}
    for brand in ent.brands:
        existing.setdefault((brand.name_key or "")[:BRAND_KEY_LENGTH], brand)
    wanted_keys = {key for _name, key in wanted}
    reused = [b for k, b in existing.items() if k in wanted_keys]
    removed = len(reused) != len(ent.brands)
    if removed and inspect(ent).persistent:
        # Delete the dropped rows first: the unit of work inserts before it deletes, and a
        # reused row's key may be re-cut, so never let old and new rows meet on the constraint.
        ent.brands = reused
        db.session.flush()
    keep: list[Brand] = []
    for pos, (name, key) in enumerate(wanted):
        brand = existing.get(key)
        if brand is None:
            brand = Brand(name=name, name_key=key)
        brand.name = name
        brand.name_key = key
        brand.position = pos
        keep.append(brand)
    ent.brands = keep


def apply_enterprise_fields(ent: Enterprise, fields: dict, *,
                            industries_by_id: dict[int, Industry] | None = None) -> dict:
    """Write ``fields`` (any of name, brands, city_id, industry_ids, description, website,
    founded_year, logo_sha256, service_phone, service_hours, address) onto ``ent``; return ``{"before": ..., "after": ...}`` of the
    fields that actually changed, for the audit log.

    Rules: name also sets name_key (cut to 120) and name_sort; brands keep their order, drop
    empties and duplicate keys, reuse the existing Brand row of an unchanged key (so it keeps its
    id) and renumber positions; a city or industry id that does not exist raises
    ``ServiceError`` instead of being dropped silently. ``industries_by_id`` lets a bulk caller
    (the importer) pass the rows it already loaded.
    """
    known = [k for k in ("name", "brands", "city_id", "industry_ids", *SCALAR_FIELDS) if k in fields]
    before = {k: v for k, v in enterprise_snapshot(ent).items() if k in known}
    if "city_id" in fields:
        city = db.session.get(City, fields["city_id"]) if fields["city_id"] is not None else None
        if city is None:
            raise ServiceError("变更中的城市不存在。")
    if "industry_ids" in fields:
        ids = list(dict.fromkeys(int(i) for i in fields["industry_ids"] or []))
        if industries_by_id is not None and all(i in industries_by_id for i in ids):
            by_id = {i: industries_by_id[i] for i in ids}
        else:
            by_id = {ind.id: ind for ind in db.session.scalars(
                select(Industry).where(Industry.id.in_(ids or [-1])))}
        if len(by_id) != len(ids):
            raise ServiceError("变更中的行业不存在。")
    if "name" in fields:
        ent.name = fields["name"]
        ent.name_key = enterprise_name_key(fields["name"])
        ent.name_sort = pinyin_sort_key(fields["name"])
    if "brands" in fields:
        _set_brands(ent, fields["brands"])
    if "city_id" in fields:
        ent.city = city
        ent.city_id = city.id
    if "industry_ids" in fields:
        ent.industries = [by_id[i] for i in ids]
    for key in SCALAR_FIELDS:
        if key in fields:
            setattr(ent, key, fields[key])
    after = {k: v for k, v in enterprise_snapshot(ent).items() if k in known}
    changed = [k for k in known if before[k] != after[k]]
    return {"before": {k: before[k] for k in changed}, "after": {k: after[k] for k in changed}}
