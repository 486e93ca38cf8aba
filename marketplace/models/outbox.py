"""The search outbox: one row per change to an indexed entity, written in the same transaction.

The index applier (``marketplace.search_sync``) reads rows past its checkpoint and re-indexes
each entity from its current database state, so replays are harmless.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import BigId, utcnow


class SearchOutbox(db.Model):
    __tablename__ = "search_outbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(12))  # enterprise / shop / platform; event (no document)
    entity_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
