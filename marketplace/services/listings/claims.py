"""Claiming an imported (unowned) enterprise: the search for claimable listings and the
``Application(kind=claim)`` a merchant files for one.
"""
from __future__ import annotations

from sqlalchemy import select

from ...extensions import db
from ...models import AppKind, Application, AppStatus, Enterprise, User
from ...validation import ValidationError
from ...validation.text import clean_text, normalize_key
from ...validation.uscc import normalize_uscc
from .. import NotFound, ServiceError
from ..audit import record
from ..evidence import checked_submission, store_evidence
from .common import FieldErrors
from .lookups import require_merchant


def find_claimable(query: str, limit: int = 20) -> list[Enterprise]:
    """Imported, unowned enterprises matching a full USCC or part of the name."""
    query = (query or "").strip()
    try:
        query = clean_text(query, field="查询内容", max_length=120)
    except ValidationError:
        return []
    if not query:
        return []
    stmt = select(Enterprise).where(Enterprise.owner_id.is_(None))
    try:
        code = normalize_uscc(query)
        stmt = stmt.where(Enterprise.uscc == code)
    except ValidationError:
        key = normalize_key(query)
        if len(key) < 2:
            return []
        escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Enterprise.name_key.like(f"%{escaped}%", escape="\\"))
    return list(db.session.scalars(stmt.order_by(Enterprise.name_sort).limit(limit)).unique())


def claim_enterprise(user: User, enterprise_id: int, note: str = "", evidence: dict | None = None) -> Application:
    """Ask staff for control of an imported enterprise (Application kind=claim), with the
    evidence (licence and contacts, ``services.evidence``) that the claimant is the company."""
    require_merchant(user)
    ent = db.session.get(Enterprise, enterprise_id)
    if ent is None:
        raise NotFound("企业不存在。")
    if ent.owner_id == user.id:
        raise ServiceError("您已经管理该企业。")
    if ent.owner_id is not None:
        raise ServiceError("该企业已由其他账号管理，只能联系工作人员人工处理认领。")
    errors: dict[str, str] = {}
    try:
        note = clean_text(note, field="认领说明", max_length=500, multiline=True)
    except ValidationError as err:
        errors["note"] = str(err)
    try:
        fields, licence = checked_submission(evidence)
    except FieldErrors as err:
        errors.update(err.errors)
    if errors:
        raise FieldErrors(errors)
    existing = db.session.scalars(select(Application).where(
        Application.kind == AppKind.CLAIM, Application.enterprise_id == ent.id,
        Application.applicant_id == user.id, Application.status == AppStatus.PENDING,
    )).first()
    if existing is not None:
        raise ServiceError("您已提交过该企业的认领申请，请等待审核。")
    stored = store_evidence(user, ent, fields, licence)
    app_ = Application(kind=AppKind.CLAIM, enterprise_id=ent.id, applicant_id=user.id,
                       payload={"note": note}, status=AppStatus.PENDING, evidence_id=stored.id)
    db.session.add(app_)
    db.session.flush()
    record("application.submit", actor=user, entity_kind="application", entity_id=app_.id,
           enterprise_id=ent.id, after={"kind": AppKind.CLAIM, "payload": {"note": note}})
    return app_
