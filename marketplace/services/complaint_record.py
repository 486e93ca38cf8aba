"""A merchant's public complaint record (as tsgs.12315.cn publishes since 2023), and the counts the
certification rules act on (dynamic management: upheld 假冒伪劣 complaints per shop).

The window is the last 12 months of filing dates (China dates). Only accepted complaints count as
"received": a report that was refused (不予受理) or is not yet accepted says nothing about the
merchant, and counting it would let anyone inflate a competitor's figure.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, bindparam, exists, func, select

from .. import clock
from ..extensions import db
from ..models import Complaint, ComplaintStatus, Enterprise
from .complaint_process import filed_on
from .complaints import COUNTERFEIT


def window_start(today: date | None = None) -> date:
    """The first China day of the 12-month window ending ``today`` (the same date a year before)."""
    today = today or clock.china_today()
    if today.month == 2 and today.day == 29:
        return date(today.year - 1, 2, 28)
    return today.replace(year=today.year - 1)


@dataclass
class ComplaintRecord:
    """The figures on an enterprise page."""

    since: date
    received: int  # accepted complaints filed in the window
    closed: int  # of those, closed (办结)
    in_time: int  # of those, closed within the stage's deadline, the negotiation not left to run out
    upheld_counterfeit: int  # 假冒伪劣 complaints staff found true (查实)


def handled_in_time(c: Complaint) -> bool:
    """Closed by the deadline of the stage it was closed in, without the negotiation running out."""
    if c.status not in ComplaintStatus.CLOSED or c.closed_at is None:
        return False
    closed = clock.china_date_of(c.closed_at)
    if c.mediation_at is not None:
        if c.negotiation_due is not None and clock.china_date_of(c.mediation_at) > c.negotiation_due:
            return False  # the merchant let the 10 working days run out
        return c.mediation_due is not None and closed <= c.mediation_due
    due = c.negotiation_due or c.accept_due
    return due is not None and closed <= due


# The complaints a record counts from: accepted, filed since ``start`` (the window's first China
# day, in UTC). Built once: every enterprise page asks (docs/architecture.md, "Statements built once").
_IN_WINDOW = and_(Complaint.accepted_at.is_not(None), Complaint.created_at >= bindparam("complaints_start"))
_ACCEPTED_SINCE = select(Complaint).where(Complaint.enterprise_id == bindparam("enterprise_id"), _IN_WINDOW)
# For the enterprise page's own query (``catalog.detail._read``): whether the record
# has anything to count, so most pages, whose record is empty, skip its query.
ANY_IN_WINDOW = exists().where(Complaint.enterprise_id == Enterprise.id, _IN_WINDOW)


def window_params(today: date | None = None) -> dict:
    """The bound parameters of ``ANY_IN_WINDOW`` for the window ending ``today``."""
    return {"complaints_start": clock.china_day_start_utc(window_start(today))}


def empty_record(today: date | None = None) -> ComplaintRecord:
    """The record of an enterprise with no accepted complaint in the window."""
    return ComplaintRecord(since=window_start(today), received=0, closed=0, in_time=0, upheld_counterfeit=0)


def public_record(enterprise_id: int, today: date | None = None) -> ComplaintRecord:
    """The enterprise's last 12 months, for its public page and for the certification rules."""
    since = window_start(today)
    rows = db.session.scalars(_ACCEPTED_SINCE, {"enterprise_id": enterprise_id, **window_params(today)}).all()
    rows = [c for c in rows if filed_on(c) >= since]
    return ComplaintRecord(
        since=since, received=len(rows),
        closed=sum(1 for c in rows if c.status in ComplaintStatus.CLOSED),
        in_time=sum(1 for c in rows if handled_in_time(c)),
        upheld_counterfeit=sum(1 for c in rows if c.kind == COUNTERFEIT and c.upheld))


def upheld_counterfeit_counts(*, today: date | None = None, shop_ids=None) -> dict[int, int]:
    """Shop id -> upheld 假冒伪劣 complaints filed in the last 12 months (shops with at least one).

    Issue 13's rule "3 within 12 months suspend the shop pending review" reads this.
    """
    start = clock.china_day_start_utc(window_start(today))
    stmt = (select(Complaint.shop_id, func.count()).where(
        Complaint.kind == COUNTERFEIT, Complaint.upheld.is_(True), Complaint.shop_id.is_not(None),
        Complaint.created_at >= start).group_by(Complaint.shop_id))
    if shop_ids is not None:
        stmt = stmt.where(Complaint.shop_id.in_(list(shop_ids)))
    return {shop_id: n for shop_id, n in db.session.execute(stmt)}
