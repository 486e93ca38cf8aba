"""Complaint threshold (dynamic management): 3 upheld 假冒伪劣 complaints against one shop within
12 months suspend it pending review (``flask dynamic-management`` runs it daily).

The counts are the complaint record's (``complaint_record.upheld_counterfeit_counts``: complaints
filed in the last 12 months that staff closed as upheld). A shop over the threshold is suspended
with a reason, an audit entry (``cause = complaint_threshold``), a mail to its owner and a
changes-feed event. Staff review it and reinstate it in the console; it is suspended again only
when another complaint is upheld after that suspension, so the daily run is safe to repeat and a
reviewed shop is not suspended again for the same complaints.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from ..clock import china_today
from ..extensions import db
from ..models import AuditLog, Complaint, Shop, Status
from .complaint_record import COUNTERFEIT, upheld_counterfeit_counts
from .lifecycle import set_shop_status

THRESHOLD = 3
CAUSE = "complaint_threshold"


def _last_threshold_suspension(shop_id: int):
    """When the rule last suspended this shop (None if never)."""
    for at, after in db.session.execute(select(AuditLog.at, AuditLog.after).where(
            AuditLog.action == "shop.suspended", AuditLog.entity_kind == "shop", AuditLog.entity_id == shop_id)
            .order_by(AuditLog.id.desc())):
        if (after or {}).get("cause") == CAUSE:
            return at
    return None


def _upheld_since(shop_id: int, since) -> bool:
    """Whether a 假冒伪劣 complaint against the shop was closed as upheld after ``since``."""
    newest = db.session.scalar(select(func.max(Complaint.closed_at)).where(
        Complaint.shop_id == shop_id, Complaint.kind == COUNTERFEIT, Complaint.upheld.is_(True)))
    return newest is not None and newest > since


def suspend_over_threshold(today: date | None = None) -> int:
    """Suspend the certified shops with ``THRESHOLD`` or more upheld 假冒伪劣 complaints in 12
    months (not again for the complaints a review already saw); returns how many."""
    counts = upheld_counterfeit_counts(today=today or china_today())
    over = {shop_id: n for shop_id, n in counts.items() if n >= THRESHOLD}
    suspended = 0
    for shop in db.session.scalars(select(Shop).where(Shop.id.in_(over), Shop.status == Status.CERTIFIED)
                                   .order_by(Shop.id)) if over else []:
        last = _last_threshold_suspension(shop.id)
        if last is not None and not _upheld_since(shop.id, last):
            continue
        set_shop_status(shop, Status.SUSPENDED, None,
                        f"12 个月内有 {over[shop.id]} 起假冒伪劣投诉经查实，店铺暂停展示，待工作人员复核。", cause=CAUSE)
        suspended += 1
    return suspended
