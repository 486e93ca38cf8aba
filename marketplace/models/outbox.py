"""The search outbox: one row per change to an indexed entity, written in the same transaction.

The index applier (``marketplace.search_sync``) reads rows past its checkpoint and re-indexes
each entity from its current database state, so replays are harmless.

Because every change to public data (enterprise, shop, brand, platform, certificate, industry,
badge, featured slot) writes a row in its own transaction, the highest id is also the version of
the directory: ``directory_version()`` is what the applier and the API's Last-Modified key on.
The same table carries the *page rows* (``page_ent`` / ``page_lists`` / ``page_all``, see
``marketplace/page_changes.py``) that tell the page cache and the catalog cache which pages and
aggregates a change alters; the applier skips them.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import BigId
from ..clock import utc_now


class SearchOutbox(db.Model):
    __tablename__ = "search_outbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(12))  # enterprise / shop / platform; synonym, event, news, page_* (no document)
    entity_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)


def directory_version(session=None) -> int:
    """The outbox head: the highest id, 0 when empty. It grows with every change to public data."""
    return int((session or db.session).scalar(select(func.max(SearchOutbox.id))) or 0)


def directory_changed_at():
    """A scalar subquery: when the newest outbox row (the directory's current version) was written."""
    return select(SearchOutbox.created_at).order_by(SearchOutbox.id.desc()).limit(1).scalar_subquery()
