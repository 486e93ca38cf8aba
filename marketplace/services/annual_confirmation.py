"""Annual confirmation (年度确认), the dynamic management the provincial lists practise: a
certificate is kept true, not just issued.

* **Ask** (``ask_due``, daily): 30 days before each anniversary of the current certificate
  (``issued_on`` + 1, 2 … years, before it expires; the last year is the renewal instead), the
  owner of a certified enterprise is asked by mail to confirm or update its data and evidence.
  The deadline is 30 days after the anniversary, and never less than 30 days after the ask (when
  the rule starts, owners whose anniversary has passed still get their 30 days).
* **Confirm** (``submit``): the owner confirms on the merchant page, after updating what changed
  through the ordinary edit flows (changes to a certified listing go through review).
* **Lapse** (``lapse_due``, daily): not confirmed by the deadline, the enterprise is suspended
  with a reason, an audit entry and a mail (``lifecycle.set_enterprise_status``).
* **Check** (``check``): staff check a confirmation; an enterprise suspended by the lapse is
  reinstated then, not before.

Enterprises without an owner (imported, not yet claimed) have nobody to ask and are left to the
campaign's import. Both jobs are safe to repeat: one row per certificate and anniversary, and a
row is acted on once. Functions flush, never commit; everything is audited.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..clock import add_years, china_today, utc_now
from ..extensions import db
from ..models import AnnualConfirmation, CertStatus, ConfirmationStatus, Enterprise, Status, User
from . import AlreadyDecided, NotFound, ServiceError
from .audit import record
from .lifecycle import mail_owner, reinstate_enterprise, set_enterprise_status
from .listings.common import FieldErrors
from .listings.lookups import get_owned_enterprise
from .versioning import begin_edit

C = ConfirmationStatus
ASK_DAYS = 30
GRACE_DAYS = 30
RETURN_DAYS = 7
MAX_NOTE = 1000


def anniversary_due(cert, today: date) -> date | None:
    """The anniversary of ``cert`` the owner should be confirming now: the latest one that is at
    most 30 days ahead, before the certificate expires (None when there is none yet)."""
    found = None
    years = 1
    while True:
        day = add_years(cert.issued_on, years)
        if day >= cert.valid_until or day - timedelta(days=ASK_DAYS) > today:
            return found
        found = day
        years += 1


def lapse_reason(row: AnnualConfirmation) -> str:
    return (f"未在 {row.due_on:%Y-%m-%d} 前完成年度确认（证书周年日 {row.anniversary:%Y-%m-%d}）。"
            "请登录商家中心完成年度确认，工作人员核实后恢复。")


def _page() -> str:
    return "商家中心的企业卡片上的“年度确认”"


def ask_due(today: date | None = None) -> int:
    """Open this year's confirmation of every owned certified enterprise that is due; returns how
    many owners were asked."""
    today = today or china_today()
    asked = 0
    enterprises = db.session.scalars(select(Enterprise).where(
        Enterprise.status == Status.CERTIFIED, Enterprise.owner_id.is_not(None))
        .options(selectinload(Enterprise.certifications)).order_by(Enterprise.id)).all()
    for ent in enterprises:
        cert = ent.certificate
        if cert is None or cert.status != CertStatus.VALID or cert.valid_until < today:
            continue
        anniversary = anniversary_due(cert, today)
        if anniversary is None or db.session.scalar(select(AnnualConfirmation.id).where(
                AnnualConfirmation.certification_id == cert.id, AnnualConfirmation.anniversary == anniversary)):
            continue
        row = AnnualConfirmation(enterprise_id=ent.id, certification_id=cert.id, anniversary=anniversary,
                                 due_on=max(anniversary, today) + timedelta(days=GRACE_DAYS), status=C.OPEN)
        db.session.add(row)
        db.session.flush()
        _audit("annual_confirmation.request", row, None, None, {"status": C.OPEN, "due_on": row.due_on.isoformat()})
        mail_owner(ent, f"请在 {row.due_on:%Y-%m-%d} 前完成年度确认",
                   f"您的企业「{ent.name}」的证书 {cert.number} 将于 {anniversary:%Y-%m-%d} 满一周年。"
                   f"请在 {row.due_on:%Y-%m-%d} 前登录{_page()}，核对企业资料、网店和证明材料，"
                   "有变化的先修改，然后确认。逾期未确认，企业认证将被暂停。")
        asked += 1
    return asked


def lapse_due(today: date | None = None) -> int:
    """Suspend the enterprises whose confirmation is past its deadline; returns how many."""
    today = today or china_today()
    lapsed = 0
    rows = db.session.scalars(select(AnnualConfirmation).where(
        AnnualConfirmation.status == C.OPEN, AnnualConfirmation.due_on < today)
        .order_by(AnnualConfirmation.id)).all()
    for row in rows:
        ent = row.enterprise
        if ent.certificate is None or ent.certificate.id != row.certification_id:
            continue  # renewed meanwhile: the new certificate has its own anniversaries
        before = {"status": row.status}
        row.status = C.OVERDUE
        if ent.status == Status.CERTIFIED:
            set_enterprise_status(ent, Status.SUSPENDED, None, lapse_reason(row))
            row.suspended_at = utc_now()
            lapsed += 1
        _audit("annual_confirmation.lapse", row, None, before, {"status": row.status}, note=lapse_reason(row))
    db.session.flush()
    return lapsed


def waiting_for(ent: Enterprise) -> AnnualConfirmation | None:
    """The confirmation the owner has to act on, or that waits for staff (newest first)."""
    return db.session.scalar(select(AnnualConfirmation).where(
        AnnualConfirmation.enterprise_id == ent.id,
        AnnualConfirmation.status.in_((C.OPEN, C.OVERDUE, C.SUBMITTED)))
        .order_by(AnnualConfirmation.id.desc()).limit(1))


def waiting_by_enterprise(ids) -> dict[int, AnnualConfirmation]:
    """``waiting_for`` of several enterprises in one query (the merchant dashboard)."""
    ids = list(ids)
    if not ids:
        return {}
    rows = db.session.scalars(select(AnnualConfirmation).where(
        AnnualConfirmation.enterprise_id.in_(ids),
        AnnualConfirmation.status.in_((C.OPEN, C.OVERDUE, C.SUBMITTED))).order_by(AnnualConfirmation.id))
    return {row.enterprise_id: row for row in rows}


def submit(user: User, enterprise_id: int, *, confirmed: bool, note: str = "", seen_version=None) -> AnnualConfirmation:
    """The owner confirms the enterprise's data and evidence (the staff check follows)."""
    ent = get_owned_enterprise(user, enterprise_id)
    row = waiting_for(ent)
    if row is None or row.status not in C.WAITING:
        raise ServiceError("当前没有需要完成的年度确认。")
    note = (note or "").strip()
    errors = {}
    if not confirmed:
        errors["confirmed"] = "请勾选确认：企业资料、网店和证明材料真实有效。"
    if len(note) > MAX_NOTE:
        errors["note"] = "说明不能超过 1000 个字。"
    if errors:
        raise FieldErrors(errors)
    begin_edit(row, seen_version)
    before = {"status": row.status}
    row.status, row.owner_note = C.SUBMITTED, note
    row.submitted_at, row.submitted_by_id = utc_now(), user.id
    _audit("annual_confirmation.submit", row, user, before, {"status": row.status}, note=note)
    db.session.flush()
    return row


def check(staff: User, row_id: int, *, accept: bool, note: str = "", seen_version=None) -> AnnualConfirmation:
    """Staff accept a submitted confirmation (reinstating an enterprise the lapse suspended) or
    return it to the owner with a reason."""
    row = db.session.get(AnnualConfirmation, row_id)
    if row is None:
        raise NotFound("年度确认不存在。")
    begin_edit(row, seen_version)
    if row.status != C.SUBMITTED:
        raise AlreadyDecided("该年度确认已处理。")
    note = (note or "").strip()
    if not accept and not note:
        raise ServiceError("请填写退回理由，商家会看到它。")
    if len(note) > MAX_NOTE:
        raise ServiceError("说明不能超过 1000 个字。")
    ent = row.enterprise
    before = {"status": row.status}
    row.checked_at, row.checked_by_id, row.staff_note = utc_now(), staff.id, note
    if accept:
        row.status = C.CONFIRMED
        if row.suspended_at is not None and ent.status == Status.SUSPENDED and ent.status_reason == lapse_reason(row):
            reinstate_enterprise(ent, staff, note="年度确认已核实")
    else:
        row.status = C.OVERDUE if row.suspended_at is not None else C.OPEN
        if row.status == C.OPEN:  # returned late: the owner still gets a week before the lapse
            row.due_on = max(row.due_on, china_today() + timedelta(days=RETURN_DAYS))
        mail_owner(ent, "您的年度确认需要补充",
                   f"您的企业「{ent.name}」的年度确认已被工作人员退回。\n理由：{note}\n"
                   f"请按要求更新后，在{_page()}中重新确认。")
    _audit("annual_confirmation.check" if accept else "annual_confirmation.return", row, staff, before,
           {"status": row.status}, note=note)
    db.session.flush()
    return row


def staff_list(status: str = C.SUBMITTED) -> list[AnnualConfirmation]:
    """Confirmations by status for the staff console (the oldest submission first)."""
    return list(db.session.scalars(select(AnnualConfirmation).where(AnnualConfirmation.status == status)
                                   .order_by(AnnualConfirmation.submitted_at, AnnualConfirmation.id).limit(200)))


def _audit(action: str, row: AnnualConfirmation, actor, before, after, note: str = "") -> None:
    record(action, actor=actor, entity_kind="annual_confirmation", entity_id=row.id, enterprise_id=row.enterprise_id,
           before=before, after=after, note=note or f"年度确认（周年日 {row.anniversary:%Y-%m-%d}）")
