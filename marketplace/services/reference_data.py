"""Load the reference data shipped in ``marketplace/data`` (cities, industries, platforms, badges).

Idempotent: existing rows (matched by slug) are left as staff edited them; only missing rows are
added.
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
