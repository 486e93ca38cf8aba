"""Evidence with every application: the business licence (营业执照) and who stands behind the
enterprise (legal representative, contact person with mobile and email, registered address).

``clean_evidence`` checks everything (fields and file) before ``store_evidence`` adds a row, so a
refusal stores nothing. A licence image goes through the image pipeline (re-encoded, metadata
stripped, legible size kept); a PDF through ``services/pdfs.py`` (checked, metadata removed, pages
rendered for staff). The rows are private: ``for_uploader`` lets only the user who uploaded them
read them (everyone else gets the same ``NotFound`` as for an id that does not exist), staff read
them through ``for_staff``. No public page, API, search document, export, sitemap or feed reads
this module.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import (
    PDF_MIME, Application, AppKind, AppStatus, Complaint, Enterprise, Evidence, EvidencePage, Status, User,
)
from ..validation import ValidationError
from ..validation.phone import MOBILE, normalize_phone
from ..validation.text import clean_text
from . import NotFound, ServiceError
from .images import process_image
from .listings.common import FieldErrors
from .pdfs import clean_pdf, is_pdf, render_pages

LICENCE_MAX_SIDE = 2000  # a licence photo must stay legible: the code and the small print
MSG_MOBILE = "请填写联系人的手机号（11 位，以 1 开头）。"
EVIDENCE_FIELDS = ("legal_representative", "contact_name", "contact_mobile", "contact_email", "registered_address")


@dataclass
class Licence:
    """A checked licence ready to store: the kept bytes, their type, and rendered PDF pages."""

    data: bytes
    mime: str
    pages: list


def clean_licence(raw: bytes | None) -> Licence:
    """The licence as kept, or ``ValidationError``: an image (PNG/JPEG/WebP, re-encoded) or a PDF
    (at most 10 MB and 5 pages; no encryption, scripts or embedded files)."""
    if not raw:
        raise ValidationError("请上传营业执照（图片或 PDF）。")
    if is_pdf(raw):
        pdf = clean_pdf(raw)
        return Licence(pdf.data, PDF_MIME, render_pages(pdf.data))
    out, mime, _w, _h = process_image(raw, max_side=LICENCE_MAX_SIDE)
    return Licence(out, mime, [])


def _mobile(raw) -> str:
    try:
        number = normalize_phone(raw)
    except ValidationError:
        raise ValidationError(MSG_MOBILE) from None
    if not MOBILE.fullmatch(number):
        raise ValidationError(MSG_MOBILE)
    return number


def _email(raw) -> str:
    from .accounts import normalize_email  # accounts imports the listings package; import late

    try:
        return normalize_email(raw)
    except ServiceError as err:
        raise ValidationError(str(err).replace("邮箱", "联系人邮箱")) from None


def clean_fields(data: dict) -> tuple[dict, dict[str, str]]:
    """The typed evidence fields cleaned, and the errors by field name."""
    out: dict = {}
    errors: dict[str, str] = {}
    rules = {
        "legal_representative": lambda v: clean_text(v, field="法定代表人姓名", max_length=40, required=True),
        "contact_name": lambda v: clean_text(v, field="联系人姓名", max_length=40, required=True),
        "contact_mobile": _mobile,
        "contact_email": _email,
        "registered_address": lambda v: clean_text(v, field="注册地址（住所）", max_length=200, required=True),
    }
    for name, rule in rules.items():
        try:
            out[name] = rule(data.get(name))
        except ValidationError as err:
            errors[name] = str(err)
    return out, errors


def clean_evidence(data: dict, licence: bytes | None) -> tuple[dict, Licence]:
    """Check the fields and the licence together; ``FieldErrors`` names every bad one."""
    fields, errors = clean_fields(data)
    cleaned = None
    try:
        cleaned = clean_licence(licence)
    except ValidationError as err:
        errors["licence"] = str(err)
    if errors:
        raise FieldErrors(errors)
    return fields, cleaned


def checked_submission(submitted: dict | None) -> tuple[dict, Licence]:
    """``clean_evidence`` for a submission dict (the typed fields plus ``licence`` bytes), as the
    application services take it; a missing submission is refused like a missing licence."""
    submitted = submitted or {}
    return clean_evidence(submitted, submitted.get("licence"))


def store_evidence(user: User, enterprise: Enterprise, fields: dict, licence: Licence) -> Evidence:
    """Add the checked evidence (from ``clean_evidence``) for ``enterprise``; flushes."""
    row = Evidence(enterprise_id=enterprise.id, uploaded_by_id=user.id, licence_mime=licence.mime,
                   licence_data=licence.data, licence_sha256=hashlib.sha256(licence.data).hexdigest(), **fields)
    for number, page in enumerate(licence.pages, start=1):
        row.pages.append(EvidencePage(page_no=number, mime=page.mime, width=page.width, height=page.height,
                                      data=page.data))
    db.session.add(row)
    db.session.flush()
    return row


def latest_for(user: User, enterprise_id: int) -> Evidence | None:
    """The newest evidence ``user`` uploaded for an enterprise (prefills the next form)."""
    return db.session.scalar(select(Evidence).where(
        Evidence.enterprise_id == enterprise_id, Evidence.uploaded_by_id == user.id)
        .order_by(Evidence.id.desc()).limit(1))


def prefill(user: User, enterprise_id: int) -> dict:
    """The typed fields of the user's last evidence for this enterprise (never the file)."""
    last = latest_for(user, enterprise_id)
    return {k: getattr(last, k) for k in EVIDENCE_FIELDS} if last is not None else {}


def for_uploader(user, evidence_id: int) -> Evidence:
    """Evidence the signed-in ``user`` uploaded; ``NotFound`` for anyone else's."""
    row = db.session.get(Evidence, evidence_id)
    if row is None or user is None or row.uploaded_by_id != getattr(user, "id", None):
        raise NotFound("材料不存在。")
    return row


def for_staff(evidence_id: int) -> Evidence:
    row = db.session.get(Evidence, evidence_id)
    if row is None:
        raise NotFound("材料不存在。")
    return row


def page_of(row: Evidence, page_no: int) -> EvidencePage:
    page = next((p for p in row.pages if p.page_no == page_no), None)
    if page is None:
        raise NotFound("页面不存在。")
    return page


def licence_filename(row: Evidence) -> str:
    ext = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(row.licence_mime, "bin")
    return f"licence-{row.id}.{ext}"


def applicant_history(application: Application) -> dict:
    """What staff should know about the applicant: earlier rejections (any enterprise), the
    other enterprises they own or applied for, and complaints against those enterprises."""
    user_id = application.applicant_id
    if user_id is None:
        return {"rejections": [], "enterprises": [], "complaints": []}
    rejections = db.session.scalars(select(Application).where(
        Application.applicant_id == user_id, Application.status == AppStatus.REJECTED,
        Application.id != application.id).order_by(Application.decided_at.desc()).limit(10)).all()
    applied = select(Application.enterprise_id).where(Application.applicant_id == user_id)
    enterprises = db.session.scalars(select(Enterprise).where(
        (Enterprise.owner_id == user_id) | Enterprise.id.in_(applied),
        Enterprise.id != application.enterprise_id).order_by(Enterprise.id).limit(20)).all()
    ent_ids = [e.id for e in enterprises] + [application.enterprise_id]
    complaints = db.session.scalars(select(Complaint).where(Complaint.enterprise_id.in_(ent_ids))
                                    .order_by(Complaint.id.desc()).limit(10)).all()
    return {"rejections": rejections, "enterprises": enterprises, "complaints": complaints}


def approved_evidence(enterprise_id: int, *, before_app_id: int | None = None) -> Evidence | None:
    """The evidence of the enterprise's latest approved application (what its certification
    rests on) — the comparison for a change of legal representative."""
    stmt = (select(Evidence).join(Application, Application.evidence_id == Evidence.id)
            .where(Application.enterprise_id == enterprise_id, Application.status == AppStatus.APPROVED))
    if before_app_id is not None:
        stmt = stmt.where(Application.id < before_app_id)
    return db.session.scalar(stmt.order_by(Application.id.desc()).limit(1))


def unused_fresh_evidence(user: User, enterprise: Enterprise) -> Evidence | None:
    """Evidence ``user`` uploaded for ``enterprise`` since it was certified that no application
    uses yet: what a change of name brings along (``update_evidence`` first, then the edit)."""
    used = select(Application.evidence_id).where(Application.evidence_id.is_not(None))
    stmt = select(Evidence).where(Evidence.enterprise_id == enterprise.id, Evidence.uploaded_by_id == user.id,
                                  Evidence.id.not_in(used))
    if enterprise.certified_at is not None:
        stmt = stmt.where(Evidence.created_at >= enterprise.certified_at)
    return db.session.scalar(stmt.order_by(Evidence.id.desc()).limit(1))


def update_evidence(user: User, enterprise_id: int, submitted: dict) -> tuple[Evidence, Application | None]:
    """A certified enterprise's owner hands in new evidence (a changed name, legal representative
    or address). It joins the pending change application if there is one; a new legal
    representative opens one (staff check the licence); otherwise it waits for the name change
    it supports (``unused_fresh_evidence``). Returns the evidence and the application it joined."""
    from .audit import record
    from .listings.lookups import get_owned_enterprise, pending_application

    ent = get_owned_enterprise(user, enterprise_id)
    if ent.status != Status.CERTIFIED:
        raise ServiceError("只有已认证的企业可以单独更新认证材料；未认证的企业请在提交认证申请时上传。")
    fields, licence = checked_submission(submitted)
    row = store_evidence(user, ent, fields, licence)
    app_ = pending_application(ent, AppKind.ENTERPRISE_EDIT)
    previous = approved_evidence(ent.id)
    if app_ is None and (previous is None or previous.legal_representative != row.legal_representative):
        app_ = Application(kind=AppKind.ENTERPRISE_EDIT, enterprise_id=ent.id, applicant_id=user.id,
                           payload={}, status=AppStatus.PENDING)
        db.session.add(app_)
    if app_ is not None:
        app_.evidence_id = row.id
        db.session.flush()
        record("application.evidence", actor=user, entity_kind="application", entity_id=app_.id,
               enterprise_id=ent.id, after={"kind": app_.kind, "evidence_id": row.id},
               note="更新认证材料（营业执照、法定代表人等）")
    return row, app_

