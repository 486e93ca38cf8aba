"""Load the reference data shipped in ``marketplace/data`` (cities, industries, platforms, badges).

Idempotent: existing rows (matched by slug) are left as staff edited them; only missing rows are
added. ``lookup_*`` helpers resolve the many ways CSV files name a city or a platform.
"""
from __future__ import annotations

from sqlalchemy import select

from ..data import rows
from ..extensions import db
from ..models import Badge, City, Industry, Platform


def seed_reference_data() -> dict[str, int]:
    """Insert missing cities, industries, platforms and badges; return how many were added."""
    added = {"city": 0, "industry": 0, "platform": 0, "badge": 0}
    existing = set(db.session.scalars(select(City.slug)))
    for pos, row in enumerate(rows("cities.csv")):
        if row["slug"] not in existing:
            db.session.add(City(code=row["code"], name=row["name"], slug=row["slug"],
                                region=row["region"], position=pos))
            added["city"] += 1
    existing = set(db.session.scalars(select(Industry.slug)))
    for pos, row in enumerate(rows("industries.csv")):
        if row["slug"] not in existing:
            db.session.add(Industry(name=row["name"], slug=row["slug"], position=pos))
            added["industry"] += 1
    existing = set(db.session.scalars(select(Platform.slug)))
    for pos, row in enumerate(rows("platforms.csv")):
        if row["slug"] not in existing:
            db.session.add(Platform(name=row["name"], slug=row["slug"], kind=row["kind"],
                                    hosts=row["hosts"], homepage=row["homepage"],
                                    description=row["description"], position=pos))
            added["platform"] += 1
    existing = set(db.session.scalars(select(Badge.slug)))
    for pos, row in enumerate(rows("badges.csv")):
        if row["slug"] not in existing:
            db.session.add(Badge(name=row["name"], slug=row["slug"], description=row["description"],
                                 position=pos))
            added["badge"] += 1
    db.session.flush()
    return added


REGIONS = ("珠三角", "粤东", "粤西", "粤北")


def lookup_city(value: str) -> City | None:
    """Find a city by name (``佛山`` or ``佛山市``), slug, or 6-digit code."""
    value = (value or "").strip()
    if not value:
        return None
    name = value[:-1] if value.endswith("市") else value
    return db.session.scalar(
        select(City).where((City.name == name) | (City.code == value) | (City.slug == value.lower()))
    )


def lookup_platform(value: str) -> Platform | None:
    """Find a platform by name or slug (case-insensitive)."""
    value = (value or "").strip()
    if not value:
        return None
    return db.session.scalar(
        select(Platform).where((Platform.name == value) | (Platform.slug == value.lower()))
    )


def lookup_industry(value: str) -> Industry | None:
    value = (value or "").strip()
    if not value:
        return None
    return db.session.scalar(
        select(Industry).where((Industry.name == value) | (Industry.slug == value.lower()))
    )


def lookup_badge(value: str) -> Badge | None:
    value = (value or "").strip()
    if not value:
        return None
    return db.session.scalar(select(Badge).where((Badge.name == value) | (Badge.slug == value.lower())))
