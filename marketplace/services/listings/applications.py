"""Submitting an enterprise (with its draft shops) for certification and withdrawing a pending
application, with the conditional UPDATEs that guard against a second submission and against a
concurrent staff decision.
"""
from __future__ import annotations

from sqlalchemy import update

from ...extensions import db
from ...models import AppKind, Application, AppStatus, Enterprise, Status, User
from ...clock import utc_now
from .. import ServiceError
from ..audit import record
from ..evidence import checked_submission, store_evidence
from ..shop_codes import assign_code
from .common import _set_withdrawn, SUBMITTABLE_STATUSES
from .lookups import get_own_application, get_owned_enterprise


def submit_for_certification(user: User, enterprise_id: int, evidence: dict | None = None) -> Application:
    """Submit a draft/rejected/expired enterprise with its shops (Application kind=enterprise).

    ``evidence`` is the typed evidence plus the licence bytes (``services.evidence``); it is
    checked before anything changes and stored with the application. Every shop under review
    gets its verification code (``services.shop_codes``)."""
    ent = get_owned_enterprise(user, enterprise_id)
    if ent.status not in SUBMITTABLE_STATUSES:
        if ent.status == Status.PENDING:
            raise ServiceError("该企业已在审核中，请耐心等待。")
        raise ServiceError(f"该企业当前状态为“{ent.status_label}”，不能提交认证申请。")
    reviewable = [s for s in ent.shops if s.status in (Status.DRAFT, Status.REJECTED, Status.CERTIFIED)]
    if not reviewable:
        raise ServiceError("请先添加至少一个网店，再提交认证申请。")
    if not ent.industries:
        raise ServiceError("请先在企业资料中选择所属行业。")
    fields, licence = checked_submission(evidence)
    before = {"status": ent.status, "shops": {s.id: s.status for s in ent.shops}}
    # Conditional UPDATE: of two submissions racing, only one moves the enterprise to pending.
    moved = db.session.execute(
        update(Enterprise)
        .where(Enterprise.id == ent.id, Enterprise.status.in_(SUBMITTABLE_STATUSES))
        .values(status=Status.PENDING, status_reason="", updated_at=utc_now(), version=Enterprise.version + 1)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise ServiceError("该企业已在审核中，请耐心等待。")
    db.session.refresh(ent, ["status", "status_reason", "updated_at", "version"])
    ent.updated_at = utc_now()  # an ORM change too, so the search outbox hears about it
    for shop in ent.shops:
        if shop.status in (Status.DRAFT, Status.REJECTED):
            shop.status = Status.PENDING
            shop.status_reason = ""
        assign_code(shop)
    stored = store_evidence(user, ent, fields, licence)
    app_ = Application(kind=AppKind.ENTERPRISE, enterprise_id=ent.id, applicant_id=user.id,
                       payload={}, status=AppStatus.PENDING, evidence_id=stored.id)
    db.session.add(app_)
    db.session.flush()
    record("application.submit", actor=user, entity_kind="application", entity_id=app_.id,
           enterprise_id=ent.id, before=before,
           after={"kind": AppKind.ENTERPRISE, "status": Status.PENDING,
                  "shops": {s.id: s.status for s in ent.shops}})
    return app_


def withdraw_application(user: User, application_id: int) -> Application:
    """Withdraw one of the user's pending applications; listings under review go back to draft."""
    app_ = get_own_application(user, application_id)
    if app_.status != AppStatus.PENDING:
        raise ServiceError("该申请已处理，不能撤回。")
    _set_withdrawn(user, app_)
    ent = app_.enterprise
    if app_.kind == AppKind.ENTERPRISE and ent.status == Status.PENDING:
        ent.status = Status.DRAFT
        for shop in ent.shops:
            if shop.status == Status.PENDING:
                shop.status = Status.DRAFT
    elif app_.kind == AppKind.SHOP and app_.shop is not None and app_.shop.status == Status.PENDING:
        app_.shop.status = Status.DRAFT
    db.session.flush()
    return app_
