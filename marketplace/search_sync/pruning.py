"""Pruning the search outbox: applier heartbeats, the periodic prune, and the rebuild of a
machine that was away longer than the retention.

Why: every change writes an outbox row and nothing else ever deletes one, so the table grows
forever. A row may only go once every machine's index has applied it, and the newest row must
stay, because its id is the directory version the caches key on (``directory_version``).

* **Heartbeats.** After each applier pass and each rebuild, the machine (host name + index
  directory, so two appliers on one host are two machines) upserts its checkpoint.
* **Prune** (``prune``, run hourly by the applier and by ``flask search prune``): deletes rows
  at or below the lowest checkpoint of the machines seen within the retention, that are older
  than the retention, and below the head. ``OutboxPruned`` records how far it went.
* **Away too long.** A machine not seen within the retention does not hold pruning back. When
  it comes back, its checkpoint is below what was pruned, so rows it never applied are gone:
  ``needs_rebuild`` tells the applier to rebuild its index from the database.
"""
from __future__ import annotations

import socket
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from search_index import SearchEngine

from ..clock import utc_now
from ..models import OutboxPruned, SearchApplierHeartbeat, SearchOutbox


class PruneReport(NamedTuple):
    deleted: int
    through_id: int
    live_machines: int


def machine_name(engine: SearchEngine) -> str:
    """This machine's heartbeat key: the configured name (default: host name) + index directory."""
    host = current_app.config["SEARCH_MACHINE_NAME"] or socket.gethostname()
    return f"{host}:{engine.root}"[-200:]


def record_heartbeat(session: Session, engine: SearchEngine, checkpoint: int) -> None:
    """Upsert this machine's checkpoint (its own short transaction in the applier's session)."""
    row = session.get(SearchApplierHeartbeat, machine_name(engine))
    if row is None:
        session.add(SearchApplierHeartbeat(machine=machine_name(engine), checkpoint=checkpoint, seen_at=utc_now()))
    else:
        row.checkpoint, row.seen_at = checkpoint, utc_now()
    session.commit()


def pruned_through(session: Session) -> int:
    """Outbox ids up to this one have been deleted (0 when nothing was ever pruned)."""
    row = session.get(OutboxPruned, 1)
    return row.through_id if row else 0


def needs_rebuild(session: Session, checkpoint: int) -> bool:
    """True when rows past ``checkpoint`` were pruned before this machine applied them."""
    return checkpoint < pruned_through(session)


def _retention() -> timedelta:
    return timedelta(days=max(1, int(current_app.config["SEARCH_OUTBOX_RETENTION_DAYS"])))


def prune(session: Session) -> PruneReport:
    """Delete the outbox rows every live machine has applied and that are older than the
    retention, keeping the head row. Safe to run repeatedly and from several machines."""
    cutoff = utc_now() - _retention()
    live = session.scalars(select(SearchApplierHeartbeat.checkpoint)
                           .where(SearchApplierHeartbeat.seen_at >= cutoff)).all()
    head = session.scalar(select(func.max(SearchOutbox.id))) or 0
    if not live or not head:
        return PruneReport(0, pruned_through(session), len(live))
    bound = session.scalar(select(func.max(SearchOutbox.id)).where(
        SearchOutbox.id <= min(live), SearchOutbox.id < head, SearchOutbox.created_at < cutoff))
    if not bound or bound <= pruned_through(session):
        session.rollback()
        return PruneReport(0, pruned_through(session), len(live))
    deleted = session.execute(delete(SearchOutbox).where(SearchOutbox.id <= bound)).rowcount
    marker = session.get(OutboxPruned, 1)
    if marker is None:
        session.add(OutboxPruned(id=1, through_id=bound, pruned_at=utc_now()))
    else:
        marker.through_id, marker.pruned_at = max(marker.through_id, bound), utc_now()
    session.commit()
    return PruneReport(deleted, bound, len(live))


def upkeep(session: Session, engine: SearchEngine) -> PruneReport:
    """The applier's hourly turn: say this machine is alive (even when idle), then prune."""
    record_heartbeat(session, engine, engine.checkpoint())
    return prune(session)
