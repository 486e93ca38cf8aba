"""公示 (public notice): an approved first certification is published on ``/gongshi`` for
``GONGSHI_WORKING_DAYS`` working days before it takes effect, and anyone may object meanwhile.

The flow:

* **Publication** (``publish``, called by ``review.approve``). When staff approve an application
  that certifies an enterprise for the first time (it never had a certificate) or a new shop of a
  certified enterprise (the shop was never certified), the listing moves to ``Status.NOTICE``
  instead of ``certified``: it is not public (``enterprise_is_public`` / ``shop_is_public`` stay
  false), ``/verify`` answers 公示中, and no certificate is issued yet. The approval's audit entry
  records status ``notice``, so the changes feed says nothing yet. The notice ends on
  ``clock.add_working_days(approval date, N)`` (statutory holidays and 调休 counted by the clock).
  The importer of the campaign's vetted list does not come here: it certifies directly.
* **Objections** (``file_objection``): reason, optional evidence image (private), contact. Each
  gets a reference number ``YY-<date>-<8 characters>``.
* **Handling** (``uphold`` / ``dismiss``): staff decide an open objection with one conditional
  ``UPDATE ... WHERE status = 'open'``, so two staff cannot both decide it. Upholding withdraws
  the notice and returns the application to review (pending), telling the merchant why; dismissing
  tells the objector.
* **Taking effect** (``take_effect``, the periodic ``flask gongshi-take-effect``): a notice whose
  end date has come and that has no open objection takes effect with a conditional UPDATE on
  ``status = 'open' AND open_objections = 0``; the listing becomes certified, its certificate is
  issued then (validity starts that day), and the audit entry with before/after status makes the
  changes feed emit ``certified`` at that moment. Running it again changes nothing.

Filing an objection increments ``open_objections`` on the notice row with a conditional UPDATE
(``status = 'open'``): a filing and the take-effect step contend for the same row lock, and the
loser's WHERE is re-checked, so an objection can never slip past a notice that takes effect.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

import click
from flask import Flask, current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..models import (
    AppKind, Application, AppStatus, Enterprise, NoticeObjection, NoticeStatus, ObjectionStatus, PublicNotice, Shop,
    Status,
)
from ..validation import ValidationError
from ..validation.phone import normalize_phone
from ..validation.text import clean_text
from . import AlreadyDecided, NotFound, ServiceError
from .accounts import normalize_email
from .audit import record
from .certificates import issue_certificates
from .images import process_image
from .listings.common import FieldErrors
from .lifecycle import mail_owner
from .mail import queue_mail
from .review import site_link

REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
EVIDENCE_MAX_SIDE = 1600  # legible screenshots and photos of documents
STATES = {"open": "公示中", "ended": "已结束"}


def working_days() -> int:
    """N: how many working days a notice runs (``GONGSHI_WORKING_DAYS``)."""
    return max(1, int(current_app.config["GONGSHI_WORKING_DAYS"]))


def end_date(start: date) -> date:
    """The day a notice published on ``start`` ends and may take effect (N working days later)."""
    return clock.add_working_days(start, working_days())


# --------------------------------------------------------------------------- publication

def goes_on_notice(application: Application) -> bool:
    """True for an approval that would certify a listing for the first time."""
    if application.kind == AppKind.ENTERPRISE:
        ent = application.enterprise
        return ent.certified_at is None and not ent.certifications
    if application.kind == AppKind.SHOP and application.shop is not None:
        return application.shop.certified_at is None and application.enterprise.status == Status.CERTIFIED
    return False


def _shop_facts(shop: Shop) -> dict:
    return {"name": shop.name, "platform": shop.platform.name, "shop_type": shop.shop_type, "url": shop.url}


def publish(application: Application) -> PublicNotice:
    """Put an approved first certification on notice (see the module doc); flushes.

    The caller (``review.approve``) audits the approval with the listing's new status.
    """
    ent = application.enterprise
    today = clock.china_today()
    if application.kind == AppKind.ENTERPRISE:
        ent.status, ent.status_reason = Status.NOTICE, ""
        shops = [s for s in ent.shops if s.status == Status.PENDING]
        for shop in shops:
            shop.status, shop.status_reason = Status.NOTICE, ""
        shop_id = None
    else:
        shop = application.shop
        shop.status, shop.status_reason = Status.NOTICE, ""
        shops, shop_id = [shop], shop.id
    notice = PublicNotice(application_id=application.id, enterprise_id=ent.id, shop_id=shop_id, name=ent.name,
                          uscc=ent.uscc, shops=[_shop_facts(s) for s in shops], starts_on=today,
                          ends_on=end_date(today), status=NoticeStatus.OPEN, open_objections=0)
    db.session.add(notice)
    db.session.flush()
    return notice


def approval_detail(notice: PublicNotice) -> str:
    """What the approval mail says about the notice period."""
    return (f"审核已通过，现进入公示期（{working_days()} 个工作日，{notice.starts_on:%Y-%m-%d} 至 "
            f"{notice.ends_on:%Y-%m-%d}）。公示期满且无异议后认证生效，届时发放证书并在名录中公开。"
            f"公示页面：{site_link(f'/gongshi/{notice.id}')}")


# --------------------------------------------------------------------------- reading

def public_query(state: str = "open"):
    """Notices for ``/gongshi``: on notice (ending soonest first) or ended (newest first)."""
    stmt = select(PublicNotice)
    if state == "ended":
        return stmt.where(PublicNotice.status != NoticeStatus.OPEN).order_by(
            PublicNotice.closed_at.desc(), PublicNotice.id.desc())
    return stmt.where(PublicNotice.status == NoticeStatus.OPEN).order_by(
        PublicNotice.ends_on, PublicNotice.id)


def recent_notices(limit: int = 50) -> list[PublicNotice]:
    """The newest notices of any state, for the Atom feed."""
    return list(db.session.scalars(select(PublicNotice).order_by(PublicNotice.id.desc()).limit(limit)))


def get_notice(notice_id: int) -> PublicNotice:
    notice = db.session.get(PublicNotice, notice_id)
    if notice is None:
        raise NotFound("公示条目不存在。")
    return notice


def open_notice_for(ent: Enterprise) -> PublicNotice | None:
    """The enterprise's notice running now (its own or a new shop's), for the merchant's page."""
    return db.session.scalar(select(PublicNotice).where(
        PublicNotice.enterprise_id == ent.id, PublicNotice.status == NoticeStatus.OPEN)
        .order_by(PublicNotice.id.desc()).limit(1))


def notice_of_listing(ent: Enterprise, shop: Shop | None = None) -> PublicNotice | None:
    """The open notice a verify answer about this listing links to."""
    stmt = select(PublicNotice).where(PublicNotice.enterprise_id == ent.id, PublicNotice.status == NoticeStatus.OPEN)
    if shop is not None and shop.status == Status.NOTICE and ent.status != Status.NOTICE:
        stmt = stmt.where(PublicNotice.shop_id == shop.id)
    return db.session.scalar(stmt.order_by(PublicNotice.id.desc()).limit(1))


# --------------------------------------------------------------------------- objections

@dataclass
class ObjectionInput:
    """What an objector typed (the form only bounds lengths; the rules live here)."""

    reason: str
    contact_name: str
    contact_phone: str = ""
    contact_email: str = ""


def _checked(data: ObjectionInput) -> dict:
    """The objection's columns, or ``FieldErrors`` naming every bad field at once."""
    errors: dict[str, str] = {}
    values: dict = {}
    checks = {
        "reason": lambda: clean_text(data.reason, field="异议理由", max_length=2000, required=True, multiline=True),
        "contact_name": lambda: clean_text(data.contact_name, field="联系人姓名", max_length=60, required=True),
        "contact_phone": lambda: normalize_phone(data.contact_phone) if (data.contact_phone or "").strip() else "",
    }
    for name, check in checks.items():
        try:
            values[name] = check()
        except ValidationError as err:
            errors[name] = str(err)
    if "reason" in values and len(values["reason"]) < 10:
        errors["reason"] = "请具体说明异议理由（至少 10 个字），例如哪一项信息与事实不符。"
    try:
        values["contact_email"] = normalize_email(data.contact_email) if (data.contact_email or "").strip() else ""
    except ServiceError as err:
        errors["contact_email"] = str(err)
    if not errors and not values["contact_phone"] and not values["contact_email"]:
        errors["contact_phone"] = "请至少留下手机号或邮箱中的一项，以便工作人员核实和答复。"
    if errors:
        raise FieldErrors(errors)
    return values


def input_errors(data: ObjectionInput) -> dict[str, str]:
    """Every field problem of ``data`` (empty when it is acceptable), for the form to show at once."""
    try:
        _checked(data)
    except FieldErrors as err:
        return err.errors
    return {}


def evidence_image(data: bytes | None) -> tuple[bytes, str] | None:
    """The evidence image as it is kept (re-encoded, metadata stripped), or None without one."""
    if not data:
        return None
    try:
        out, mime, _w, _h = process_image(data, max_side=EVIDENCE_MAX_SIDE)
    except ValidationError as err:
        raise FieldErrors({"evidence": str(err)}) from None
    return out, mime


def new_reference() -> str:
    """A fresh, hard-to-guess reference number ``YY-<China date>-<8 characters>``."""
    day = clock.china_today().strftime("%Y%m%d")
    for _ in range(20):
        ref = f"YY-{day}-" + "".join(secrets.choice(REF_ALPHABET) for _ in range(8))
        if db.session.scalar(select(NoticeObjection.id).where(NoticeObjection.reference == ref)) is None:
            return ref
    raise ServiceError("无法生成受理编号，请重试。")  # pragma: no cover


def file_objection(notice_id: int, data: ObjectionInput, evidence: tuple[bytes, str] | None) -> NoticeObjection:
    """File an objection on an open notice; flushes. Refuses once the notice has ended."""
    values = _checked(data)
    counted = db.session.execute(
        update(PublicNotice).where(PublicNotice.id == notice_id, PublicNotice.status == NoticeStatus.OPEN)
        .values(open_objections=PublicNotice.open_objections + 1).execution_options(synchronize_session=False))
    if counted.rowcount != 1:
        get_notice(notice_id)
        raise ServiceError("该公示已结束，不再受理异议。如有问题，请通过“投诉举报”反映。")
    objection = NoticeObjection(notice_id=notice_id, reference=new_reference(), status=ObjectionStatus.OPEN,
                                evidence_data=evidence[0] if evidence else None,
                                evidence_mime=evidence[1] if evidence else None, **values)
    db.session.add(objection)
    db.session.flush()
    notice = get_notice(notice_id)
    db.session.refresh(notice, ["open_objections"])
    record("objection.lodge", entity_kind="objection", entity_id=objection.id, enterprise_id=notice.enterprise_id,
           after={"reference": objection.reference, "notice_id": notice_id}, note=f"公示 #{notice_id} 收到异议")
    return objection


def lookup(reference: str) -> NoticeObjection | None:
    ref = "".join((reference or "").split()).upper()[:24]
    return db.session.scalar(select(NoticeObjection).where(NoticeObjection.reference == ref)) if ref else None


def staff_query(status: str = ObjectionStatus.OPEN):
    """Objections for the staff console, oldest open first (or the decided ones, newest first)."""
    stmt = select(NoticeObjection).options(selectinload(NoticeObjection.notice))
    if status == ObjectionStatus.OPEN:
        return stmt.where(NoticeObjection.status == status).order_by(NoticeObjection.id)
    if status in ObjectionStatus.LABELS:
        stmt = stmt.where(NoticeObjection.status == status)
    return stmt.order_by(NoticeObjection.id.desc())


def open_count() -> int:
    return db.session.scalar(select(func.count()).select_from(NoticeObjection)
                             .where(NoticeObjection.status == ObjectionStatus.OPEN)) or 0


def get_objection(objection_id: int) -> NoticeObjection:
    objection = db.session.get(NoticeObjection, objection_id)
    if objection is None:
        raise NotFound("异议不存在。")
    return objection


# --------------------------------------------------------------------------- staff decisions

def _decision_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise FieldErrors({"reason": "请填写处理理由（会告知相关方）。"})
    if len(reason) > 1000:
        raise FieldErrors({"reason": "处理理由不能超过 1000 个字。"})
    return reason


def _decide(objection_id: int, new_status: str, actor, reason: str) -> NoticeObjection:
    """The one conditional UPDATE that moves an open objection to its decision, and the notice's
    count of open objections down by one; ``AlreadyDecided`` when someone decided it first."""
    moved = db.session.execute(
        update(NoticeObjection).where(NoticeObjection.id == objection_id,
                                      NoticeObjection.status == ObjectionStatus.OPEN)
        .values(status=new_status, decision_reason=reason, decided_at=clock.utc_now(),
                decided_by_id=getattr(actor, "id", None)).execution_options(synchronize_session=False))
    objection = get_objection(objection_id)
    db.session.refresh(objection)
    if moved.rowcount != 1:
        raise AlreadyDecided("该异议已由其他工作人员处理。")
    db.session.execute(update(PublicNotice).where(PublicNotice.id == objection.notice_id)
                       .values(open_objections=PublicNotice.open_objections - 1)
                       .execution_options(synchronize_session=False))
    db.session.refresh(objection.notice)
    return objection


def uphold(objection_id: int, actor, reason: str) -> NoticeObjection:
    """The objection holds: the notice is withdrawn and its application goes back to review; the
    merchant is told why (and the objector, when they left an email)."""
    reason = _decision_reason(reason)
    objection = _decide(objection_id, ObjectionStatus.UPHELD, actor, reason)
    notice = objection.notice
    withdrawn = db.session.execute(
        update(PublicNotice).where(PublicNotice.id == notice.id, PublicNotice.status == NoticeStatus.OPEN)
        .values(status=NoticeStatus.WITHDRAWN, closed_at=clock.utc_now()).execution_options(synchronize_session=False))
    db.session.refresh(notice)
    record("objection.uphold", actor=actor, entity_kind="objection", entity_id=objection.id,
           enterprise_id=notice.enterprise_id, before={"status": ObjectionStatus.OPEN},
           after={"status": ObjectionStatus.UPHELD, "reason": reason}, note=f"{objection.reference}：{reason}")
    if withdrawn.rowcount == 1:
        _return_to_review(notice, actor, reason)
    _mail_objector(objection, "成立", "相关认证申请已退回重新审核，公示已撤下。")
    db.session.flush()
    return objection


def _return_to_review(notice: PublicNotice, actor, reason: str) -> None:
    """The withdrawn notice's application is pending again, its listing back under review."""
    message = f"公示期间收到异议，经核实成立，申请已退回重新审核。理由：{reason}"
    db.session.execute(
        update(Application).where(Application.id == notice.application_id, Application.status == AppStatus.APPROVED)
        .values(status=AppStatus.PENDING, decided_at=None, decided_by_id=None, reason=message,
                version=Application.version + 1).execution_options(synchronize_session=False))
    ent = notice.enterprise
    listings = [notice.shop] if notice.shop is not None else [ent, *ent.shops]
    for listing in listings:
        if listing.status == Status.NOTICE:
            listing.status, listing.status_reason = Status.PENDING, message
    kind, entity_id = ("shop", notice.shop_id) if notice.shop_id else ("enterprise", ent.id)
    record("gongshi.withdraw", actor=actor, entity_kind=kind, entity_id=entity_id, enterprise_id=ent.id,
           before={"status": Status.NOTICE}, after={"status": Status.PENDING, "reason": reason},
           note=f"公示 #{notice.id} 撤下，申请 #{notice.application_id} 退回审核")
    what = f"店铺「{notice.shop.name}」" if notice.shop is not None else f"企业「{ent.name}」"
    mail_owner(ent, "公示期间异议成立，申请已退回审核",
                         f"您的{what}在公示期间收到异议，经工作人员核实，异议成立，认证申请（编号 "
                         f"{notice.application_id}）已退回审核，公示已撤下。\n理由：{reason}\n"
                         "请登录商家中心查看，如需补充材料请联系工作人员。")


def dismiss(objection_id: int, actor, reason: str) -> NoticeObjection:
    """The objection does not hold: the notice runs on (and takes effect when it ends without
    another open objection); the objector is told, when they left an email."""
    reason = _decision_reason(reason)
    objection = _decide(objection_id, ObjectionStatus.DISMISSED, actor, reason)
    record("objection.dismiss", actor=actor, entity_kind="objection", entity_id=objection.id,
           enterprise_id=objection.notice.enterprise_id, before={"status": ObjectionStatus.OPEN},
           after={"status": ObjectionStatus.DISMISSED, "reason": reason}, note=f"{objection.reference}：{reason}")
    _mail_objector(objection, "不成立", "")
    db.session.flush()
    return objection


def _mail_objector(objection: NoticeObjection, verdict: str, outcome: str) -> None:
    if not objection.contact_email:
        return
    notice = objection.notice
    queue_mail(objection.contact_email, f"【广货网上行】您对公示的异议（{objection.reference}）处理结果：{verdict}",
               f"{objection.contact_name}，您好：\n\n您对公示条目「{notice.name}」（统一社会信用代码 {notice.uscc}）"
               f"提出的异议（受理编号 {objection.reference}）已处理，结果：异议{verdict}。\n"
               f"处理理由：{objection.decision_reason}\n{outcome}\n\n"
               f"公示页面：{site_link('/gongshi')}\n\n广货网上行 工作人员\n")


# --------------------------------------------------------------------------- taking effect

def due_notices(today: date) -> list[PublicNotice]:
    """Open notices whose end date has come and that no open objection holds back."""
    return list(db.session.scalars(select(PublicNotice).where(
        PublicNotice.status == NoticeStatus.OPEN, PublicNotice.ends_on <= today,
        PublicNotice.open_objections == 0).order_by(PublicNotice.id)))


def take_effect(today: date | None = None) -> dict:
    """Let every due notice take effect (idempotent; see the module doc). Flushes; returns counts."""
    today = today or clock.china_today()
    counts = {"effective": 0, "held": 0}
    for notice in due_notices(today):
        claimed = db.session.execute(
            update(PublicNotice).where(PublicNotice.id == notice.id, PublicNotice.status == NoticeStatus.OPEN,
                                       PublicNotice.open_objections == 0)
            .values(status=NoticeStatus.EFFECTIVE, closed_at=clock.utc_now())
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            continue  # an objection arrived or another run took it meanwhile
        db.session.refresh(notice)
        if notice.shop_id is None:
            _certify_enterprise(notice, today)
        else:
            _certify_shop(notice)
        counts["effective"] += 1
    counts["held"] = db.session.scalar(select(func.count()).select_from(PublicNotice).where(
        PublicNotice.status == NoticeStatus.OPEN, PublicNotice.ends_on <= today,
        PublicNotice.open_objections > 0)) or 0
    db.session.flush()
    return counts


def _certify_enterprise(notice: PublicNotice, today: date) -> None:
    """The enterprise and its shops on notice become certified; its certificate starts today."""
    ent = notice.enterprise
    if ent.status != Status.NOTICE:
        return
    now = clock.utc_now()
    ent.status, ent.status_reason, ent.certified_at = Status.CERTIFIED, "", now
    for shop in ent.shops:
        if shop.status == Status.NOTICE:
            shop.status, shop.status_reason, shop.certified_at = Status.CERTIFIED, "", now
    cert = issue_certificates([ent.id], today)[ent.id]
    db.session.flush()
    db.session.expire(ent, ["certifications"])
    record("gongshi.effective", entity_kind="enterprise", entity_id=ent.id, enterprise_id=ent.id,
           before={"status": Status.NOTICE},
           after={"status": Status.CERTIFIED, "certificate": cert.number, "valid_until": cert.valid_until.isoformat()},
           note=f"公示 #{notice.id} 期满无异议，认证生效")
    mail_owner(ent, "公示期满，认证已生效",
                         f"您的企业「{ent.name}」公示期满且无异议，认证已生效，已在名录中公开。\n"
                         f"证书编号 {cert.number}，有效期 {cert.issued_on:%Y-%m-%d} 至 {cert.valid_until:%Y-%m-%d}。")


def _certify_shop(notice: PublicNotice) -> None:
    """A new shop of a certified enterprise becomes certified (the enterprise's certificate covers it)."""
    shop = notice.shop
    if shop is None or shop.status != Status.NOTICE:
        return
    shop.status, shop.status_reason, shop.certified_at = Status.CERTIFIED, "", clock.utc_now()
    record("gongshi.effective", entity_kind="shop", entity_id=shop.id, enterprise_id=shop.enterprise_id,
           before={"status": Status.NOTICE}, after={"status": Status.CERTIFIED},
           note=f"公示 #{notice.id} 期满无异议，店铺认证生效")
    mail_owner(shop.enterprise, "公示期满，店铺认证已生效",
                         f"您的店铺「{shop.name}」公示期满且无异议，已在企业页面公开。")


def register_cli(app: Flask) -> None:
    """``flask --app app gongshi-take-effect``: the periodic 公示 job, next to expire-certificates."""

    @app.cli.command("gongshi-take-effect")
    @click.option("--today", "today_text", default="", help="China date to act as (YYYY-MM-DD); default today")
    def take_effect_command(today_text: str):
        """Certify the 公示 entries whose period ended with no open objection (idempotent)."""
        try:
            today = date.fromisoformat(today_text) if today_text else None
        except ValueError:
            raise click.BadParameter("日期格式应为 YYYY-MM-DD。", param_hint="--today") from None
        counts = take_effect(today)
        db.session.commit()  # the owners' mails go out after this commit, and only if it succeeds
        click.echo(f"公示期满生效 {counts['effective']} 条；因有未处理异议暂缓 {counts['held']} 条。")
