"""The certification changes feed: every certification event, in commit order, for platforms and
browser extensions (``GET /api/v1/changes?since=<cursor>``).

**Where events come from.** Every change of a listing's certification is an audit entry already
(``services.audit``): review decisions, the importer, suspensions and reinstatements, certificate
expiry, authorization withdrawals, annual-confirmation lapses, ``check-urls``. So events are not
written by each of those services: an audit entry whose ``before``/``after`` moves an enterprise
or a shop into or out of ``certified`` *is* an event, and ``event_type`` says which. One rule
then covers code written later too (the 公示 step that certifies after the notice period), and
the same rule backfills the events recorded before the feed existed (``backfill``).

**Order.** A client keeps the last id it saw and asks for the ones after it, so ids must become
visible in increasing order: an event must never commit *after* a higher id a client already
read. Events are therefore inserted at the very end of their transaction (``before_commit``),
after every other change, and on PostgreSQL under a transaction-scoped advisory lock: writers of
events commit one after the other, each taking its ids only once the previous one committed.
Nothing else is locked after that lock, so it cannot deadlock. SQLite serialises writers anyway.

**Only public facts.** Only transitions that concern a listing that is or was public produce
events (certified, or leaving certified/suspended); a listing that was only ever a draft,
pending or rejected never appears. Each event keeps a snapshot of the enterprise's and the
shop's public facts as they were then.
"""
from __future__ import annotations

from datetime import datetime

import click
from flask import Flask
from sqlalchemy import event, exists, func, insert, select, text
from sqlalchemy.orm import Session

from ..clock import china_date_of
from ..extensions import db
from ..models import AuditLog, Certification, CertificationEvent, Enterprise, EventType, Platform, Shop, Status

PENDING_KEY = "marketplace.changes.pending_audit_ids"
LOCK_KEY = 0x67647773  # pg_advisory_xact_lock key of the event writers ("gdws")
KINDS = ("enterprise", "shop", "certificate")
WAS_PUBLIC = (Status.CERTIFIED, Status.SUSPENDED)  # statuses a listing leaves when it stops being valid
CAUSE_AUTHORIZATION = "authorization"  # ``after["cause"]`` of a shop suspended for its brand authorization
_LEAVING = {Status.SUSPENDED: EventType.SUSPENDED, Status.REVOKED: EventType.REVOKED,
            Status.EXPIRED: EventType.EXPIRED}
BATCH = 2000


def event_type(entity_kind: str, before: dict | None, after: dict | None) -> str | None:
    """The event an audit entry records, or None (most entries are not certification events).

    ``before``/``after`` are the entry's status snapshots; a certified shop removed by its
    merchant (``after`` is None) is no longer certified, said as ``revoked``.
    """
    if entity_kind not in KINDS:
        return None
    old = (before or {}).get("status")
    if after is None:
        return EventType.REVOKED if entity_kind == "shop" and old == Status.CERTIFIED else None
    new = after.get("status")
    if new is None or new == old:
        return None
    if new == Status.CERTIFIED:
        return EventType.REINSTATED if old in (Status.SUSPENDED, Status.REVOKED) else EventType.CERTIFIED
    if new in _LEAVING and old in WAS_PUBLIC:
        if after.get("cause") == CAUSE_AUTHORIZATION:
            return EventType.AUTHORIZATION_WITHDRAWN
        return _LEAVING[new]
    return None


# --------------------------------------------------------------------------- snapshots

def enterprise_facts(ent: Enterprise) -> dict:
    """The public facts an event keeps of an enterprise."""
    return {"id": ent.id, "name": ent.name, "display_name": ent.display_name, "uscc": ent.uscc}


def shop_facts(shop_id: int, name: str, url: str, shop_type: str, platform: Platform) -> dict:
    """The public facts an event keeps of a shop."""
    return {"id": shop_id, "name": name, "url": url, "shop_type": shop_type,
            "platform": {"id": platform.id, "name": platform.name, "slug": platform.slug}}


def _shop_snapshot(session: Session, shop_id: int, entry: AuditLog) -> dict | None:
    """The shop's facts: from its row, or (a removed shop) from the removal's audit snapshot."""
    shop = session.get(Shop, shop_id)
    if shop is not None:
        return shop_facts(shop.id, shop.name, shop.url, shop.shop_type, shop.platform)
    removed = entry.before if entry.after is None else session.scalar(
        select(AuditLog.before).where(AuditLog.entity_kind == "shop", AuditLog.entity_id == shop_id,
                                      AuditLog.action == "shop.delete").limit(1))
    platform = session.get(Platform, (removed or {}).get("platform_id") or 0)
    if not removed or platform is None:
        return None
    return shop_facts(shop_id, removed.get("name", ""), removed.get("url", ""), removed.get("shop_type", ""),
                      platform)


def _certificate_then(session: Session, enterprise_id: int, at: datetime, memo: dict) -> str | None:
    """The number of the enterprise's newest certificate issued by the China date of ``at``
    (``memo`` keeps the answers of one batch: an import certifies thousands of shops at once)."""
    key = (enterprise_id, china_date_of(at))
    if key not in memo:
        memo[key] = session.scalar(select(Certification.number).where(
            Certification.enterprise_id == enterprise_id, Certification.issued_on <= key[1])
            .order_by(Certification.id.desc()).limit(1))
    return memo[key]


def event_rows(session: Session, entries) -> list[dict]:
    """The ``certification_event`` rows of these audit entries (most entries are no event)."""
    memo: dict = {}
    return [row for row in (event_row(session, e, memo) for e in entries) if row is not None]


def event_row(session: Session, entry: AuditLog, memo: dict) -> dict | None:
    """The ``certification_event`` row of an audit entry, or None when it is no event (or what it
    concerns is gone without a trace)."""
    kind = event_type(entry.entity_kind, entry.before, entry.after)
    if kind is None or entry.enterprise_id is None:
        return None
    ent = session.get(Enterprise, entry.enterprise_id)
    if ent is None:
        return None
    shop = None
    if entry.entity_kind == "shop":
        shop = _shop_snapshot(session, entry.entity_id, entry)
        if shop is None:
            return None
    number = (entry.after or {}).get("certificate") or _certificate_then(session, ent.id, entry.at, memo)
    return {"type": kind, "at": entry.at, "enterprise_id": ent.id, "shop_id": shop["id"] if shop else None,
            "certificate": number, "enterprise": enterprise_facts(ent), "shop": shop, "audit_id": entry.id}


# --------------------------------------------------------------------------- writing

def note_audit_ids(ids, session: Session | None = None) -> None:
    """Turn these audit entries (inserted with Core, which the flush listener does not see) into
    events when the transaction commits."""
    session = session or db.session()
    session.info.setdefault(PENDING_KEY, set()).update(int(i) for i in ids)


def _lock(session: Session) -> None:
    """Serialise the event writers until this transaction ends (PostgreSQL; SQLite already is)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


def _insert(session: Session, rows: list[dict]) -> int:
    if rows:
        session.execute(insert(CertificationEvent.__table__), rows)
    return len(rows)


@event.listens_for(Session, "after_flush")
def _collect(session: Session, flush_context) -> None:
    """Remember the audit entries of this flush that may be events (ids are assigned now)."""
    ids = [obj.id for obj in session.new if isinstance(obj, AuditLog) and obj.entity_kind in KINDS]
    if ids:
        note_audit_ids(ids, session)


@event.listens_for(Session, "before_commit")
def _write_events(session: Session) -> None:
    """Insert the transaction's events last, under the writers' lock (see the module doc)."""
    if session.in_nested_transaction():
        return
    session.flush()  # what commit would flush next: its audit entries are collected now
    if not session.info.get(PENDING_KEY):
        return
    ids = sorted(session.info.pop(PENDING_KEY, set()))
    _lock(session)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        entries = session.scalars(select(AuditLog).where(AuditLog.id.in_(chunk)).order_by(AuditLog.id)).all()
        _insert(session, event_rows(session, entries))


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING_KEY, None)


def backfill(batch: int = BATCH) -> int:
    """Create the events of every audit entry that has none yet (the history before the feed);
    idempotent. Flushes, never commits; returns how many events it added."""
    session = db.session()
    _lock(session)
    made, last = 0, 0
    while True:
        entries = session.scalars(select(AuditLog).where(
            AuditLog.id > last, AuditLog.entity_kind.in_(KINDS),
            ~exists().where(CertificationEvent.audit_id == AuditLog.id)).order_by(AuditLog.id).limit(batch)).all()
        if not entries:
            return made
        made += _insert(session, event_rows(session, entries))
        last = entries[-1].id


# --------------------------------------------------------------------------- reading

def feed(since: int, limit: int) -> tuple[list[CertificationEvent], int]:
    """Events after cursor ``since``, oldest first, and the cursor to ask with next time."""
    rows = list(db.session.scalars(select(CertificationEvent).where(CertificationEvent.id > since)
                                   .order_by(CertificationEvent.id).limit(limit)))
    return rows, (rows[-1].id if rows else since)


def head() -> int:
    """The newest event's id (0 when there is none): a cursor that skips all history."""
    return int(db.session.scalar(select(func.max(CertificationEvent.id))) or 0)


def register_cli(app: Flask) -> None:
    @app.cli.command("changes-backfill")
    def backfill_command():
        """Create changes-feed events from the audit log for entries that have none (idempotent)."""
        made = backfill()
        db.session.commit()
        click.echo(f"已从审计日志补录认证变更事件 {made} 条；当前最新游标 {head()}。")
