"""Complaints (投诉举报): filing, the public status page, staff triage and the merchant's view.

A consumer reports a certified enterprise (optionally one of its shops) with what the national
12315 form asks (order number, purchase date, amount, desired outcome, phone) and gets a
reference number (``TS-<yyyymmdd>-<8 random>``) to follow it on the public status page, plus a
feedback code that only they are shown: it proves they filed it when they confirm or object after
办结 and when they download the 12315 referral text. The status page shows the stages and public
replies — never the contact, phone or order details. The stages and their deadlines live in
``complaint_process``; the public record in ``complaint_record``.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..models import (
    Complaint, ComplaintKind, ComplaintMessage, ComplaintStatus, DesiredOutcome, Enterprise, Role, Shop, User,
)
from ..validation import ValidationError
from ..validation.phone import normalize_phone
from ..validation.text import clean_text, fold_fullwidth_alnum
from . import Forbidden, NotFound, ServiceError
from .audit import record
from .complaint_process import open_deadlines
from .listings.common import FieldErrors
from .mail import queue_mail
from .review import site_link

COUNTERFEIT = ComplaintKind.ALL[0]  # 假冒伪劣
FLAG_THRESHOLD = 2  # this many counterfeit reports on one shop flag it in the queue
REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
OPEN = ComplaintStatus.OPEN
MAX_AMOUNT = Decimal("10000000")  # 1,000 万元: beyond that it is a typing error
EARLIEST_PURCHASE = date(2000, 1, 1)


def _clean(value, field, max_length, required=False, multiline=False) -> str:
    try:
        return clean_text(value, field=field, max_length=max_length, required=required, multiline=multiline)
    except ValidationError as err:
        raise ServiceError(str(err)) from None


def new_reference() -> str:
    """A fresh, hard-to-guess reference number ``TS-<China date>-<8 characters>``."""
    day = clock.china_today().strftime("%Y%m%d")
    for _ in range(20):
        ref = f"TS-{day}-" + "".join(secrets.choice(REF_ALPHABET) for _ in range(8))
        if db.session.scalar(select(Complaint.id).where(Complaint.reference == ref)) is None:
            return ref
    raise ServiceError("无法生成受理编号，请重试。")  # pragma: no cover


def normalize_reference(raw: str | None) -> str:
    """Upper-case, trim and drop spaces so ``ts-2026 1124-abcd efgh`` still matches."""
    return "".join((raw or "").split()).upper()[:24]


def _code_hash(code: str) -> str:
    return hashlib.sha256(normalize_reference(code).encode()).hexdigest()


def code_matches(complaint: Complaint, code: str | None) -> bool:
    """True when ``code`` is the feedback code the consumer was shown when filing."""
    if not complaint.feedback_code_hash or not code:
        return False
    return hmac.compare_digest(complaint.feedback_code_hash, _code_hash(code))


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


@dataclass
class ComplaintInput:
    """What the consumer typed (already parsed into types by the form)."""

    kind: str
    description: str
    contact: str = ""
    order_number: str = ""
    purchase_date: date | None = None
    amount: Decimal | None = None
    desired_outcome: str = ""
    phone: str = ""


def _order_number(raw: str) -> str:
    value = "".join(fold_fullwidth_alnum(raw or "").split())
    if len(value) > 40 or any(not (ch.isascii() and (ch.isalnum() or ch in "-_")) for ch in value):
        raise ValidationError("订单号只能包含字母、数字、“-”和“_”，不超过 40 位。")
    return value


def _checked(data: ComplaintInput) -> dict:
    """The complaint's columns from the input, or ``FieldErrors`` naming every bad field."""
    errors: dict[str, str] = {}
    values: dict = {}
    if data.kind not in ComplaintKind.ALL:
        errors["kind"] = "请选择投诉类型。"
    checks = {
        "description": lambda: clean_text(data.description, field="问题描述", max_length=2000, required=True,
                                          multiline=True),
        "contact": lambda: clean_text(data.contact, field="其他联系方式", max_length=120),
        "order_number": lambda: _order_number(data.order_number),
        "phone": lambda: normalize_phone(data.phone) if (data.phone or "").strip() else "",
    }
    for name, check in checks.items():
        try:
            values[name] = check()
        except ValidationError as err:
            errors[name] = str(err)
    if "description" in values and len(values["description"]) < 10:
        errors["description"] = "问题描述至少需要 10 个字，请说明具体情况。"
    if data.purchase_date is not None and not EARLIEST_PURCHASE <= data.purchase_date <= clock.china_today():
        errors["purchase_date"] = "购买日期不能晚于今天，也不能早于 2000 年。"
    if data.amount is not None and not Decimal("0") < data.amount <= MAX_AMOUNT:
        errors["amount"] = "涉及金额应大于 0 元且不超过 1000 万元。"
    if data.desired_outcome and data.desired_outcome not in DesiredOutcome.ALL:
        errors["desired_outcome"] = "请从列表中选择您的诉求。"
    if errors:
        raise FieldErrors(errors)
    return {**values, "kind": data.kind, "purchase_date": data.purchase_date,
            "amount": data.amount.quantize(Decimal("0.01")) if data.amount is not None else None,
            "desired_outcome": data.desired_outcome}


def input_errors(data: ComplaintInput) -> dict[str, str]:
    """Field name -> message for everything wrong with ``data`` (empty when it would be accepted),
    so a form refused for one field also names the others at once."""
    try:
        _checked(data)
    except FieldErrors as err:
        return err.errors
    return {}


def create_complaint(*, enterprise: Enterprise, shop: Shop | None, data: ComplaintInput,
                     evidence_sha256: str | None = None) -> tuple[Complaint, str]:
    """Record a consumer's report; the owning merchant (if any) is mailed after commit.

    Returns the complaint and the feedback code (shown to the consumer once, stored only as a
    hash). Bad input raises ``FieldErrors`` and writes nothing.
    """
    values = _checked(data)
    code = "".join(secrets.choice(REF_ALPHABET) for _ in range(8))
    now = clock.utc_now()
    complaint = Complaint(reference=new_reference(), enterprise_id=enterprise.id,
                          shop_id=shop.id if shop else None, evidence_sha256=evidence_sha256,
                          status=ComplaintStatus.NEW, feedback_code_hash=_code_hash(code),
                          created_at=now, updated_at=now, **values)
    open_deadlines(complaint)
    db.session.add(complaint)
    db.session.flush()
    record("complaint.create", entity_kind="complaint", entity_id=complaint.id, enterprise_id=enterprise.id,
           after={"reference": complaint.reference, "kind": complaint.kind, "shop_id": complaint.shop_id,
                  "accept_due": complaint.accept_due.isoformat()})
    if enterprise.owner is not None and enterprise.owner.email:
        queue_mail(enterprise.owner.email, "【广货网上行】您的企业收到一条投诉",
                   f"您好：\n\n有消费者就「{enterprise.name}」提交了投诉（{complaint.kind}），受理编号 "
                   f"{complaint.reference}。工作人员将在 {complaint.accept_due:%Y-%m-%d} 前决定是否受理；"
                   f"受理后您有 10 个工作日与消费者协商处理。\n"
                   f"请登录后查看并回复：{site_link(f'/merchant/complaints/{complaint.id}')}\n")
    return complaint, code


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
    """Assign a complaint to a staff member (the stage does not change)."""
    _require_open(complaint)
    if assignee is None or assignee.role not in (Role.STAFF, Role.ADMIN) or not assignee.is_enabled:
        raise ServiceError("只能指派给在岗的工作人员。")
    before = {"assignee_id": complaint.assignee_id}
    complaint.assignee_id = assignee.id
    complaint.updated_at = clock.utc_now()
    db.session.flush()
    record("complaint.assign", actor=actor, entity_kind="complaint", entity_id=complaint.id,
           enterprise_id=complaint.enterprise_id, before=before, after={"assignee_id": assignee.id},
           note=assignee.email)


def staff_reply(complaint: Complaint, body: str, actor, public: bool = True) -> ComplaintMessage:
    """Add a staff reply (public: shown on the status page and to the merchant; else internal)."""
    body = _clean(body, "回复内容", 2000, required=True, multiline=True)
    msg = ComplaintMessage(complaint=complaint, author_id=actor.id, author_role="staff", body=body, public=public,
                           created_at=clock.utc_now())
    db.session.add(msg)
    complaint.assignee_id = complaint.assignee_id or actor.id
    complaint.updated_at = clock.utc_now()
    db.session.flush()
    record("complaint.reply", actor=actor, entity_kind="complaint", entity_id=complaint.id,
           enterprise_id=complaint.enterprise_id, note=("公开回复：" if public else "内部备注：") + body[:200])
    return msg


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
    msg = ComplaintMessage(complaint=complaint, author_id=user.id, author_role="merchant", body=body, public=True,
                           created_at=clock.utc_now())
    db.session.add(msg)
    complaint.updated_at = clock.utc_now()
    db.session.flush()
    record("complaint.merchant_response", actor=user, entity_kind="complaint", entity_id=complaint.id,
           enterprise_id=complaint.enterprise_id, note=body[:200])
    return msg


def referral_text(complaint: Complaint) -> str:
    """A pre-filled text for taking an unresolved complaint to 12315 (www.12315.cn or the hotline).

    Only the consumer gets it (the view checks the feedback code); it repeats what they typed.
    """
    if complaint.status != ComplaintStatus.UNRESOLVED:
        raise ServiceError("只有“办结·未解决”的投诉可以生成 12315 转办材料。")
    ent, shop = complaint.enterprise, complaint.shop
    lines = [
        "全国 12315 平台投诉材料（由广货网上行投诉记录生成，请核对后提交至 www.12315.cn 或拨打 12315）",
        "",
        f"被投诉经营者：{ent.name}",
        f"统一社会信用代码：{ent.uscc}",
        f"所在地：广东省{ent.city.full_name}",
    ]
    if shop is not None:
        lines.append(f"网店：{shop.name}（{shop.platform.name}）{shop.url}")
    lines += [
        f"投诉类型：{complaint.kind}",
        f"订单号：{complaint.order_number or '（未填写）'}",
        f"购买日期：{complaint.purchase_date.isoformat() if complaint.purchase_date else '（未填写）'}",
        f"涉及金额：{f'{complaint.amount} 元' if complaint.amount is not None else '（未填写）'}",
        f"诉求：{complaint.desired_outcome or '（未填写）'}",
        "",
        "问题描述：",
        complaint.description,
        "",
        f"此前处理经过：已于 {clock.china_date_of(complaint.created_at):%Y-%m-%d} 向广货网上行投诉（受理编号 "
        f"{complaint.reference}），于 {clock.china_date_of(complaint.closed_at):%Y-%m-%d} 办结，结果：未解决。",
        f"处理说明：{complaint.resolution_note}",
    ]
    return "\r\n".join(lines) + "\r\n"
