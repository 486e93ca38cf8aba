"""The review queue: pending applications, the checks staff see, and the decisions.

Decisions follow the status contract: an application is decided with the conditional
``UPDATE ... WHERE id = ? AND status = 'pending'`` of ``services.decisions``, issued *before*
anything else, so two staff deciding at once cannot both win — the loser gets ``AlreadyDecided``
and its request rolls back; nothing is decided twice. A claim is approved with a second
conditional UPDATE that only succeeds while the enterprise has no owner; the other pending claims
on it then lapse. Services flush, never commit; the applicant's mail is queued and goes out after
the commit (``services.mail``).
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    AppKind, Application, AppStatus, Enterprise, Platform, Shop, Status, enterprise_industry,
)
from ..clock import utc_now
from . import AlreadyDecided, ServiceError
from .audit import record
from .certificates import issue_certificates
from .decisions import decide
from .enterprise_fields import apply_enterprise_fields, enterprise_snapshot, shop_snapshot
from .mail import queue_mail
from .shop_codes import require_shop_checks
from .versioning import begin_edit

PER_PAGE = 20
CLAIM_LAPSED = "企业已被认领"


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



# --------------------------------------------------------------------------- decisions

def _audited_enterprise(ent: Enterprise) -> dict:
    """What a decision's audit entry records of an enterprise: its fields, status and owner."""
    return {**enterprise_snapshot(ent), "status": ent.status, "owner_id": ent.owner_id}


def _audited_shop(shop: Shop) -> dict:
    """What a decision's audit entry records of a shop: its fields and status."""
    return {**shop_snapshot(shop), "status": shop.status}


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


def approve(app_id: int, actor, seen_version=None, shop_checks=None) -> Application:
    """Approve a pending application and apply it per the Status contract; the applicant's
    mail is queued. ``seen_version`` is the application's version the review page showed;
    ``shop_checks`` the reviewer's mark per shop (``services.shop_codes``: verified, or waived
    with a reason) — without one for every shop the approval would make public it is refused.

    Raises ``AlreadyDecided`` when someone else decided it first, ``EditConflict`` when it
    changed since the page was rendered, ``ServiceError`` when it can no longer be applied.
    """
    require_shop_checks(app_id, actor, shop_checks)
    _lock_targets(app_id)
    _hand_over_claimed_enterprise(app_id)
    application = decide(app_id, AppStatus.APPROVED, actor=actor, seen_version=seen_version)
    apply = _APPROVERS.get(application.kind)
    if apply is None:
        raise ServiceError("未知的申请类型。")
    entity_kind, entity_id, before, after, detail = apply(application, actor)
    record(f"application.approve.{application.kind}", actor=actor, entity_kind=entity_kind, entity_id=entity_id,
           enterprise_id=application.enterprise_id, before=before, after=after, note=f"申请 #{application.id} 通过")
    db.session.flush()
    _mail_decision(application, approved=True, detail=detail)
    return application


def _lock_targets(app_id: int) -> None:
    """Lock the rows an approval will change, enterprise then shop, before the application row:
    the order a merchant's edit takes them (``begin_edit`` on the enterprise or shop, then the
    pending application). Taken the other way round, an approval and an edit of the same
    application deadlocked on PostgreSQL and one of them answered 503 (``bench/load_test.py``);
    now the later one waits, then finds the row changed (``EditConflict``) or decided."""
    target = db.session.execute(select(Application.enterprise_id, Application.shop_id)
                                .where(Application.id == app_id)).first()
    if target is None:
        return  # decide() says the application does not exist
    fresh = {"populate_existing": True}  # objects already loaded get the locked row's values
    db.session.execute(select(Enterprise).where(Enterprise.id == target.enterprise_id)
                       .with_for_update(of=Enterprise).execution_options(**fresh))
    if target.shop_id is not None:
        db.session.execute(select(Shop).where(Shop.id == target.shop_id).with_for_update(of=Shop).execution_options(**fresh))


def _hand_over_claimed_enterprise(app_id: int) -> None:
    """For a pending claim: give the enterprise to the claimant with one conditional UPDATE that
    only succeeds while it has no owner — before the decision itself, so that approvals of
    competing claims queue on the enterprise's row (the later one is refused) instead of waiting
    on each other's application rows."""
    claim = db.session.execute(select(Application.enterprise_id, Application.applicant_id).where(
        Application.id == app_id, Application.kind == AppKind.CLAIM, Application.status == AppStatus.PENDING)).first()
    if claim is None:
        return  # not a pending claim: decide() says why, if anything is wrong
    if claim.applicant_id is None:
        raise ServiceError("认领申请缺少申请人。")
    taken = db.session.execute(
        update(Enterprise).where(Enterprise.id == claim.enterprise_id, Enterprise.owner_id.is_(None))
        .values(owner_id=claim.applicant_id, version=Enterprise.version + 1)
        .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise ServiceError("该企业已由其他账号管理（已有认领申请通过），此认领申请不能通过，请驳回。")


def _approve_enterprise(application: Application, actor):
    """Certify the enterprise with its pending shops and issue its certificate — or, for a first
    certification, put it on 公示 (``services.gongshi``; certified when the notice ends)."""
    from . import gongshi  # gongshi imports this module (site_link)

    ent = application.enterprise
    begin_edit(ent)
    before = _audited_enterprise(ent)
    if gongshi.goes_on_notice(application):
        notice = gongshi.publish(application)
        after = _audited_enterprise(ent) | {"notice_ends_on": notice.ends_on.isoformat()}
        return "enterprise", ent.id, before, after, gongshi.approval_detail(notice)
    now = utc_now()
    ent.status, ent.status_reason, ent.certified_at = Status.CERTIFIED, "", now
    for shop in ent.shops:
        if shop.status == Status.PENDING:
            shop.status, shop.status_reason, shop.certified_at = Status.CERTIFIED, "", now
    cert = issue_certificates([ent.id])[ent.id]
    db.session.flush()
    db.session.expire(ent, ["certifications"])
    after = _audited_enterprise(ent) | {"certificate": cert.number, "valid_until": cert.valid_until.isoformat()}
    return "enterprise", ent.id, before, after, f"证书编号 {cert.number}，有效期至 {cert.valid_until:%Y-%m-%d}。"


def _approve_claim(application: Application, actor):
    """The enterprise is the claimant's now (``_hand_over_claimed_enterprise``): the other pending
    claims on it lapse, and their senders are told."""
    ent = application.enterprise
    db.session.refresh(ent)
    for other in db.session.scalars(select(Application).where(
            Application.kind == AppKind.CLAIM, Application.enterprise_id == ent.id,
            Application.status == AppStatus.PENDING, Application.id != application.id)).all():
        _lapse_claim(other, application, actor)
    return "enterprise", ent.id, {"owner_id": None}, {"owner_id": ent.owner_id}, "您现在可以在商家中心管理该企业。"


def _lapse_claim(claim: Application, winner: Application, actor) -> None:
    """Close a competing claim as lapsed (the enterprise now has an owner) and tell its sender."""
    try:
        decide(claim.id, AppStatus.LAPSED, reason=CLAIM_LAPSED)
    except AlreadyDecided:
        return  # withdrawn or decided meanwhile: nothing to lapse
    record("application.lapse.claim", actor=actor, entity_kind="application", entity_id=claim.id,
           enterprise_id=claim.enterprise_id, before={"status": AppStatus.PENDING},
           after={"status": AppStatus.LAPSED}, note=f"认领申请 #{winner.id} 已通过，本申请失效")
    user = claim.applicant
    if user is not None and user.email:
        queue_mail(user.email, f"【广货网上行】您的认领申请已失效（{CLAIM_LAPSED}）",
                   f"您好：\n\n您对「{claim.enterprise.name}」的认领申请（编号 {claim.id}）已失效：该企业已由另一个账号"
                   f"认领并通过审核。\n如您认为认领有误，请联系活动工作人员。\n\n商家中心：{site_link('/merchant/')}\n\n"
                   "广货网上行 工作人员\n")


def _approve_enterprise_edit(application: Application, actor):
    ent = application.enterprise
    begin_edit(ent)
    before = _audited_enterprise(ent)
    _apply_enterprise_edit(ent, application.payload or {})
    db.session.flush()
    return "enterprise", ent.id, before, _audited_enterprise(ent), "变更已在企业页面生效。"


def _approve_shop(application: Application, actor):
    """Apply a shop change, certify a new shop — or put a never-certified one on 公示."""
    from . import gongshi  # gongshi imports this module (site_link)

    shop = application.shop
    if shop is None:
        raise ServiceError("申请对应的店铺已不存在。")
    begin_edit(shop)
    before = _audited_shop(shop)
    if gongshi.goes_on_notice(application):
        notice = gongshi.publish(application)
        return "shop", shop.id, before, _audited_shop(shop), gongshi.approval_detail(notice)
    if application.kind == AppKind.SHOP:
        shop.status, shop.status_reason, shop.certified_at = Status.CERTIFIED, "", utc_now()
    else:
        _apply_shop_edit(shop, application.payload or {})
    db.session.flush()
    detail = "店铺已在企业页面公开。" if application.kind == AppKind.SHOP else "店铺变更已生效。"
    return "shop", shop.id, before, _audited_shop(shop), detail


_APPROVERS = {
    AppKind.ENTERPRISE: _approve_enterprise,
    AppKind.CLAIM: _approve_claim,
    AppKind.ENTERPRISE_EDIT: _approve_enterprise_edit,
    AppKind.SHOP: _approve_shop,
    AppKind.SHOP_EDIT: _approve_shop,
}


def reject(app_id: int, actor, reason: str, seen_version=None) -> Application:
    """Reject a pending application with a reason the merchant sees; the live listing stays."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("请填写驳回理由，商家会看到它。")
    application = decide(app_id, AppStatus.REJECTED, actor=actor, reason=reason, seen_version=seen_version)
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
    _mail_decision(application, approved=False, detail=f"理由：{reason}")
    return application


def _mail_decision(application: Application, *, approved: bool, detail: str) -> None:
    """Queue the decision mail to the applicant (or the enterprise's owner)."""
    user = application.applicant or application.enterprise.owner
    if user is None or not user.email:
        return
    ent = application.enterprise
    verdict = "已通过" if approved else "未通过"
    subject = f"【广货网上行】您的{application.kind_label}申请{verdict}"
    target = ent.name
    if application.shop is not None and application.kind in (AppKind.SHOP, AppKind.SHOP_EDIT):
        target += f" / {application.shop.name}"
    body = (f"您好：\n\n您提交的{application.kind_label}申请（编号 {application.id}，{target}）{verdict}。\n"
            f"{detail}\n\n可登录商家中心查看详情：{site_link('/merchant/')}\n\n广货网上行 工作人员\n")
    queue_mail(user.email, subject, body)


def site_link(path: str) -> str:
    """An absolute link for mails (``SERVER_NAME_FOR_LINKS`` + path)."""
    return current_app.config["SERVER_NAME_FOR_LINKS"] + path


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
