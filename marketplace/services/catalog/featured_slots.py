"""Featured listings: live curated slots and the automatic fallback carousel / industry rows."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select

from ...clock import utc_now
from ...extensions import db
from ...models import (
    Enterprise, FeaturedSlot, Industry, Placement, enterprise_badge, enterprise_industry,
    enterprise_is_public,
)
from .aggregates import industries_with_counts
from .cache import cached
from .cards import EnterpriseCard, load_cards
from .filters import newest_ids
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

    carousel: list[tuple[EnterpriseCard, str]] = field(default_factory=list)  # (enterprise, slot title)
    industry_rows: list[tuple[IndustryRow, list[EnterpriseCard]]] = field(default_factory=list)
    curated_carousel: bool = False
    curated_rows: bool = False


def _live_slot_rows(at: datetime) -> list[tuple]:
    """``(placement, enterprise_id, title, industry)`` of the slots of public enterprises live at
    ``at`` (``starts_at <= at < ends_at``, or no end), by placement, industry and position
    (``industry``: an ``IndustryRow``, None when inactive).

    Every home page miss asks this, so the slots not ended yet are kept with the directory
    aggregates (a slot change writes a ``page_lists`` row, which drops them) and filtered by
    ``at`` here; a preview of an earlier moment than they were read at asks the database."""
    as_of, rows = cached("slot_rows", _slot_rows_from_now)
    if at < as_of:
        rows = _slot_rows(at)
    return [(placement, eid, title, ind) for placement, eid, title, ind, starts, ends in rows
            if starts <= at and (ends is None or ends > at)]


def _slot_rows_from_now() -> tuple[datetime, list[tuple]]:
    now = utc_now()
    return now, _slot_rows(now)


def _slot_rows(not_ended_at: datetime) -> list[tuple]:
    """Slots of public enterprises not ended at ``not_ended_at`` with their times, as plain rows."""
    q = (select(FeaturedSlot.placement, FeaturedSlot.enterprise_id, FeaturedSlot.title, Industry.id, Industry.name,
                Industry.slug, Industry.position, Industry.active, FeaturedSlot.starts_at, FeaturedSlot.ends_at)
         .join(Enterprise, Enterprise.id == FeaturedSlot.enterprise_id)
         .outerjoin(Industry, Industry.id == FeaturedSlot.industry_id)
         .where(or_(FeaturedSlot.ends_at.is_(None), FeaturedSlot.ends_at > not_ended_at), enterprise_is_public())
         .order_by(FeaturedSlot.placement, FeaturedSlot.industry_id, FeaturedSlot.position, FeaturedSlot.id))
    return [(r[0], r[1], r[2], IndustryRow(*r[3:7]) if r[3] is not None and r[7] else None, r[8], r[9])
            for r in db.session.execute(q)]


def _last_curated():
    """When staff last featured the enterprise (the latest start of a slot that has started), a
    correlated scalar for ORDER BY; NULL when never featured."""
    return (select(func.max(FeaturedSlot.starts_at))
            .where(FeaturedSlot.enterprise_id == Enterprise.id, FeaturedSlot.starts_at <= utc_now())
            .correlate(Enterprise).scalar_subquery())


def _fallback_carousel_ids(limit: int) -> tuple[int, ...]:
    """Badged certified enterprises first (most visited first), padded with the most visited;
    without clicks, the ones staff featured most recently, then the newest certified
    (cached ids; the caller loads the cards with a fresh status check)."""

    def compute():
        badge_n = (select(func.count()).select_from(enterprise_badge)
                   .where(enterprise_badge.c.enterprise_id == Enterprise.id).scalar_subquery())
        q = (select(Enterprise.id).where(enterprise_is_public())
             .order_by(badge_n.desc(), Enterprise.click_count.desc(), _last_curated().desc().nulls_last(),
                       Enterprise.certified_at.desc().nulls_last(), Enterprise.id.desc())
             .limit(limit))
        return tuple(db.session.scalars(q))

    return cached(f"fallback_carousel:{limit}", compute)


def _fallback_carousel(limit: int) -> list[EnterpriseCard]:
    ids = _fallback_carousel_ids(limit)
    ents = load_cards(ids)
    return [ents[i] for i in ids if i in ents]


def _fallback_row_ids(rows: int, size: int) -> tuple[tuple[IndustryRow, tuple[int, ...]], ...]:
    """For the industries with most public enterprises, their most visited ones (one query for
    the ranking with a window function; the result's ids are cached, the cards loaded fresh).

    Where clicks do not decide (none yet, or ties), the enterprises staff featured most recently
    come first, then the newest certified: a row is never an arbitrary pick. The home page calls
    a row without clicks 推荐企业 rather than 人气企业."""

    def compute():
        top = [i for i, c in sorted(industries_with_counts(include_empty=False), key=lambda ic: -ic[1])][:rows]
        if not top:
            return ()
        top.sort(key=lambda i: (i.position, i.id))
        rn = func.row_number().over(
            partition_by=enterprise_industry.c.industry_id,
            order_by=(Enterprise.click_count.desc(), _last_curated().desc().nulls_last(),
                      Enterprise.certified_at.desc().nulls_last(), Enterprise.id.desc()),
        ).label("rn")
        ranked = (select(enterprise_industry.c.industry_id, Enterprise.id.label("eid"), rn)
                  .join(Enterprise, Enterprise.id == enterprise_industry.c.enterprise_id)
                  .where(enterprise_is_public(),
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

    return cached(f"fallback_rows:{rows}:{size}", compute)


def _fill_rows(plan_rows, ents: dict[int, EnterpriseCard]) -> list:
    """``[(industry, [enterprise])]`` from planned ids; rows left empty are dropped."""
    out = []
    for ind, ids in plan_rows:
        row = [ents[i] for i in ids if i in ents]
        if row:
            out.append((ind, row))
    return out


def _fallback_industry_rows(rows: int, size: int) -> list[tuple[IndustryRow, list[EnterpriseCard]]]:
    plan_rows = _fallback_row_ids(rows, size)
    return _fill_rows(plan_rows, load_cards(eid for _, ids in plan_rows for eid in ids))


@dataclass
class _Plan:
    """What ``featured`` shows, as enterprise ids (before the cards are loaded)."""

    carousel: list[tuple[int, str]]
    industry_rows: list[tuple[IndustryRow, list[int] | tuple[int, ...]]]
    curated_carousel: bool
    curated_rows: bool

    def ids(self) -> set[int]:
        return {i for i, _ in self.carousel} | {i for _, ids in self.industry_rows for i in ids}


def _plan(at: datetime) -> _Plan:
    """Live slots at ``at`` (one query); the cached fallback ids where a placement has none."""
    carousel: list[tuple[int, str]] = []
    seen_carousel: set[int] = set()
    industry_rows: dict[int, tuple[IndustryRow, list[int]]] = {}
    for placement, eid, title, ind in _live_slot_rows(at):
        if placement == Placement.CAROUSEL:
            if eid not in seen_carousel:
                seen_carousel.add(eid)
                carousel.append((eid, title))
        elif placement == Placement.INDUSTRY and ind is not None:
            row = industry_rows.setdefault(ind.id, (ind, []))
            if eid not in row[1]:
                row[1].append(eid)
    curated_carousel = bool(carousel)
    if not curated_carousel:
        carousel = [(i, "") for i in _fallback_carousel_ids(CAROUSEL_SIZE)]
    curated_rows = bool(industry_rows)
    if curated_rows:
        rows = sorted(industry_rows.values(), key=lambda r: (r[0].position, r[0].id))
    else:
        rows = list(_fallback_row_ids(INDUSTRY_ROWS, INDUSTRY_ROW_SIZE))
    return _Plan(carousel, rows, curated_carousel, curated_rows)


def _fill(plan: _Plan, ents: dict[int, EnterpriseCard]) -> Featured:
    """The plan with its cards; enterprises no longer public (bulk SQL after the ids were
    cached, or a change between the two queries) are left out."""
    return Featured(
        carousel=[(ents[i], title) for i, title in plan.carousel if i in ents],
        industry_rows=_fill_rows(plan.industry_rows, ents),
        curated_carousel=plan.curated_carousel,
        curated_rows=plan.curated_rows,
    )


def featured(at: datetime) -> Featured:
    """The featured listings live at ``at`` (naive UTC): curated FeaturedSlot rows for the
    carousel and per-industry rows; where no slot is live, a fallback from the data.

    An enterprise appears once per placement even if several slots name it.
    """
    plan = _plan(at)
    return _fill(plan, load_cards(plan.ids()))


def home_listings(at: datetime, newest: int) -> tuple[Featured, list[EnterpriseCard]]:
    """``featured(at)`` and the ``newest`` most recently certified enterprises, with the cards of
    both loaded together.

    The home page's cost was mostly round trips and ORM rows: now one card load (five narrow
    queries) serves the carousel, the industry rows and the newest enterprises instead of one
    load with four eager loads per list, and the slot query loads no cards of its own.
    """
    plan = _plan(at)
    new_ids = newest_ids(newest)
    ents = load_cards(plan.ids() | set(new_ids))
    return _fill(plan, ents), [ents[i] for i in new_ids if i in ents][:newest]
