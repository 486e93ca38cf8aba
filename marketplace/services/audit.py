"""The audit log: an append-only trace of staff decisions and listing changes.

Entries that change a listing's certification also become events of the changes feed
(``services.changes``) when their transaction commits: ``record`` through the flush listener,
``record_many`` by naming its rows.
"""
from __future__ import annotations

from sqlalchemy import insert

from .. import clock
from ..extensions import db
from ..models import AuditLog
from .changes import note_audit_ids


def record(action: str, *, actor=None, entity_kind: str, entity_id: int | None = None,
           enterprise_id: int | None = None, before: dict | None = None, after: dict | None = None,
           note: str = "") -> AuditLog:
    """Add one audit entry in the current transaction (it commits or rolls back with the change)."""
    entry = AuditLog(at=clock.utc_now(), action=action, actor_id=getattr(actor, "id", None), entity_kind=entity_kind,
                     entity_id=entity_id, enterprise_id=enterprise_id, before=before, after=after,
                     note=note)
    db.session.add(entry)
    return entry


def record_many(rows: list[dict]) -> None:
    """Insert many audit entries (dicts of ``AuditLog`` columns) with one Core statement, for bulk
    jobs such as the importer; they become changes-feed events like ``record``'s."""
    if not rows:
        return
    ids = db.session.scalars(insert(AuditLog).returning(AuditLog.id, sort_by_parameter_order=True), rows).all()
    note_audit_ids(ids)
