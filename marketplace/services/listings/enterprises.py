"""Creating and editing a merchant's enterprise: field validation, USCC and name checks, direct
edits of draft/rejected rows, queued ``enterprise_edit`` applications for certified ones, the logo.
"""
from __future__ import annotations

import re
from functools import partial

from sqlalchemy import select

from ...extensions import db
from ...models import (
    AppKind, Application, AppStatus, City, Enterprise, Industry, Status, User,
)
from ...clock import china_today, utc_now
from ...validation import ValidationError
from ...validation.phone import normalize_phone
from ...validation.text import clean_text, fold_fullwidth_alnum, normalize_key, split_list
from ...validation.urls import normalize_url
from ...validation.uscc import normalize_uscc
from .. import ServiceError
from ..audit import record
from ..enterprise_fields import apply_enterprise_fields, enterprise_name_key, enterprise_snapshot
from ..versioning import begin_edit
from .common import (
    _diff, EditResult, ENTERPRISE_EDIT_FIELDS, FieldErrors, MAX_BRANDS, MAX_INDUSTRIES,
    MIN_FOUNDED_YEAR, _set_withdrawn,
)
from .lookups import get_owned_enterprise, pending_application, require_merchant, suggest_city


def clean_enterprise_fields(data: dict, *, for_uscc: str | None = None) -> dict:
    """Validate the editable enterprise fields; return them cleaned or raise ``FieldErrors``.

    ``data`` keys: name, brands (text), city_id, industry_ids, description, website,
    founded_year, and the optional customer-service facts service_phone, service_hours, address. ``for_uscc`` lets the city default to the one suggested by the code. Every
    field is checked (one message per field), so the form shows all problems at once.
    """
    cleaners = {
        "name": _clean_name, "brands": _clean_brands, "city_id": partial(_clean_city_id, for_uscc=for_uscc),
        "industry_ids": _clean_industry_ids, "description": _clean_description, "website": _clean_website,
        "founded_year": _clean_founded_year, "service_phone": _clean_service_phone,
        "service_hours": partial(_clean_optional, field="服务时间", max_length=60),
        "address": partial(_clean_optional, field="地址", max_length=200),
    }
    errors: dict[str, str] = {}
    out: dict = {}
    for field, clean in cleaners.items():
        try:
            out[field] = clean(data.get(field))
        except ValidationError as err:
            errors[field] = str(err)
    if errors:
        raise FieldErrors(errors)
    return out


def _clean_name(raw) -> str:
    name = clean_text(raw, field="企业名称", max_length=120, required=True)
    if len(name) < 2:
        raise ValidationError("企业名称太短。")
    return name


def _clean_brands(raw) -> list[str]:
    """Brand names from a ``；``/``、``-separated cell or a list; duplicates (by key) dropped."""
    raw = raw or ""
    if isinstance(raw, (list, tuple)):
        raw = ";".join(raw)
    clean_text(raw, field="品牌", max_length=1000)  # NUL / bidi checks on the whole cell
    brands: list[str] = []
    keys: set[str] = set()
    for part in split_list(raw):
        name = clean_text(part, field="品牌名称", max_length=60, required=True)
        key = normalize_key(name)
        if key and key not in keys:
            keys.add(key)
            brands.append(name)
    if len(brands) > MAX_BRANDS:
        raise ValidationError(f"品牌最多 {MAX_BRANDS} 个。")
    return brands


def _clean_city_id(raw, *, for_uscc: str | None) -> int:
    """The chosen city, or (when none is chosen) the one the 统一社会信用代码 suggests."""
    if raw not in (None, "", 0, "0"):
        try:
            city = db.session.get(City, int(raw))
        except (TypeError, ValueError):
            city = None
        if city is None:
            raise ValidationError("请选择有效的城市。")
        return city.id
    city = suggest_city(for_uscc) if for_uscc else None
    if city is None:
        raise ValidationError("请选择企业所在城市。")
    return city.id


def _clean_industry_ids(raw) -> list[int]:
    """One to MAX_INDUSTRIES active industries, in the order chosen, duplicates dropped."""
    try:
        ids = list(dict.fromkeys(int(raw_id) for raw_id in raw or []))
    except (TypeError, ValueError):
        raise ValidationError("请选择有效的行业。") from None
    if not ids:
        raise ValidationError("请至少选择一个行业。")
    found = set(db.session.scalars(select(Industry.id).where(Industry.id.in_(ids), Industry.active.is_(True))))
    if len(found) != len(ids):
        raise ValidationError("请选择有效的行业。")
    if len(ids) > MAX_INDUSTRIES:
        raise ValidationError(f"行业最多选择 {MAX_INDUSTRIES} 个。")
    return ids


def _clean_description(raw) -> str:
    return clean_text(raw, field="企业简介", max_length=2000, multiline=True)


def _clean_website(raw) -> str:
    """The official site as a normalised http(s) URL, or "" when none is given."""
    website = (raw or "").strip()
    if not website:
        return ""
    clean_text(website, field="官网", max_length=500)
    url = normalize_url(website, field="官网")
    if len(url) > 500:
        raise ValidationError("官网网址过长。")
    return url


SERVICE_NUMBER = re.compile(r"([48]00)[-\s]?(\d{3})[-\s]?(\d{4})")


def _clean_service_phone(raw) -> str:
    """A customer-service number: a 400/800 number (``400-123-4567``), a mobile or a landline."""
    text = clean_text(raw, field="客服电话", max_length=40)
    if not text:
        return ""
    match = SERVICE_NUMBER.fullmatch(fold_fullwidth_alnum(text))
    if match:
        return "-".join(match.groups())
    try:
        return normalize_phone(text)
    except ValidationError:
        raise ValidationError("客服电话请填写 400/800 电话（如 400-123-4567）、手机号或带区号的固定电话。") from None


def _clean_optional(raw, *, field: str, max_length: int) -> str:
    return clean_text(raw, field=field, max_length=max_length)


def _clean_founded_year(raw) -> int | None:
    year = "" if raw is None else str(raw).strip()
    if not year:
        return None
    this_year = china_today().year
    if not year.isdigit() or len(year) != 4 or not (MIN_FOUNDED_YEAR <= int(year) <= this_year):
        raise ValidationError(f"成立年份应为 {MIN_FOUNDED_YEAR}–{this_year} 之间的四位数字。")
    return int(year)


def _check_name_free(name: str, *, exclude_id: int | None = None) -> None:
    """Refuse a legal name already used by another enterprise (compared after NFKC + casefold)."""
    stmt = select(Enterprise).where(Enterprise.name_key == enterprise_name_key(name))
    if exclude_id is not None:
        stmt = stmt.where(Enterprise.id != exclude_id)
    other = db.session.scalars(stmt).first()
    if other is None:
        return
    if other.owner_id is None:
        raise FieldErrors({"name": "已有同名企业登记在名录中；如果这是您的企业，请使用“认领企业”。"})
    raise FieldErrors({"name": "已有同名企业登记在名录中；如有疑问请联系工作人员。"})


def _apply_fields(ent: Enterprise, fields: dict) -> dict:
    """Write cleaned/payload fields onto the live enterprise row (the shared rules)."""
    return apply_enterprise_fields(ent, fields)


def check_uscc_for_new(uscc_raw: str, user: User | None = None) -> str:
    """Validate a code for a new enterprise; explain what to do when it is already listed."""
    try:
        code = normalize_uscc(uscc_raw)
    except ValidationError as err:
        raise FieldErrors({"uscc": str(err)}) from None
    existing = db.session.scalar(select(Enterprise).where(Enterprise.uscc == code))
    if existing is not None:
        if user is not None and existing.owner_id == user.id:
            raise FieldErrors({"uscc": "您已登记过该企业，请在商家中心直接编辑。"})
        if existing.owner_id is None:
            raise FieldErrors({"uscc": "该统一社会信用代码的企业已由活动方导入名录，请使用“认领企业”申请管理权，无需重新创建。"})
        raise FieldErrors({"uscc": "该统一社会信用代码已被其他账号登记。如确属贵企业，请联系工作人员通过人工审核认领。"})
    return code


def create_enterprise(user: User, data: dict) -> Enterprise:
    """Create a draft enterprise owned by ``user`` from form ``data`` (see clean_enterprise_fields)."""
    require_merchant(user)
    errors: dict[str, str] = {}
    code = None
    try:
        code = check_uscc_for_new(data.get("uscc") or "", user)
    except FieldErrors as err:
        errors.update(err.errors)
    try:
        fields = clean_enterprise_fields(data, for_uscc=code)
    except FieldErrors as err:
        errors.update(err.errors)
        fields = {}
    if errors:
        raise FieldErrors(errors)
    _check_name_free(fields["name"])
    ent = Enterprise(uscc=code, status=Status.DRAFT, owner_id=user.id, source="merchant",
                     name="", name_key="", name_sort="")
    _apply_fields(ent, fields)
    db.session.add(ent)
    db.session.flush()
    record("enterprise.create", actor=user, entity_kind="enterprise", entity_id=ent.id,
           enterprise_id=ent.id, after={"uscc": code, **enterprise_snapshot(ent)})
    return ent


def _check_editable(ent: Enterprise) -> None:
    if ent.status == Status.PENDING:
        raise ServiceError("该企业正在审核中，暂不能修改。如需修改，请先撤回认证申请。")
    if ent.status == Status.NOTICE:
        raise ServiceError("该企业正在公示中，公示期间不能修改；认证生效后可以提交变更。")
    if ent.status in (Status.SUSPENDED, Status.REVOKED):
        raise ServiceError(f"该企业{ent.status_label}，不能修改；如有疑问请联系工作人员。")


def _queue_enterprise_edit(user: User, ent: Enterprise, changes: dict) -> EditResult:
    """Merge ``changes`` into the pending enterprise_edit application (created when needed).

    The payload always holds only the fields that differ from the live row; an edit that puts
    everything back withdraws the pending application.
    """
    live = enterprise_snapshot(ent)
    app_ = pending_application(ent, AppKind.ENTERPRISE_EDIT)
    merged = dict(app_.payload or {}) if app_ else {}
    merged.update(changes)
    payload = _diff(live, merged, ENTERPRISE_EDIT_FIELDS)
    fresh = None
    if "name" in payload:
        _check_name_free(payload["name"], exclude_id=ent.id)
        fresh = _name_change_evidence(user, ent, app_)
    if app_ is None:
        if not payload:
            return EditResult(applied=False)
        app_ = Application(kind=AppKind.ENTERPRISE_EDIT, enterprise_id=ent.id, applicant_id=user.id,
                           payload=payload, status=AppStatus.PENDING, evidence_id=fresh.id if fresh else None)
        db.session.add(app_)
        db.session.flush()
        record("application.submit", actor=user, entity_kind="application", entity_id=app_.id,
               enterprise_id=ent.id, before=None, after={"kind": app_.kind, "payload": payload})
        return EditResult(applied=False, application=app_, changed=tuple(payload))
    before = dict(app_.payload or {})
    if not payload and not _changes_legal_representative(app_):
        _set_withdrawn(user, app_, note="修改已全部恢复为已认证内容")
        return EditResult(applied=False, application=app_)
    if fresh is not None:
        app_.evidence_id = fresh.id
    app_.payload = payload  # a new dict so the JSON column is marked changed
    db.session.flush()
    record("application.update", actor=user, entity_kind="application", entity_id=app_.id,
           enterprise_id=ent.id, before={"payload": before}, after={"payload": payload})
    return EditResult(applied=False, application=app_, changed=tuple(payload))


MSG_NAME_NEEDS_LICENCE = "变更企业名称需要变更后的营业执照：请先在企业页面点击“更新认证材料”上传，再提交新名称。"


def _changes_legal_representative(app_: Application) -> bool:
    """Does the pending change's evidence name another legal representative than the evidence
    the certification rests on? (Then it stays pending with no field changes.)"""
    from ..evidence import approved_evidence

    if app_.evidence is None:
        return False
    previous = approved_evidence(app_.enterprise_id, before_app_id=app_.id)
    return previous is not None and previous.legal_representative != app_.evidence.legal_representative


def _name_change_evidence(user: User, ent: Enterprise, app_: Application | None):
    """The evidence a change of a certified enterprise's name rests on: the pending change's own,
    or fresh evidence uploaded since certification; refused (on the name field) without one."""
    from ..evidence import unused_fresh_evidence

    if app_ is not None and app_.evidence_id is not None:
        return None  # already attached
    fresh = unused_fresh_evidence(user, ent)
    if fresh is None:
        raise FieldErrors({"name": MSG_NAME_NEEDS_LICENCE})
    return fresh


def update_enterprise(user: User, enterprise_id: int, data: dict) -> EditResult:
    """Edit an owned enterprise: directly while unpublished, via enterprise_edit when certified.

    ``data["version"]`` is the version the edit form was rendered with: an edit from an outdated
    page, or one racing another edit of the same enterprise, is refused (``EditConflict``).
    """
    ent = get_owned_enterprise(user, enterprise_id)
    _check_editable(ent)
    fields = clean_enterprise_fields(data, for_uscc=ent.uscc)
    begin_edit(ent, data.get("version"))
    if ent.status == Status.CERTIFIED:
        fields.pop("logo_sha256", None)
        return _queue_enterprise_edit(user, ent, fields)
    before = enterprise_snapshot(ent)
    changed = _diff(before, fields, ENTERPRISE_EDIT_FIELDS)
    if not changed:
        return EditResult(applied=True)
    if "name" in changed:
        _check_name_free(changed["name"], exclude_id=ent.id)
    _apply_fields(ent, changed)
    ent.updated_at = utc_now()
    db.session.flush()
    record("enterprise.update", actor=user, entity_kind="enterprise", entity_id=ent.id,
           enterprise_id=ent.id, before={k: before[k] for k in changed}, after=changed)
    return EditResult(applied=True, changed=tuple(changed))


def set_logo(user: User, enterprise_id: int, data: bytes, seen_version=None) -> EditResult:
    """Store an uploaded logo (re-encoded by the image pipeline) for an owned enterprise.

    Unpublished enterprises get it at once; a certified one gets it through enterprise_edit.
    ``seen_version`` as in ``update_enterprise``.
    """
    ent = get_owned_enterprise(user, enterprise_id)
    _check_editable(ent)
    from ..images import store_image

    try:
        image = store_image(data)
    except ValidationError as err:
        raise FieldErrors({"logo": str(err)}) from None
    begin_edit(ent, seen_version)
    if ent.status == Status.CERTIFIED:
        return _queue_enterprise_edit(user, ent, {"logo_sha256": image.sha256})
    before = ent.logo_sha256
    ent.logo_sha256 = image.sha256
    db.session.flush()
    record("enterprise.logo", actor=user, entity_kind="enterprise", entity_id=ent.id,
           enterprise_id=ent.id, before={"logo_sha256": before}, after={"logo_sha256": image.sha256})
    return EditResult(applied=True, changed=("logo_sha256",))
