"""The review queue: pending applications, the checks staff see, and the decisions.

Decisions follow the Status contract (see COMMON/DESIGN): an application is decided with a
conditional ``UPDATE ... WHERE id = ? AND status = 'pending'`` issued *before* anything else, so
two staff deciding at once cannot both win — the loser's UPDATE matches no row and the service
raises ``ServiceError("已被其他工作人员处理")``; the caller rolls back and nothing is decided twice.
Services flush, never commit; mail is returned as ``Notice`` objects the view sends after commit.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    CHINA_TZ, AppKind, Application, AppStatus, Certification, CertStatus, Enterprise,
    Platform, Shop, Status, enterprise_industry, utcnow,
)
from . import NotFound, ServiceError
from .audit import record
from .enterprise_fields import apply_enterprise_fields

ALREADY_DECIDED = "已被其他工作人员处理"
PER_PAGE = 20


@dataclass
class Notice:
    """A mail to send once the transaction that caused it has committed."""

    to: str
    subject: str
    body: str


def china_today() -> date:
    """Today's date in China (certificate dates are calendar dates in China time)."""
    return datetime.now(CHINA_TZ).date()


# --------------------------------------------------------------------------- queue

def queue_query(*, kind: str = "", city_id: int | None = None, industry_id: int | None = None):
    """A select() of pending applications, oldest first, narrowed by kind / city / industry."""
    stmt = (select(Application).join(Application.enterprise)
            .where(Application.status == AppStatus.PENDING))
    if kind:
        stmt = stmt.where(Application.kind == kind)
    if city_id:
        stmt = stmt.where(Enterprise.city_id == city_id)
    if industry_id:
        stmt = stmt.where(Enterprise.id.in_(
            select(enterprise_industry.c.enterprise_id).where(enterprise_industry.c.industry_id == industry_id)))
    return stmt.order_by(Application.submitted_at, Application.id).options(
        selectinload(Application.enterprise).selectinload(Enterprise.industries),
        selectinload(Application.applicant), selectinload(Application.shop))


def next_pending(after: Application | None = None, **filters) -> Application | None:
    """The next pending application to review (oldest first), skipping ``after`` itself.

    After a decision the decided row is no longer pending, so this is simply the oldest pending
    one; when skipping, the one submitted after ``after`` comes next (wrapping to the oldest).
    """
    stmt = queue_query(**filters)
    if after is not None:
        later = db.session.scalar(stmt.where(
            (Application.submitted_at > after.submitted_at)
            | ((Application.submitted_at == after.submitted_at) & (Application.id > after.id))).limit(1))
        if later is not None:
            return later
        return db.session.scalar(stmt.where(Application.id != after.id).limit(1))
    return db.session.scalar(stmt.limit(1))


def pending_count() -> int:
    """How many applications wait for a decision."""
    return db.session.scalar(select(func.count()).select_from(Application)
                             .where(Application.status == AppStatus.PENDING)) or 0


def get_application(app_id: int) -> Application:
    """The application with ``app_id`` or ``NotFound``."""
    application = db.session.get(Application, app_id)
    if application is None:
        raise NotFound("申请不存在。")
    return application


# Checks shown next to an application live in review_checks; re-exported for callers.
from .review_checks import (  # noqa: E402,F401
    diff, duplicate_warnings, inline_diff, shop_checks, similar_names, uscc_check,
)


# --------------------------------------------------------------------------- decisions

def _claim(app_id: int, new_status: str, actor, reason: str = "") -> Application:
    """Atomically move a pending application to ``new_status``; refuse if someone else did."""
    result = db.session.execute(
        update(Application)
        .where(Application.id == app_id, Application.status == AppStatus.PENDING)
        .values(status=new_status, decided_at=utcnow(), decided_by_id=getattr(actor, "id", None),
                reason=reason)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        if db.session.get(Application, app_id) is None:
            raise NotFound("申请不存在。")
        raise ServiceError(ALREADY_DECIDED)
    application = db.session.get(Application, app_id)
    db.session.refresh(application)
    return application


def new_certificate_number(year: int) -> str:
    """A fresh certificate number ``GDWS-<year>-<6 digits>`` not used before."""
    for _ in range(50):
        number = f"GDWS-{year}-{secrets.randbelow(1_000_000):06d}"
        if db.session.scalar(select(Certification.id).where(Certification.number == number)) is None:
            return number
    raise ServiceError("无法生成证书编号，请重试。")  # pragma: no cover - a million numbers per year


def issue_certificate(ent: Enterprise) -> Certification:
    """Issue a certificate valid ``CERTIFICATE_VALID_DAYS`` from today (China date)."""
    today = china_today()
    cert = Certification(enterprise=ent, number=new_certificate_number(today.year), issued_on=today,
                         valid_until=today + timedelta(days=current_app.config["CERTIFICATE_VALID_DAYS"]),
                         status=CertStatus.VALID)
    db.session.add(cert)
    return cert


def enterprise_snapshot(ent: Enterprise) -> dict:
    """The audit-log view of an enterprise's reviewable fields."""
    return {"name": ent.name, "brands": ent.brand_names, "city_id": ent.city_id,
            "industry_ids": [i.id for i in ent.industries], "description": ent.description,
            "website": ent.website, "founded_year": ent.founded_year, "logo_sha256": ent.logo_sha256,
            "status": ent.status, "owner_id": ent.owner_id}


def shop_snapshot(shop: Shop) -> dict:
    """The audit-log view of a shop."""
    return {"name": shop.name, "url": shop.url, "shop_type": shop.shop_type,
            "platform_id": shop.platform_id, "status": shop.status}


def _apply_enterprise_edit(ent: Enterprise, payload: dict) -> None:
    """Apply an approved enterprise_edit payload with the shared field rules."""
    apply_enterprise_fields(ent, payload)


def _apply_shop_edit(shop: Shop, payload: dict) -> None:
    if "url" in payload and payload["url"] != shop.url:
        taken = db.session.scalar(select(Shop).where(Shop.url == payload["url"], Shop.id != shop.id))
        if taken is not None:
            raise ServiceError(f"网址已被店铺 #{taken.id}「{taken.name}」使用，不能通过此变更。")
        shop.url = payload["url"]
    if "platform_id" in payload:
        if db.session.get(Platform, payload["platform_id"]) is None:
            raise ServiceError("变更中的平台不存在。")
        shop.platform_id = payload["platform_id"]
    for key in ("name", "shop_type"):
        if key in payload:
            setattr(shop, key, payload[key])


def approve(app_id: int, actor) -> tuple[Application, list[Notice]]:
    """Approve a pending application and apply it per the Status contract.

    Returns the application and the mails to send after commit. Raises ``ServiceError`` when the
    application was already decided (by someone else) or can no longer be applied.
    """
    application = _claim(app_id, AppStatus.APPROVED, actor)
    ent = application.enterprise
    now = utcnow()
    kind = application.kind
    before: dict | None
    if kind == AppKind.ENTERPRISE:
        before = enterprise_snapshot(ent)
        ent.status = Status.CERTIFIED
        ent.status_reason = ""
        ent.certified_at = now
        for shop in ent.shops:
            if shop.status == Status.PENDING:
                shop.status = Status.CERTIFIED
                shop.status_reason = ""
                shop.certified_at = now
        cert = issue_certificate(ent)
        db.session.flush()
        after = enterprise_snapshot(ent) | {"certificate": cert.number, "valid_until": cert.valid_until.isoformat()}
        entity_kind, entity_id = "enterprise", ent.id
        detail = f"证书编号 {cert.number}，有效期至 {cert.valid_until:%Y-%m-%d}。"
    elif kind == AppKind.CLAIM:
        before = {"owner_id": ent.owner_id}
        if application.applicant_id is None:
            raise ServiceError("认领申请缺少申请人。")
        ent.owner_id = application.applicant_id
        after = {"owner_id": ent.owner_id}
        entity_kind, entity_id = "enterprise", ent.id
        detail = "您现在可以在商家中心管理该企业。"
    elif kind == AppKind.ENTERPRISE_EDIT:
        before = enterprise_snapshot(ent)
        _apply_enterprise_edit(ent, application.payload or {})
        db.session.flush()
        after = enterprise_snapshot(ent)
        entity_kind, entity_id = "enterprise", ent.id
        detail = "变更已在企业页面生效。"
    elif kind in (AppKind.SHOP, AppKind.SHOP_EDIT):
        shop = application.shop
        if shop is None:
            raise ServiceError("申请对应的店铺已不存在。")
        before = shop_snapshot(shop)
        if kind == AppKind.SHOP:
            shop.status = Status.CERTIFIED
            shop.status_reason = ""
            shop.certified_at = now
        else:
            _apply_shop_edit(shop, application.payload or {})
        db.session.flush()
        after = shop_snapshot(shop)
        entity_kind, entity_id = "shop", shop.id
        detail = "店铺已在企业页面公开。" if kind == AppKind.SHOP else "店铺变更已生效。"
    else:
        raise ServiceError("未知的申请类型。")
    record(f"application.approve.{kind}", actor=actor, entity_kind=entity_kind, entity_id=entity_id,
           enterprise_id=ent.id, before=before, after=after, note=f"申请 #{application.id} 通过")
    db.session.flush()
    return application, _decision_notice(application, approved=True, detail=detail)


def reject(app_id: int, actor, reason: str) -> tuple[Application, list[Notice]]:
    """Reject a pending application with a reason the merchant sees; the live listing stays."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("请填写驳回理由，商家会看到它。")
    application = _claim(app_id, AppStatus.REJECTED, actor, reason)
    ent = application.enterprise
    kind = application.kind
    entity_kind, entity_id = "enterprise", ent.id
    before = after = None
    if kind == AppKind.ENTERPRISE:
        before = {"status": ent.status}
        ent.status = Status.REJECTED
        ent.status_reason = reason
        for shop in ent.shops:
            if shop.status == Status.PENDING:
                shop.status = Status.DRAFT  # back to draft so a resubmission includes it
        after = {"status": ent.status, "reason": reason}
    elif kind == AppKind.SHOP and application.shop is not None:
        shop = application.shop
        entity_kind, entity_id = "shop", shop.id
        before = {"status": shop.status}
        shop.status = Status.REJECTED
        shop.status_reason = reason
        after = {"status": shop.status, "reason": reason}
    elif kind == AppKind.SHOP_EDIT and application.shop is not None:
        entity_kind, entity_id = "shop", application.shop.id
    record(f"application.reject.{kind}", actor=actor, entity_kind=entity_kind, entity_id=entity_id,
           enterprise_id=ent.id, before=before, after=after,
           note=f"申请 #{application.id} 驳回：{reason}")
    db.session.flush()
    return application, _decision_notice(application, approved=False, detail=f"理由：{reason}")


def _decision_notice(application: Application, *, approved: bool, detail: str) -> list[Notice]:
    user = application.applicant or application.enterprise.owner
    if user is None or not user.email:
        return []
    ent = application.enterprise
    verdict = "已通过" if approved else "未通过"
    subject = f"【广货网上行】您的{application.kind_label}申请{verdict}"
    target = ent.name
    if application.shop is not None and application.kind in (AppKind.SHOP, AppKind.SHOP_EDIT):
        target += f" / {application.shop.name}"
    body = (f"您好：\n\n您提交的{application.kind_label}申请（编号 {application.id}，{target}）{verdict}。\n"
            f"{detail}\n\n可登录商家中心查看详情：{site_link('/merchant/')}\n\n广货网上行 工作人员\n")
    return [Notice(user.email, subject, body)]


def site_link(path: str) -> str:
    """An absolute link for mails (``SERVER_NAME_FOR_LINKS`` + path)."""
    return current_app.config["SERVER_NAME_FOR_LINKS"] + path


def send_notices(notices: list[Notice]) -> None:
    """Send the mails collected during a committed transaction."""
    from .mail import send_mail

    for n in notices:
        send_mail(n.to, n.subject, n.body)


def review_seconds_median(since: datetime | None = None) -> float | None:
    """Median seconds from submission to decision of decided applications (None if none)."""
    stmt = select(Application.submitted_at, Application.decided_at).where(
        Application.decided_at.is_not(None), Application.status.in_((AppStatus.APPROVED, AppStatus.REJECTED)))
    if since is not None:
        stmt = stmt.where(Application.decided_at >= since)
    values = sorted((d - s).total_seconds() for s, d in db.session.execute(stmt))
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
