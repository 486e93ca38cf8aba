"""The search outbox: one row per change to an indexed entity, written in the same transaction.

The index applier (``marketplace.search_sync``) reads rows past its checkpoint and re-indexes
each entity from its current database state, so replays are harmless.

Because every change to public data (enterprise, shop, brand, platform, certificate, industry,
badge, featured slot) writes a row in its own transaction, the highest id is also the version of
the directory: ``directory_version()`` is what the applier and the API's Last-Modified key on.
The same table carries the *page rows* (``page_ent`` / ``page_lists`` / ``page_all``, see
``marketplace/page_changes.py``) that tell the page cache and the catalog cache which pages and
aggregates a change alters; the applier skips them.

Each applier (one per machine, i.e. per index directory) keeps a heartbeat row with its
checkpoint, so the periodic prune (``search_sync.pruning``) knows which rows every live machine
has applied; ``OutboxPruned`` remembers how far rows were deleted, so a machine that was away
longer than the retention knows it missed rows and rebuilds.
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


class SearchApplierHeartbeat(db.Model):
    """One row per machine's applier: the checkpoint its index has reached, and when."""

    __tablename__ = "search_applier_heartbeat"
    machine: Mapped[str] = mapped_column(String(200), primary_key=True)  # host name + index directory
    checkpoint: Mapped[int] = mapped_column(BigId)
    seen_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)


class OutboxPruned(db.Model):
    """A single row (id 1): outbox rows up to ``through_id`` have been deleted."""

    __tablename__ = "search_outbox_pruned"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    through_id: Mapped[int] = mapped_column(BigId)
    pruned_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)


def directory_version(session=None) -> int:
    """The outbox head: the highest id, 0 when empty. It grows with every change to public data."""
    return int((session or db.session).scalar(select(func.max(SearchOutbox.id))) or 0)


def directory_changed_at():
    """A scalar subquery: when the newest outbox row (the directory's current version) was written."""
    return select(SearchOutbox.created_at).order_by(SearchOutbox.id.desc()).limit(1).scalar_subquery()
