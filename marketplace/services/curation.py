"""Curation: featured slots (home carousel, per-industry rows) and badges.

Slot times are stored naive UTC; staff enter them in China time (``clock.china_local_to_utc``). A slot is
live when ``starts_at <= at < ends_at`` (no end = open-ended) and its enterprise is certified;
``live_slots(at, ...)`` is what the home page (and its preview at a chosen date) shows.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import Badge, Brand, Enterprise, FeaturedSlot, Industry, Placement, enterprise_is_public
from ..clock import utc_now
from ..validation.text import normalize_key
from . import NotFound, ServiceError
from .audit import record
from .versioning import begin_edit

MAX_TITLE = 60


def live_filter(at: datetime):
    """SQL condition: the slot is live at ``at`` (naive UTC)."""
    return (FeaturedSlot.starts_at <= at) & (or_(FeaturedSlot.ends_at.is_(None), FeaturedSlot.ends_at > at))


def live_slots(at: datetime | None = None, placement: str = Placement.CAROUSEL,
               industry_id: int | None = None, limit: int | None = None) -> list[FeaturedSlot]:
    """Slots live at ``at`` (default now) for a placement, in order, certified enterprises only."""
    at = at or utc_now()
    stmt = (select(FeaturedSlot).join(FeaturedSlot.enterprise)
            .where(FeaturedSlot.placement == placement, live_filter(at), enterprise_is_public()))
    if industry_id is not None:
        stmt = stmt.where(FeaturedSlot.industry_id == industry_id)
    stmt = stmt.order_by(FeaturedSlot.position, FeaturedSlot.id)
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def slot_state(slot: FeaturedSlot, at: datetime | None = None) -> str:
    """``live`` / ``scheduled`` / ``ended`` relative to ``at`` (default now)."""
    at = at or utc_now()
    if slot.starts_at > at:
        return "scheduled"
    if slot.ends_at is not None and slot.ends_at <= at:
        return "ended"
    return "live"


STATE_LABELS = {"live": "展示中", "scheduled": "待上线", "ended": "已结束"}


def slots_query(*, placement: str = "", industry_id: int | None = None, state: str = "", at: datetime | None = None):
    """A select() of slots for the curation list, grouped by placement and ordered by position."""
    at = at or utc_now()
    stmt = select(FeaturedSlot)
    if placement:
        stmt = stmt.where(FeaturedSlot.placement == placement)
    if industry_id:
        stmt = stmt.where(FeaturedSlot.industry_id == industry_id)
    if state == "live":
        stmt = stmt.where(live_filter(at))
    elif state == "scheduled":
        stmt = stmt.where(FeaturedSlot.starts_at > at)
    elif state == "ended":
        stmt = stmt.where(FeaturedSlot.ends_at.is_not(None), FeaturedSlot.ends_at <= at)
    return stmt.order_by(FeaturedSlot.placement, FeaturedSlot.industry_id, FeaturedSlot.position,
                         FeaturedSlot.starts_at, FeaturedSlot.id)


def find_enterprises(q: str, limit: int = 20) -> list[Enterprise]:
    """Certified enterprises whose legal name or a brand contains ``q`` (for the slot picker)."""
    key = normalize_key(q).replace("%", "").replace("_", "").replace("\\", "")[:60]
    if not key:
        return []
    pattern = f"%{key}%"
    brand_match = select(Brand.enterprise_id).where(Brand.name_key.like(pattern))
    stmt = (select(Enterprise).where(enterprise_is_public(),
                                     or_(Enterprise.name_key.like(pattern), Enterprise.id.in_(brand_match)))
            .order_by(Enterprise.name_sort).limit(limit))
    return list(db.session.scalars(stmt))


def _snapshot(slot: FeaturedSlot) -> dict:
    return {"placement": slot.placement, "industry_id": slot.industry_id, "enterprise_id": slot.enterprise_id,
            "position": slot.position, "starts_at": slot.starts_at.isoformat() if slot.starts_at else None,
            "ends_at": slot.ends_at.isoformat() if slot.ends_at else None, "title": slot.title}


def _group(slot_or_placement, industry_id=None):
    if isinstance(slot_or_placement, FeaturedSlot):
        placement, industry_id = slot_or_placement.placement, slot_or_placement.industry_id
    else:
        placement = slot_or_placement
    cond = FeaturedSlot.placement == placement
    if placement == Placement.INDUSTRY:
        cond = cond & (FeaturedSlot.industry_id == industry_id)
    return cond


def create_slot(*, placement: str, enterprise_id: int, starts_at: datetime, ends_at: datetime | None,
                industry_id: int | None = None, title: str = "", actor=None) -> FeaturedSlot:
    """Add a slot (times naive UTC) at the end of its placement's order."""
    if placement not in Placement.LABELS:
        raise ServiceError("未知的展示位置。")
    ent = db.session.get(Enterprise, enterprise_id)
    if ent is None:
        raise ServiceError("企业不存在。")
    if not ent.is_public:
        raise ServiceError("只能推荐已认证的企业。")
    if placement == Placement.INDUSTRY:
        if not industry_id or db.session.get(Industry, industry_id) is None:
            raise ServiceError("行业推荐位需要选择行业。")
    else:
        industry_id = None
    if ends_at is not None and ends_at <= starts_at:
        raise ServiceError("结束时间必须晚于开始时间。")
    title = (title or "").strip()
    if len(title) > MAX_TITLE:
        raise ServiceError(f"标题不能超过 {MAX_TITLE} 个字符。")
    last = db.session.scalar(select(func.max(FeaturedSlot.position)).where(_group(placement, industry_id)))
    slot = FeaturedSlot(placement=placement, industry_id=industry_id, enterprise_id=ent.id,
                        position=(last or 0) + 1, starts_at=starts_at, ends_at=ends_at, title=title,
                        created_by_id=getattr(actor, "id", None))
    db.session.add(slot)
    db.session.flush()
    record("featured.create", actor=actor, entity_kind="featured_slot", entity_id=slot.id,
           enterprise_id=ent.id, after=_snapshot(slot))
    return slot


def get_slot(slot_id: int) -> FeaturedSlot:
    """The slot with ``slot_id`` or ``NotFound``."""
    slot = db.session.get(FeaturedSlot, slot_id)
    if slot is None:
        raise NotFound("推荐位不存在。")
    return slot


def update_slot_times(slot: FeaturedSlot, starts_at: datetime, ends_at: datetime | None, title: str,
                      actor=None, seen_version=None) -> FeaturedSlot:
    """Change a slot's time window and title; ``seen_version`` is the slot's version the edit
    form showed (an edit from an outdated page is refused with ``EditConflict``)."""
    if ends_at is not None and ends_at <= starts_at:
        raise ServiceError("结束时间必须晚于开始时间。")
    title = (title or "").strip()
    if len(title) > MAX_TITLE:
        raise ServiceError(f"标题不能超过 {MAX_TITLE} 个字符。")
    begin_edit(slot, seen_version)
    before = _snapshot(slot)
    slot.starts_at, slot.ends_at, slot.title = starts_at, ends_at, title
    db.session.flush()
    record("featured.update", actor=actor, entity_kind="featured_slot", entity_id=slot.id,
           enterprise_id=slot.enterprise_id, before=before, after=_snapshot(slot))
    return slot


def move_slot(slot: FeaturedSlot, direction: str, actor=None) -> None:
    """Swap a slot with its neighbour above (``up``) or below (``down``) in the same group."""
    siblings = list(db.session.scalars(select(FeaturedSlot).where(_group(slot))
                                       .order_by(FeaturedSlot.position, FeaturedSlot.id)))
    for pos, s in enumerate(siblings, start=1):  # renumber so positions are distinct
        s.position = pos
    i = siblings.index(slot)
    j = i - 1 if direction == "up" else i + 1
    if direction not in ("up", "down") or j < 0 or j >= len(siblings):
        db.session.flush()
        return
    other = siblings[j]
    slot.position, other.position = other.position, slot.position
    db.session.flush()
    record("featured.move", actor=actor, entity_kind="featured_slot", entity_id=slot.id,
           enterprise_id=slot.enterprise_id, before={"position": other.position},
           after={"position": slot.position}, note="上移" if direction == "up" else "下移")


def end_slot(slot: FeaturedSlot, actor=None) -> None:
    """End a live slot now, or remove a slot that has not started yet."""
    now = utc_now()
    before = _snapshot(slot)
    if slot.starts_at > now:
        record("featured.delete", actor=actor, entity_kind="featured_slot", entity_id=slot.id,
               enterprise_id=slot.enterprise_id, before=before)
        db.session.delete(slot)
    else:
        if slot.ends_at is not None and slot.ends_at <= now:
            raise ServiceError("该推荐位已经结束。")
        slot.ends_at = now
        record("featured.end", actor=actor, entity_kind="featured_slot", entity_id=slot.id,
               enterprise_id=slot.enterprise_id, before=before, after=_snapshot(slot))
    db.session.flush()


def set_badge(ent: Enterprise, badge_id: int, grant: bool, actor=None) -> Badge:
    """Grant or remove a badge on an enterprise (idempotent), with an audit entry."""
    badge = db.session.get(Badge, badge_id)
    if badge is None:
        raise ServiceError("标识不存在。")
    before = [b.name for b in ent.badges]
    if grant and badge not in ent.badges:
        ent.badges.append(badge)
    elif not grant and badge in ent.badges:
        ent.badges.remove(badge)
    else:
        return badge
    ent.updated_at = utc_now()  # touch the row so the search outbox re-indexes the badge facet
    db.session.flush()
    record("badge.grant" if grant else "badge.remove", actor=actor, entity_kind="enterprise", entity_id=ent.id,
           enterprise_id=ent.id, before={"badges": before}, after={"badges": [b.name for b in ent.badges]},
           note=badge.name)
    return badge
