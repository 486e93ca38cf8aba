"""Featured listings: live curated slots and the automatic fallback carousel / industry rows."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import (
    Enterprise, FeaturedSlot, Industry, Placement, Status, enterprise_badge, enterprise_industry,
)
from .aggregates import industries_with_counts
from .cache import _cached
from .filters import _card_options, public_enterprise_query
from .rows import IndustryRow


CAROUSEL_SIZE = 6
INDUSTRY_ROW_SIZE = 4
INDUSTRY_ROWS = 6


# ---------------------------------------------------------------- featured listings

@dataclass
class Featured:
    """What the home page puts first: the focus carousel and featured rows per industry.

    ``curated_*`` say whether the rows come from live FeaturedSlot rows (True) or from the
    automatic fallback (badged / most visited enterprises).
    """

    carousel: list[tuple[Enterprise, str]] = field(default_factory=list)  # (enterprise, slot title)
    industry_rows: list[tuple[Industry, list[Enterprise]]] = field(default_factory=list)
    curated_carousel: bool = False
    curated_rows: bool = False


def live_slots(at: datetime, placement: str | None = None) -> list[FeaturedSlot]:
    """FeaturedSlot rows live at ``at`` (starts_at <= at < ends_at, or no end) whose enterprise
    is public, ordered by placement, industry, position."""
    q = (select(FeaturedSlot).join(Enterprise, Enterprise.id == FeaturedSlot.enterprise_id)
         .where(FeaturedSlot.starts_at <= at,
                or_(FeaturedSlot.ends_at.is_(None), FeaturedSlot.ends_at > at),
                Enterprise.status == Status.CERTIFIED)
         .order_by(FeaturedSlot.placement, FeaturedSlot.industry_id, FeaturedSlot.position, FeaturedSlot.id)
         .options(selectinload(FeaturedSlot.enterprise).options(*_card_options()),
                  selectinload(FeaturedSlot.industry)))
    if placement:
        q = q.where(FeaturedSlot.placement == placement)
    return list(db.session.scalars(q))


def _load_public(ids) -> dict[int, Enterprise]:
    """Public enterprises by id with their card data (one query plus eager loads)."""
    ids = set(ids)
    if not ids:
        return {}
    q = public_enterprise_query().where(Enterprise.id.in_(ids)).options(*_card_options())
    return {e.id: e for e in db.session.scalars(q)}


def _fallback_carousel(limit: int) -> list[Enterprise]:
    """Badged certified enterprises first (most visited first), padded with the most visited."""

    def compute():
        badge_n = (select(func.count()).select_from(enterprise_badge)
                   .where(enterprise_badge.c.enterprise_id == Enterprise.id).scalar_subquery())
        q = (select(Enterprise.id).where(Enterprise.status == Status.CERTIFIED)
             .order_by(badge_n.desc(), Enterprise.click_count.desc(), Enterprise.certified_at.desc(),
                       Enterprise.id.desc())
             .limit(limit))
        return tuple(db.session.scalars(q))

    ids = _cached(f"fallback_carousel:{limit}", compute)
    ents = _load_public(ids)
    return [ents[i] for i in ids if i in ents]


def _fallback_industry_rows(rows: int, size: int) -> list[tuple[IndustryRow, list[Enterprise]]]:
    """For the industries with most public enterprises, their most visited ones (one query for
    the ranking with a window function; the result's ids are cached, the cards loaded fresh)."""

    def compute():
        top = [i for i, c in sorted(industries_with_counts(include_empty=False), key=lambda ic: -ic[1])][:rows]
        if not top:
            return ()
        top.sort(key=lambda i: (i.position, i.id))
        rn = func.row_number().over(
            partition_by=enterprise_industry.c.industry_id,
            order_by=(Enterprise.click_count.desc(), Enterprise.certified_at.desc(), Enterprise.id.desc()),
        ).label("rn")
        ranked = (select(enterprise_industry.c.industry_id, Enterprise.id.label("eid"), rn)
                  .join(Enterprise, Enterprise.id == enterprise_industry.c.enterprise_id)
                  .where(Enterprise.status == Status.CERTIFIED,
                         enterprise_industry.c.industry_id.in_([i.id for i in top]))
                  .subquery())
        # a few spare candidates per industry, so an enterprise in several industries is shown once
        pairs = db.session.execute(select(ranked.c.industry_id, ranked.c.eid).where(ranked.c.rn <= size * 3)
                                   .order_by(ranked.c.industry_id, ranked.c.rn)).all()
        candidates: dict[int, list[int]] = {}
        for iid, eid in pairs:
            candidates.setdefault(iid, []).append(eid)
        used: set[int] = set()
        out = []
        for ind in top:
            row = [e for e in candidates.get(ind.id, []) if e not in used][:size]
            used.update(row)
            if row:
                out.append((ind, tuple(row)))
        return tuple(out)

    cached = _cached(f"fallback_rows:{rows}:{size}", compute)
    ents = _load_public(eid for _, ids in cached for eid in ids)
    out = []
    for ind, ids in cached:
        row = [ents[i] for i in ids if i in ents]
        if row:
            out.append((ind, row))
    return out


def featured(at: datetime) -> Featured:
    """The featured listings live at ``at`` (naive UTC): curated FeaturedSlot rows for the
    carousel and per-industry rows; where no slot is live, a fallback from the data.

    An enterprise appears once per placement even if several slots name it.
    """
    out = Featured()
    seen_carousel: set[int] = set()
    industry_rows: dict[int, tuple[Industry, list[Enterprise]]] = {}
    for slot in live_slots(at):
        ent = slot.enterprise
        if slot.placement == Placement.CAROUSEL:
            if ent.id not in seen_carousel:
                seen_carousel.add(ent.id)
                out.carousel.append((ent, slot.title))
        elif slot.placement == Placement.INDUSTRY and slot.industry is not None and slot.industry.active:
            row = industry_rows.setdefault(slot.industry_id, (slot.industry, []))
            if ent not in row[1]:
                row[1].append(ent)
    if out.carousel:
        out.curated_carousel = True
    else:
        out.carousel = [(e, "") for e in _fallback_carousel(CAROUSEL_SIZE)]
    if industry_rows:
        out.curated_rows = True
        out.industry_rows = sorted(industry_rows.values(), key=lambda r: (r[0].position, r[0].id))
    else:
        out.industry_rows = _fallback_industry_rows(INDUSTRY_ROWS, INDUSTRY_ROW_SIZE)
    return out
