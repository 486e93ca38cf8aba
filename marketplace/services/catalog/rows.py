"""Plain frozen copies of industries, cities, badges and platforms (safe to cache across sessions)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IndustryRow:
    id: int
    name: str
    slug: str
    position: int


@dataclass(frozen=True)
class BadgeRow:
    id: int
    name: str
    slug: str
    description: str
    position: int


@dataclass(frozen=True)
class CityRow:
    id: int
    name: str
    slug: str
    region: str
    code: str
    position: int

    @property
    def full_name(self) -> str:
        return self.name + "市"


@dataclass(frozen=True)
class PlatformRow:
    id: int
    name: str
    slug: str
    kind: str
    description: str
    homepage: str
    position: int
