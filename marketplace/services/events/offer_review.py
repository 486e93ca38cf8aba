"""Staff review of 网购节 offers: nothing is published before a member of staff approves it.

A decision is one conditional UPDATE on ``status = 'pending'`` and on the version the reviewer
saw (``Offer.version``, ``services.versioning``), so two staff deciding at once cannot both win
(the loser gets ``AlreadyDecided``), and an offer the merchant changed after the page was opened
is not approved unseen (``EditConflict``). The merchant gets a mail either way, queued with the
decision and sent after the commit (``services.mail``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ... import clock
from ...search_sync.outbox import enqueue
from ...extensions import db
from ...models import Enterprise, Offer, OfferStatus, Shop
from .. import NotFound, ServiceError
from ..audit import record
from ..mail import queue_mail
from ..review import site_link
from ..decisions import decide_row, rejection_reason

OFFER_TAKEN = "这项优惠已被其他工作人员处理，或已被商家撤下。"  # AlreadyDecided
OFFER_CHANGED = "商家刚刚修改了这项优惠，请查看最新内容后再决定。"  # EditConflict


def queue_query(event_id: int | None = None):
    """A select() of offers waiting for review, oldest first, optionally of one event."""
    stmt = select(Offer).where(Offer.status == OfferStatus.PENDING)
    if event_id:
        stmt = stmt.where(Offer.event_id == event_id)
    return stmt.order_by(Offer.submitted_at, Offer.id).options(
        selectinload(Offer.event), selectinload(Offer.shop).selectinload(Shop.enterprise))


def pending_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Offer).where(Offer.status == OfferStatus.PENDING)) or 0


def next_pending(after: Offer | None = None, event_id: int | None = None) -> Offer | None:
    """The oldest pending offer other than ``after`` (the next one to review)."""
    stmt = queue_query(event_id)
    if after is not None:
        stmt = stmt.where(Offer.id != after.id)
    return db.session.scalar(stmt.limit(1))


def get_offer(offer_id: int) -> Offer:
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        raise NotFound("优惠不存在。")
    return offer


def version_of(offer: Offer) -> int:
    """The version a review form carries (bumped by every change of the offer)."""
    return offer.version


def _decide(offer_id: int, new_status: str, actor, version, reason: str, now: datetime) -> Offer:
    """Move a pending offer to ``new_status`` if nobody decided or changed it meanwhile."""
    row = decide_row(Offer, offer_id, new_status, actor=actor, reason=reason, seen_version=version, now=now,
                     already_decided=OFFER_TAKEN, changed=OFFER_CHANGED, missing="优惠不存在。", extra={"updated_at": now})
    enqueue("shop", [row.shop_id])  # bulk UPDATE: tell the page cache (via the outbox) ourselves
    return row


def approve_offer(offer_id: int, actor, version=None, now: datetime | None = None) -> Offer:
    """Publish a pending offer and mail the merchant; refused when it has ended or its shop is no
    longer certified."""
    now = now or clock.utc_now()
    offer = get_offer(offer_id)
    if offer.status == OfferStatus.PENDING:
        if offer.ends_at <= now:
            raise ServiceError("这项优惠的有效期已经结束，不能通过，请驳回。")
        if not offer.shop.is_public:
            raise ServiceError("该网店目前不是认证状态，不能通过它的优惠。")
    offer = _decide(offer_id, OfferStatus.APPROVED, actor, version, "", now)
    record("offer.approve", actor=actor, entity_kind="offer", entity_id=offer.id,
           enterprise_id=offer.shop.enterprise_id, before={"status": OfferStatus.PENDING},
           after={"status": OfferStatus.APPROVED}, note=f"{offer.event.name}：{offer.headline}")
    _mail_decision(offer, approved=True)
    return offer


def reject_offer(offer_id: int, actor, reason: str, version=None, now: datetime | None = None) -> Offer:
    """Refuse a pending offer with a reason the merchant sees (they may change and resubmit it);
    the merchant is mailed."""
    reason = rejection_reason(reason)
    offer = _decide(offer_id, OfferStatus.REJECTED, actor, version, reason, now or clock.utc_now())
    record("offer.reject", actor=actor, entity_kind="offer", entity_id=offer.id,
           enterprise_id=offer.shop.enterprise_id, before={"status": OfferStatus.PENDING},
           after={"status": OfferStatus.REJECTED, "reason": reason}, note=reason)
    _mail_decision(offer, approved=False)
    return offer


def _mail_decision(offer: Offer, *, approved: bool) -> None:
    """Queue the decision mail to whoever submitted the offer (else the enterprise's owner)."""
    user = offer.submitted_by or offer.shop.enterprise.owner
    if user is None or not user.email:
        return
    verdict = "已通过" if approved else "未通过"
    detail = ("审核通过的优惠会在有效期内显示在网购节页面上。" if approved
              else f"理由：{offer.reason}\n您可以按理由修改后重新提交。")
    body = (f"您好：\n\n您的网店「{offer.shop.name}」在「{offer.event.name}」报名的优惠"
            f"（编号 {offer.id}，{offer.kind_label}：{offer.headline}）审核{verdict}。\n{detail}\n\n"
            f"可登录商家中心查看：{site_link('/merchant/events')}\n\n广货网上行 工作人员\n")
    queue_mail(user.email, f"【广货网上行】网购节优惠审核{verdict}", body)


def shop_warning(offer: Offer) -> str:
    """A warning for the reviewer when the offer's shop or enterprise is not certified now."""
    if offer.shop.is_public:
        return ""
    ent: Enterprise = offer.shop.enterprise
    return f"网店状态：{offer.shop.status_label}；企业状态：{ent.status_label}。只有已认证的网店可以参加。"
