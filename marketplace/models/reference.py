"""Reference data: cities, industries, platforms and badges (editable by staff)."""
from __future__ import annotations

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class City(db.Model):
    """One of Guangdong's 21 prefecture-level cities, with its region group."""

    __tablename__ = "city"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(20), unique=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    region: Mapped[str] = mapped_column(String(10), index=True)  # 珠三角 / 粤东 / 粤西 / 粤北
    position: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def full_name(self) -> str:
        return self.name + "市"

    def __repr__(self) -> str:
        return f"<City {self.name}>"


class Industry(db.Model):
    """An industry enterprises belong to; the list is edited by staff."""

    __tablename__ = "industry"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"<Industry {self.name}>"


class Platform(db.Model):
    """An e-commerce platform; ``hosts`` lists the hosts its shop pages use (``;``-separated).

    A platform with no hosts (企业自建商城) accepts an enterprise's own domain.
    """

    __tablename__ = "platform"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    homepage: Mapped[str] = mapped_column(String(300), default="")
    hosts: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def host_list(self) -> list[str]:
        return [h.strip().lower() for h in self.hosts.split(";") if h.strip()]

    @property
    def is_own_site(self) -> bool:
        return not self.host_list

    def __repr__(self) -> str:
        return f"<Platform {self.slug}>"


class Badge(db.Model):
    """An honour staff grant to enterprises, such as 中华老字号."""

    __tablename__ = "badge"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<Badge {self.name}>"
