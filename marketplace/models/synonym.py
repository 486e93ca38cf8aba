"""Search synonyms staff edit in the console, applied to every search at query time."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utc_now
from ..extensions import db


SEP = ";"


class SynonymKind:
    """Elasticsearch's two synonym shapes (Algolia's regular and one-way synonyms)."""

    GROUP = "group"  # 冰箱, 雪柜: every word finds the others
    ONEWAY = "oneway"  # 水果 => 荔枝, 龙眼: the words on the left also find those on the right
    LABELS = {GROUP: "同义词组（双向）", ONEWAY: "单向扩展"}


class SynonymCategory:
    CANTONESE = "粤语"
    COLLOQUIAL = "俗称"
    CATEGORY = "品类"
    OTHER = "其他"
    ALL = (CANTONESE, COLLOQUIAL, CATEGORY, OTHER)


class SearchSynonym(db.Model):
    """One synonym rule. ``terms``: the words of a group, or the words people type (one-way);
    ``targets``: what a one-way rule also searches for (empty for a group); both are stored as
    ``;``-separated text (searchable with LIKE on every database). Rows are switched off rather
    than deleted, so the audit log and the shipped list's seeding stay consistent."""

    __tablename__ = "search_synonym"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default=SynonymKind.GROUP)
    terms: Mapped[str] = mapped_column(Text, default="")
    targets: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(10), default=SynonymCategory.OTHER, index=True)
    note: Mapped[str] = mapped_column(String(300), default="")  # source or reason
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    seed_key: Mapped[str | None] = mapped_column(String(20), unique=True)  # row of the shipped list
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, index=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    updated_by = relationship("User")

    @property
    def term_list(self) -> list[str]:
        return [t for t in (self.terms or "").split(SEP) if t]

    @property
    def target_list(self) -> list[str]:
        return [t for t in (self.targets or "").split(SEP) if t]

    @property
    def kind_label(self) -> str:
        return SynonymKind.LABELS.get(self.kind, self.kind)

    def snapshot(self) -> dict:
        """The editable fields, for the audit log's before/after."""
        return {"kind": self.kind, "terms": self.term_list, "targets": self.target_list,
                "category": self.category, "note": self.note, "active": bool(self.active)}

    def __repr__(self) -> str:
        return f"<SearchSynonym {self.id} {self.kind} {self.terms}>"
