"""Complaints (投诉举报): consumer reports, staff triage, merchant responses.

A consumer reports a certified enterprise (optionally one of its shops) and gets a reference
number (``TS-<yyyymmdd>-<8 random>``) to follow it on the public status page, which shows the
status, the resolution note and public replies — never the reporter's contact. Staff assign,
reply (public or internal), resolve or dismiss with a note; the owning merchant reads the
complaint and responds. Repeated counterfeit (假冒伪劣) reports on one shop are flagged.
"""
from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Complaint, ComplaintKind, ComplaintMessage, ComplaintStatus, Enterprise, Role, Shop, User,
)
from ..clock import china_now, utc_now
from ..validation import ValidationError
from ..validation.text import clean_text
from . import Forbidden, NotFound, ServiceError
from .audit import record
from .mail import queue_mail
from .review import site_link

COUNTERFEIT = ComplaintKind.ALL[0]  # 假冒伪劣
FLAG_THRESHOLD = 2  # this many counterfeit reports on one shop flag it in the queue
REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
OPEN = (ComplaintStatus.NEW, ComplaintStatus.ASSIGNED)


def _clean(value, field, max_length, required=False, multiline=False) -> str:
    try:
        return clean_text(value, field=field, max_length=max_length, required=required, multiline=multiline)
    except ValidationError as err:
        raise ServiceError(str(err)) from None


def new_reference() -> str:
    """A fresh, hard-to-guess reference number ``TS-<China date>-<8 characters>``."""
    day = china_now().strftime("%Y%m%d")
    for _ in range(20):
        ref = f"TS-{day}-" + "".join(secrets.choice(REF_ALPHABET) for _ in range(8))
        if db.session.scalar(select(Complaint.id).where(Complaint.reference == ref)) is None:
            return ref
    raise ServiceError("无法生成受理编号，请重试。")  # pragma: no cover


def normalize_reference(raw: str | None) -> str:
    """Upper-case, trim and drop spaces so ``ts-2026 1124-abcd efgh`` still matches."""
    return "".join((raw or "").split()).upper()[:24]


def reportable_target(enterprise_id: int | None, shop_id: int | None) -> tuple[Enterprise, Shop | None]:
    """The public enterprise (and its shop) a consumer may report; ``NotFound`` otherwise."""
    ent = db.session.get(Enterprise, enterprise_id) if enterprise_id else None
    shop = db.session.get(Shop, shop_id) if shop_id else None
    if ent is None and shop is not None:
        ent = shop.enterprise
    if ent is None or not ent.is_public:
        raise NotFound("要举报的企业不存在或未公开。")
    if shop is not None and shop.enterprise_id != ent.id:
        raise NotFound("该店铺不属于此企业。")
    return ent, shop


def create_complaint(*, enterprise: Enterprise, shop: Shop | None, kind: str, description: str,
                     contact: str = "", evidence_sha256: str | None = None) -> Complaint:
    """Record a consumer's report; the owning merchant (if any) is mailed after commit."""
    if kind not in ComplaintKind.ALL:
        raise ServiceError("请选择投诉类型。")
    description = _clean(description, "问题描述", 2000, required=True, multiline=True)
    if len(description) < 10:
        raise ServiceError("问题描述至少需要 10 个字，请说明具体情况。")
    contact = _clean(contact, "联系方式", 120)
    complaint = Complaint(reference=new_reference(), enterprise_id=enterprise.id,
                          shop_id=shop.id if shop else None, kind=kind, description=description,
                          contact=contact, evidence_sha256=evidence_sha256, status=ComplaintStatus.NEW)
    db.session.add(complaint)
    db.session.flush()
    record("complaint.create", entity_kind="complaint", entity_id=complaint.id, enterprise_id=enterprise.id,
           after={"reference": complaint.reference, "kind": kind, "shop_id": complaint.shop_id})
    if enterprise.owner is not None and enterprise.owner.email:
        queue_mail(enterprise.owner.email, "【广货网上行】您的企业收到一条投诉",
                   f"您好：\n\n有消费者就「{enterprise.name}」提交了投诉（{kind}），受理编号 "
                   f"{complaint.reference}。\n请登录后查看并回复：{site_link(f'/merchant/complaints/{complaint.id}')}\n")
    return complaint


def lookup(reference: str) -> Complaint | None:
    """The complaint with this reference number, or None."""
    ref = normalize_reference(reference)
    if not ref:
        return None
    return db.session.scalar(select(Complaint).where(Complaint.reference == ref))


def public_messages(complaint: Complaint) -> list[ComplaintMessage]:
    """Replies the reporter may see on the status page (staff public replies, merchant responses)."""
    return [m for m in complaint.messages if m.public]


def flagged_shop_counts() -> dict[int, int]:
    """Shop id -> number of counterfeit reports, for shops reported at least FLAG_THRESHOLD times."""
    rows = db.session.execute(
        select(Complaint.shop_id, func.count()).where(Complaint.kind == COUNTERFEIT, Complaint.shop_id.is_not(None))
        .group_by(Complaint.shop_id).having(func.count() >= FLAG_THRESHOLD))
    return {shop_id: n for shop_id, n in rows}


def triage_query(*, status: str = "", kind: str = "", flagged: bool = False, assignee_id: int | None = None):
    """A select() of complaints for the staff list, newest first, with filters."""
    stmt = select(Complaint)
    if status == "open":
        stmt = stmt.where(Complaint.status.in_(OPEN))
    elif status:
        stmt = stmt.where(Complaint.status == status)
    if kind:
        stmt = stmt.where(Complaint.kind == kind)
    if assignee_id:
        stmt = stmt.where(Complaint.assignee_id == assignee_id)
    if flagged:
        stmt = stmt.where(Complaint.shop_id.in_(
            select(Complaint.shop_id).where(Complaint.kind == COUNTERFEIT, Complaint.shop_id.is_not(None))
            .group_by(Complaint.shop_id).having(func.count() >= FLAG_THRESHOLD)))
    return stmt.order_by(Complaint.created_at.desc(), Complaint.id.desc()).options(
        selectinload(Complaint.enterprise).selectinload(Enterprise.brands), selectinload(Complaint.shop),
        selectinload(Complaint.assignee))


def _require_open(complaint: Complaint) -> None:
    if complaint.status not in OPEN:
        raise ServiceError("该投诉已办结，不能再操作。")


def assign(complaint: Complaint, assignee: User, actor) -> None:
    """Assign a complaint to a staff member (status → 处理中)."""
    _require_open(complaint)
    if assignee is None or assignee.role not in (Role.STAFF, Role.ADMIN) or not assignee.is_enabled:
        raise ServiceError("只能指派给在岗的工作人员。")
    before = {"status": complaint.status, "assignee_id": complaint.assignee_id}
    complaint.assignee_id = assignee.id
    complaint.status = ComplaintStatus.ASSIGNED
    complaint.updated_at = utc_now()
    db.session.flush()
    record("complaint.assign", actor=actor, entity_kind="complaint", entity_id=complaint.id,
           enterprise_id=complaint.enterprise_id, before=before,
           after={"status": complaint.status, "assignee_id": assignee.id}, note=assignee.email)


def staff_reply(complaint: Complaint, body: str, actor, public: bool = True) -> ComplaintMessage:
    """Add a staff reply (public: shown on the status page and to the merchant; else internal)."""
    body = _clean(body, "回复内容", 2000, required=True, multiline=True)
    msg = ComplaintMessage(complaint=complaint, author_id=actor.id, author_role="staff", body=body, public=public)
    db.session.add(msg)
    if complaint.status == ComplaintStatus.NEW:
        complaint.status = ComplaintStatus.ASSIGNED
        complaint.assignee_id = complaint.assignee_id or actor.id
    complaint.updated_at = utc_now()
    db.session.flush()
    record("complaint.reply", actor=actor, entity_kind="complaint", entity_id=complaint.id,
           enterprise_id=complaint.enterprise_id, note=("公开回复：" if public else "内部备注：") + body[:200])
    return msg


def close(complaint: Complaint, outcome: str, note: str, actor) -> None:
    """Resolve or dismiss a complaint with a note shown on the public status page."""
    if outcome not in (ComplaintStatus.RESOLVED, ComplaintStatus.DISMISSED):
        raise ServiceError("未知的处理结果。")
    _require_open(complaint)
    note = _clean(note, "处理说明", 2000, required=True, multiline=True)
    before = {"status": complaint.status}
    complaint.status = outcome
    complaint.resolution_note = note
    complaint.closed_at = utc_now()
    complaint.updated_at = complaint.closed_at
    complaint.assignee_id = complaint.assignee_id or actor.id
    db.session.flush()
    record(f"complaint.{outcome}", actor=actor, entity_kind="complaint", entity_id=complaint.id,
           enterprise_id=complaint.enterprise_id, before=before, after={"status": outcome}, note=note[:500])


def for_merchant(complaint_id: int, user: User) -> Complaint:
    """A complaint about an enterprise ``user`` owns; ``NotFound`` for anyone else's."""
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None or complaint.enterprise.owner_id != user.id:
        raise NotFound("投诉不存在。")
    return complaint


def owner_complaints_query(user: User):
    """A select() of complaints about the enterprises ``user`` owns, newest first (merchant dashboard)."""
    owned = select(Enterprise.id).where(Enterprise.owner_id == user.id)
    return (select(Complaint).where(Complaint.enterprise_id.in_(owned))
            .order_by(Complaint.created_at.desc(), Complaint.id.desc()))


def merchant_messages(complaint: Complaint) -> list[ComplaintMessage]:
    """What the merchant sees: public replies and its own responses (not staff-internal notes)."""
    return [m for m in complaint.messages if m.public or m.author_role == "merchant"]


def merchant_respond(complaint: Complaint, user: User, body: str) -> ComplaintMessage:
    """The owning merchant's response, shown to staff and on the public status page."""
    if complaint.enterprise.owner_id != user.id:
        raise Forbidden("无权回复此投诉。")
    _require_open(complaint)
    body = _clean(body, "回复内容", 2000, required=True, multiline=True)
    msg = ComplaintMessage(complaint=complaint, author_id=user.id, author_role="merchant", body=body, public=True)
    db.session.add(msg)
    complaint.updated_at = utc_now()
    db.session.flush()
    record("complaint.merchant_response", actor=user, entity_kind="complaint", entity_id=complaint.id,
           enterprise_id=complaint.enterprise_id, note=body[:200])
    return msg
