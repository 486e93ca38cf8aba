"""Impersonation watch: ``/verify`` misses that point at a certified brand, for staff and for
the brand's owner.

A consumer who pastes a link that is not a certified shop, but whose host imitates one (verify's
"suspicious"), spells a certified shop's sub-domain or brand on a platform
(``lingyuan-outlet.tmall.com``), or whose share text names the brand, has probably met a shop
pretending to be that brand. Each such miss bumps a counter per (brand owner, host, kind)
(``models.watch``): staff see them grouped by brand at ``/staff/impersonation``, owners on
their merchant dashboard.

Bounded, and no personal data: only the host is kept (a link's path and query and the pasted
text can carry share tokens and buyer ids); at most ``MAX_HOSTS`` hosts per enterprise (the
least recently seen makes room) and rows unseen for ``KEEP_DAYS`` days are purged by the daily
job. Counting is one upsert, so concurrent verifications never collide.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from ..clock import utc_now
from ..extensions import db
from ..models import Enterprise, ImpersonationSighting, Platform, SightingKind
from ..validation import ValidationError
from ..validation.urls import parse_web_url
from .verify.lookalike import enterprises_named_by_host
from .verify.results import Outcome, VerifyResult

MAX_HOSTS = 50
KEEP_DAYS = 180
MAX_PER_VERIFY = 3
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_MISSES = (Outcome.SUSPICIOUS, Outcome.NOT_FOUND, Outcome.SHORT_LINK, Outcome.PRODUCT_PAGE)


def _named(result: VerifyResult, url) -> list[tuple[Enterprise, str]]:
    """The certified enterprises a missed link points at, each with the strongest kind."""
    if result.outcome == Outcome.SUSPICIOUS:
        return [(result.enterprise, SightingKind.LOOKALIKE)] if result.enterprise is not None else []
    platforms = list(db.session.scalars(select(Platform)))
    pairs = [(e, SightingKind.HOST) for e in enterprises_named_by_host(url, platforms)]
    pairs += [(e, SightingKind.MENTION) for e in result.mentioned]
    out: list[tuple[Enterprise, str]] = []
    for ent, kind in pairs:
        if ent.is_public and all(ent.id != seen.id for seen, _ in out):
            out.append((ent, kind))
    return out[:MAX_PER_VERIFY]


def note_verify(result: VerifyResult) -> int:
    """Record a verify answer if it is a miss that names a certified brand; returns how many
    brands it was counted for. Flushes, never commits (the request's unit of work does)."""
    if result.query_type != "url" or result.outcome not in _MISSES or not result.normalized_url:
        return 0
    try:
        url = parse_web_url(result.normalized_url)
    except ValidationError:
        return 0
    pairs = _named(result, url)
    now = utc_now()
    for ent, kind in pairs:
        _bump(ent.id, url.host[:255], kind, now)
    return len(pairs)


def _bump(enterprise_id: int, host: str, kind: str, now: datetime) -> None:
    table = ImpersonationSighting.__table__
    insert = _INSERT[db.session.get_bind().dialect.name]
    stmt = insert(table).values(enterprise_id=enterprise_id, host=host, kind=kind, count=1, first_seen=now,
                                last_seen=now)
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=["enterprise_id", "host", "kind"], set_={"count": table.c.count + 1, "last_seen": now}))
    extra = db.session.scalar(select(func.count()).select_from(table).where(table.c.enterprise_id == enterprise_id))
    if extra > MAX_HOSTS:
        oldest = select(table.c.id).where(table.c.enterprise_id == enterprise_id).order_by(
            table.c.last_seen, table.c.id).limit(extra - MAX_HOSTS)
        db.session.execute(delete(table).where(table.c.id.in_(oldest)))


def purge(now: datetime | None = None) -> int:
    """Forget hosts not seen for ``KEEP_DAYS`` days (the daily job); returns how many."""
    cutoff = (now or utc_now()) - timedelta(days=KEEP_DAYS)
    table = ImpersonationSighting.__table__
    return db.session.execute(delete(table).where(table.c.last_seen < cutoff)).rowcount or 0


def for_enterprises(ids, limit: int = 10) -> dict[int, list[ImpersonationSighting]]:
    """Enterprise id -> its most recently seen hosts (the owner's dashboard)."""
    ids = list(ids)
    if not ids:
        return {}
    out: dict[int, list[ImpersonationSighting]] = {}
    for row in db.session.scalars(select(ImpersonationSighting).where(ImpersonationSighting.enterprise_id.in_(ids))
                                  .order_by(ImpersonationSighting.last_seen.desc(), ImpersonationSighting.id)):
        if len(out.setdefault(row.enterprise_id, [])) < limit:
            out[row.enterprise_id].append(row)
    return out


def grouped_query():
    """A select() of the enterprises with sightings, the most recently seen first (the staff page
    paginates it and lists each one's hosts with ``for_enterprises``)."""
    t = ImpersonationSighting
    latest = select(t.enterprise_id, func.max(t.last_seen).label("last_seen")).group_by(t.enterprise_id).subquery()
    return (select(Enterprise).join(latest, latest.c.enterprise_id == Enterprise.id)
            .order_by(latest.c.last_seen.desc(), Enterprise.id))
