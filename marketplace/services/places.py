"""Guangdong's places: the 21 prefecture-level cities and 122 county-level divisions.

Read once from ``marketplace/data/places.csv`` (shipped with the code; staff do not edit it):

* ``code`` – the GB/T 2260 code (2023 edition of the National Bureau of Statistics'
  统计用区划代码, which follows GB/T 2260); ``former_codes`` – codes of divisions merged into this
  one since 2012 (萝岗区 440116 into 黄埔区 440112 ...), which older 统一社会信用代码 still carry;
* ``name`` / ``short_name`` – 番禺区 / 番禺 (汕尾's 城区 is written 汕尾城区, the bare word being
  too common); ``level`` – 地级市, 市辖区, 县级市, 县 or 自治县; ``city_code`` – its prefecture;
* ``nicknames`` (on city rows) – 羊城, 鹏城, 鹅城 ...; ``towns`` – well-known towns and
  localities (乐从, 虎门, 古镇, 华强北 ...; 东莞 and 中山 have no districts, so their towns sit on
  the city row). Names shared by towns of several districts or by everyday words are left out.

Two uses: an enterprise's district comes from the area part of its 统一社会信用代码 (characters
3-8) and is indexed, so ``番禺`` finds the enterprises registered there; and the search turns
nicknames, towns and pinyin (``gz``, ``shunde``) into the names documents carry.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..validation.uscc import area_code

PLACES_FILE = Path(__file__).resolve().parent.parent / "data" / "places.csv"
CITY_LEVEL = "地级市"


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(";") if v.strip())


@dataclass(frozen=True)
class Place:
    """One row of ``places.csv``."""

    code: str
    name: str
    short_name: str
    level: str
    city_code: str
    nicknames: tuple[str, ...]
    towns: tuple[str, ...]
    former_codes: tuple[str, ...]

    @property
    def is_city(self) -> bool:
        return self.level == CITY_LEVEL

    @property
    def search_names(self) -> list[str]:
        """The names a document registered here carries (full and short, 汕尾城区 alone)."""
        return list(dict.fromkeys(n for n in (self.name, self.short_name) if n != "城区"))


@lru_cache(maxsize=1)
def all_places() -> tuple[Place, ...]:
    """Every row of the places table, cities first within each city."""
    with open(PLACES_FILE, encoding="utf-8") as fh:
        return tuple(Place(code=r["code"], name=r["name"], short_name=r["short_name"], level=r["level"],
                           city_code=r["city_code"], nicknames=_split(r["nicknames"]),
                           towns=_split(r["towns"]), former_codes=_split(r["former_codes"]))
                     for r in csv.DictReader(fh))


@lru_cache(maxsize=1)
def _by_code() -> dict[str, Place]:
    out: dict[str, Place] = {}
    for p in all_places():
        out[p.code] = p
        for old in p.former_codes:
            out.setdefault(old, p)
    return out


def county_levels() -> list[Place]:
    """The county-level divisions (districts, county-level cities, counties)."""
    return [p for p in all_places() if not p.is_city]


def place_by_code(code: str) -> Place | None:
    """The place with this GB/T 2260 code (a former code gives today's division)."""
    return _by_code().get(code or "")


def district_for_uscc(uscc: str) -> Place | None:
    """The county-level division a 统一社会信用代码 was issued in, or None (a code issued at city
    level such as 440100, outside Guangdong, or not a known division)."""
    place = place_by_code(area_code(uscc or ""))
    return place if place is not None and not place.is_city else None
