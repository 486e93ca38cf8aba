"""The audit log: an append-only trace of staff decisions and listing changes."""
from __future__ import annotations

from .. import clock
from ..extensions import db
from ..models import AuditLog


def record(action: str, *, actor=None, entity_kind: str, entity_id: int | None = None,
           enterprise_id: int | None = None, before: dict | None = None, after: dict | None = None,
           note: str = "") -> AuditLog:
    """Add one audit entry in the current transaction (it commits or rolls back with the change)."""
    entry = AuditLog(at=clock.utc_now(), action=action, actor_id=getattr(actor, "id", None), entity_kind=entity_kind,
                     entity_id=entity_id, enterprise_id=enterprise_id, before=before, after=after,
                     note=note)
    db.session.add(entry)
    return entry
