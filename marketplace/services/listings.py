"""Merchant-side operations on enterprises, shops and certification applications.

Every function takes the acting merchant and checks ownership itself, so a view cannot forget
it: another merchant's object is reported as ``NotFound`` (the view turns that into a 404) and
nothing changes. Functions flush, never commit, and write an audit entry for every change.

The status contract (see the team brief) is followed exactly:

* draft / rejected / expired enterprises are edited directly and submitted as an
  ``Application(kind=enterprise)``; the enterprise and its draft shops become pending;
* a certified enterprise is never edited directly: its changes wait in a pending
  ``Application(kind=enterprise_edit)`` whose payload holds only the changed fields;
* a shop added to a certified enterprise is pending behind an ``Application(kind=shop)``;
  a certified shop's changes wait in an ``Application(kind=shop_edit)``;
* removing a shop takes effect at once, also for a certified shop: it only reduces what
  consumers see, so there is nothing for staff to check (the audit log keeps the trace).
  Suspended or revoked shops cannot be removed by the merchant, so a staff decision is never
  erased; pending listings under review cannot change until the application is withdrawn.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select, update

from ..extensions import db
from ..models import (
    AppKind, Application, AppStatus, Brand, City, ClickEvent, Complaint, Enterprise,
    Industry, Platform, Role, Shop, ShopType, Status, User, utcnow,
)
from ..validation import ValidationError
from ..validation.text import clean_text, normalize_key, pinyin_sort_key, split_list
from ..validation.urls import normalize_url, validate_shop_url
from ..validation.uscc import normalize_uscc, suggested_city_code
from . import Forbidden, NotFound, ServiceError
from .audit import record

MAX_BRANDS = 10
MAX_INDUSTRIES = 5
MIN_FOUNDED_YEAR = 1800

# Statuses in which the merchant edits the row itself (nothing of it is public).
DIRECT_EDIT_STATUSES = (Status.DRAFT, Status.REJECTED, Status.EXPIRED)
# Statuses from which an enterprise can be submitted for (re-)certification.
SUBMITTABLE_STATUSES = (Status.DRAFT, Status.REJECTED, Status.EXPIRED)
ENTERPRISE_EDIT_FIELDS = ("name", "brands", "city_id", "industry_ids", "description", "website",
                          "founded_year", "logo_sha256")
SHOP_EDIT_FIELDS = ("name", "url", "shop_type", "platform_id")


class FieldErrors(ServiceError):
    """Input refused field by field; ``errors`` maps a form field name to a Chinese message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("；".join(errors.values()))


# --------------------------------------------------------------------------- lookups


def _require_merchant(user: User) -> None:
    if user is None or not getattr(user, "is_authenticated", False) or user.role != Role.MERCHANT:
        raise Forbidden("只有商家账号可以管理企业和店铺。")


def owned_enterprises(user: User) -> list[Enterprise]:
    """The enterprises ``user`` controls, newest first."""
    return list(db.session.scalars(
        select(Enterprise).where(Enterprise.owner_id == user.id).order_by(Enterprise.id.desc())
    ).unique())


def get_owned_enterprise(user: User, enterprise_id: int) -> Enterprise:
    """The enterprise ``enterprise_id`` if ``user`` owns it; ``NotFound`` otherwise (no leak)."""
    _require_merchant(user)
    ent = db.session.get(Enterprise, enterprise_id)
    if ent is None or ent.owner_id != user.id:
        raise NotFound("企业不存在。")
    return ent


def get_owned_shop(user: User, shop_id: int) -> Shop:
    """The shop ``shop_id`` if its enterprise belongs to ``user``; ``NotFound`` otherwise."""
    _require_merchant(user)
    shop = db.session.get(Shop, shop_id)
    if shop is None or shop.enterprise.owner_id != user.id:
        raise NotFound("店铺不存在。")
    return shop


def get_own_application(user: User, application_id: int) -> Application:
    """An application ``user`` submitted or that concerns an enterprise they own."""
    _require_merchant(user)
    app_ = db.session.get(Application, application_id)
    if app_ is None:
        raise NotFound("申请不存在。")
    owner_id = app_.enterprise.owner_id if app_.enterprise else None
    if app_.applicant_id != user.id and owner_id != user.id:
        raise NotFound("申请不存在。")
    return app_


def user_applications(user: User, limit: int = 200) -> list[Application]:
    """Applications by ``user`` or about their enterprises, newest first (the history)."""
    owned = select(Enterprise.id).where(Enterprise.owner_id == user.id)
    return list(db.session.scalars(
        select(Application)
        .where(or_(Application.applicant_id == user.id, Application.enterprise_id.in_(owned)))
        .order_by(Application.submitted_at.desc(), Application.id.desc())
        .limit(limit)
    ))


def pending_application(enterprise: Enterprise, kind: str, shop: Shop | None = None) -> Application | None:
    """The pending application of ``kind`` for an enterprise (or one of its shops), if any."""
    stmt = select(Application).where(
        Application.enterprise_id == enterprise.id, Application.kind == kind,
        Application.status == AppStatus.PENDING,
    )
    if shop is not None:
        stmt = stmt.where(Application.shop_id == shop.id)
    return db.session.scalars(stmt.order_by(Application.id)).first()


def queue_position(application: Application) -> int | None:
    """1-based place in the review queue (oldest first); None unless pending."""
    if application.status != AppStatus.PENDING:
        return None
    ahead = db.session.scalar(
        select(func.count(Application.id)).where(
            Application.status == AppStatus.PENDING,
            or_(Application.submitted_at < application.submitted_at,
                (Application.submitted_at == application.submitted_at) & (Application.id < application.id)),
        )
    )
    return int(ahead or 0) + 1


def active_platforms() -> list[Platform]:
    return list(db.session.scalars(select(Platform).where(Platform.active.is_(True)).order_by(Platform.position)))


def active_industries() -> list[Industry]:
    return list(db.session.scalars(select(Industry).where(Industry.active.is_(True)).order_by(Industry.position)))


def all_cities() -> list[City]:
    return list(db.session.scalars(select(City).order_by(City.position)))


def suggest_city(uscc_raw: str) -> City | None:
    """The Guangdong city a valid code's area digits point to, or None."""
    try:
        code = normalize_uscc(uscc_raw)
    except ValidationError:
        return None
    city_code = suggested_city_code(code)
    if not city_code:
        return None
    return db.session.scalar(select(City).where(City.code == city_code))


# --------------------------------------------------------------------------- enterprise fields


def _snapshot(ent: Enterprise) -> dict:
    """The editable fields of an enterprise in payload form (for diffs and the audit log)."""
    return {
        "name": ent.name,
        "brands": list(ent.brand_names),
        "city_id": ent.city_id,
        "industry_ids": [i.id for i in ent.industries],
        "description": ent.description or "",
        "website": ent.website or "",
        "founded_year": ent.founded_year,
        "logo_sha256": ent.logo_sha256,
    }


def _shop_snapshot(shop: Shop) -> dict:
    return {"name": shop.name, "url": shop.url, "shop_type": shop.shop_type, "platform_id": shop.platform_id}


def clean_enterprise_fields(data: dict, *, for_uscc: str | None = None) -> dict:
    """Validate the editable enterprise fields; return them cleaned or raise ``FieldErrors``.

    ``data`` keys: name, brands (text), city_id, industry_ids, description, website,
    founded_year. ``for_uscc`` lets the city default to the one suggested by the code.
    """
    errors: dict[str, str] = {}
    out: dict = {}
    try:
        out["name"] = clean_text(data.get("name"), field="企业名称", max_length=120, required=True)
        if len(out["name"]) < 2:
            raise ValidationError("企业名称太短。")
    except ValidationError as err:
        errors["name"] = str(err)
    try:
        brands: list[str] = []
        keys: set[str] = set()
        raw = data.get("brands") or ""
        if isinstance(raw, (list, tuple)):
            raw = ";".join(raw)
        clean_text(raw, field="品牌", max_length=1000)  # NUL / bidi checks on the whole cell
        for part in split_list(raw):
            name = clean_text(part, field="品牌名称", max_length=60, required=True)
            key = normalize_key(name)
            if key and key not in keys:
                keys.add(key)
                brands.append(name)
        if len(brands) > MAX_BRANDS:
            raise ValidationError(f"品牌最多 {MAX_BRANDS} 个。")
        out["brands"] = brands
    except ValidationError as err:
        errors["brands"] = str(err)
    city = None
    city_id = data.get("city_id")
    if city_id not in (None, "", 0, "0"):
        try:
            city = db.session.get(City, int(city_id))
        except (TypeError, ValueError):
            city = None
        if city is None:
            errors["city_id"] = "请选择有效的城市。"
    elif for_uscc:
        city = suggest_city(for_uscc)
    if city is None and "city_id" not in errors:
        errors["city_id"] = "请选择企业所在城市。"
    if city is not None:
        out["city_id"] = city.id
    ids: list[int] = []
    for raw_id in data.get("industry_ids") or []:
        try:
            ids.append(int(raw_id))
        except (TypeError, ValueError):
            errors["industry_ids"] = "请选择有效的行业。"
    ids = list(dict.fromkeys(ids))
    if "industry_ids" not in errors:
        found = set(db.session.scalars(
            select(Industry.id).where(Industry.id.in_(ids), Industry.active.is_(True))
        )) if ids else set()
        if not ids:
            errors["industry_ids"] = "请至少选择一个行业。"
        elif len(found) != len(ids):
            errors["industry_ids"] = "请选择有效的行业。"
        elif len(ids) > MAX_INDUSTRIES:
            errors["industry_ids"] = f"行业最多选择 {MAX_INDUSTRIES} 个。"
        else:
            out["industry_ids"] = ids
    try:
        out["description"] = clean_text(data.get("description"), field="企业简介", max_length=2000,
                                        multiline=True)
    except ValidationError as err:
        errors["description"] = str(err)
    website = (data.get("website") or "").strip()
    if website:
        try:
            clean_text(website, field="官网", max_length=500)
            out["website"] = normalize_url(website, field="官网")
            if len(out["website"]) > 500:
                raise ValidationError("官网网址过长。")
        except ValidationError as err:
            errors["website"] = str(err)
    else:
        out["website"] = ""
    year = data.get("founded_year")
    year = "" if year is None else str(year).strip()
    if year:
        this_year = date.today().year
        if not year.isdigit() or len(year) != 4 or not (MIN_FOUNDED_YEAR <= int(year) <= this_year):
            errors["founded_year"] = f"成立年份应为 {MIN_FOUNDED_YEAR}–{this_year} 之间的四位数字。"
        else:
            out["founded_year"] = int(year)
    else:
        out["founded_year"] = None
    if errors:
        raise FieldErrors(errors)
    return out


def _check_name_free(name: str, *, exclude_id: int | None = None) -> None:
    """Refuse a legal name already used by another enterprise (compared after NFKC + casefold)."""
    stmt = select(Enterprise).where(Enterprise.name_key == normalize_key(name))
    if exclude_id is not None:
        stmt = stmt.where(Enterprise.id != exclude_id)
    other = db.session.scalars(stmt).first()
    if other is None:
        return
    if other.owner_id is None:
        raise FieldErrors({"name": "已有同名企业登记在名录中；如果这是您的企业，请使用“认领企业”。"})
    raise FieldErrors({"name": "已有同名企业登记在名录中；如有疑问请联系工作人员。"})


def _apply_fields(ent: Enterprise, fields: dict) -> None:
    """Write cleaned/payload fields onto the live enterprise row."""
    if "name" in fields:
        ent.name = fields["name"]
        ent.name_key = normalize_key(fields["name"])
        ent.name_sort = pinyin_sort_key(fields["name"])
    if "brands" in fields:
        wanted = list(fields["brands"])
        existing = {b.name_key: b for b in ent.brands}
        keep = []
        for pos, name in enumerate(wanted):
            key = normalize_key(name)
            brand = existing.pop(key, None)
            if brand is None:
                brand = Brand(name=name, name_key=key)
            brand.name = name
            brand.position = pos
            keep.append(brand)
        ent.brands = keep
    if "city_id" in fields:
        ent.city = db.session.get(City, fields["city_id"])
    if "industry_ids" in fields:
        ent.industries = list(db.session.scalars(
            select(Industry).where(Industry.id.in_(fields["industry_ids"] or [-1]))
        ))
    for key in ("description", "website", "founded_year", "logo_sha256"):
        if key in fields:
            setattr(ent, key, fields[key])


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
    _require_merchant(user)
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
           enterprise_id=ent.id, after={"uscc": code, **_snapshot(ent)})
    return ent


@dataclass
class EditResult:
    """What an edit did: ``applied`` directly to the row, or queued in ``application``."""

    applied: bool
    application: Application | None = None
    changed: tuple[str, ...] = ()


def _diff(live: dict, wanted: dict, fields) -> dict:
    return {k: wanted[k] for k in fields if k in wanted and wanted[k] != live.get(k)}


def _check_editable(ent: Enterprise) -> None:
    if ent.status == Status.PENDING:
        raise ServiceError("该企业正在审核中，暂不能修改。如需修改，请先撤回认证申请。")
    if ent.status in (Status.SUSPENDED, Status.REVOKED):
        raise ServiceError(f"该企业{ent.status_label}，不能修改；如有疑问请联系工作人员。")


def _queue_enterprise_edit(user: User, ent: Enterprise, changes: dict) -> EditResult:
    """Merge ``changes`` into the pending enterprise_edit application (created when needed).

    The payload always holds only the fields that differ from the live row; an edit that puts
    everything back withdraws the pending application.
    """
    live = _snapshot(ent)
    app_ = pending_application(ent, AppKind.ENTERPRISE_EDIT)
    merged = dict(app_.payload or {}) if app_ else {}
    merged.update(changes)
    payload = _diff(live, merged, ENTERPRISE_EDIT_FIELDS)
    if "name" in payload:
        _check_name_free(payload["name"], exclude_id=ent.id)
    if app_ is None:
        if not payload:
            return EditResult(applied=False)
        app_ = Application(kind=AppKind.ENTERPRISE_EDIT, enterprise_id=ent.id, applicant_id=user.id,
                           payload=payload, status=AppStatus.PENDING)
        db.session.add(app_)
        db.session.flush()
        record("application.submit", actor=user, entity_kind="application", entity_id=app_.id,
               enterprise_id=ent.id, before=None, after={"kind": app_.kind, "payload": payload})
        return EditResult(applied=False, application=app_, changed=tuple(payload))
    before = dict(app_.payload or {})
    if not payload:
        _set_withdrawn(user, app_, note="修改已全部恢复为已认证内容")
        return EditResult(applied=False, application=app_)
    app_.payload = payload  # a new dict so the JSON column is marked changed
    db.session.flush()
    record("application.update", actor=user, entity_kind="application", entity_id=app_.id,
           enterprise_id=ent.id, before={"payload": before}, after={"payload": payload})
    return EditResult(applied=False, application=app_, changed=tuple(payload))


def update_enterprise(user: User, enterprise_id: int, data: dict) -> EditResult:
    """Edit an owned enterprise: directly while unpublished, via enterprise_edit when certified."""
    ent = get_owned_enterprise(user, enterprise_id)
    _check_editable(ent)
    fields = clean_enterprise_fields(data, for_uscc=ent.uscc)
    if ent.status == Status.CERTIFIED:
        fields.pop("logo_sha256", None)
        return _queue_enterprise_edit(user, ent, fields)
    before = _snapshot(ent)
    changed = _diff(before, fields, ENTERPRISE_EDIT_FIELDS)
    if not changed:
        return EditResult(applied=True)
    if "name" in changed:
        _check_name_free(changed["name"], exclude_id=ent.id)
    _apply_fields(ent, changed)
    ent.updated_at = utcnow()
    db.session.flush()
    record("enterprise.update", actor=user, entity_kind="enterprise", entity_id=ent.id,
           enterprise_id=ent.id, before={k: before[k] for k in changed}, after=changed)
    return EditResult(applied=True, changed=tuple(changed))


def set_logo(user: User, enterprise_id: int, data: bytes) -> EditResult:
    """Store an uploaded logo (re-encoded by the image pipeline) for an owned enterprise.

    Unpublished enterprises get it at once; a certified one gets it through enterprise_edit.
    """
    ent = get_owned_enterprise(user, enterprise_id)
    _check_editable(ent)
    from .images import store_image

    try:
        image = store_image(data)
    except ValidationError as err:
        raise FieldErrors({"logo": str(err)}) from None
    if ent.status == Status.CERTIFIED:
        return _queue_enterprise_edit(user, ent, {"logo_sha256": image.sha256})
    before = ent.logo_sha256
    ent.logo_sha256 = image.sha256
    db.session.flush()
    record("enterprise.logo", actor=user, entity_kind="enterprise", entity_id=ent.id,
           enterprise_id=ent.id, before={"logo_sha256": before}, after={"logo_sha256": image.sha256})
    return EditResult(applied=True, changed=("logo_sha256",))


# --------------------------------------------------------------------------- claims


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


def claim_enterprise(user: User, enterprise_id: int, note: str = "") -> Application:
    """Ask staff for control of an imported enterprise (Application kind=claim)."""
    _require_merchant(user)
    ent = db.session.get(Enterprise, enterprise_id)
    if ent is None:
        raise NotFound("企业不存在。")
    if ent.owner_id == user.id:
        raise ServiceError("您已经管理该企业。")
    if ent.owner_id is not None:
        raise ServiceError("该企业已由其他账号管理，只能联系工作人员人工处理认领。")
    try:
        note = clean_text(note, field="认领说明", max_length=500, multiline=True)
    except ValidationError as err:
        raise FieldErrors({"note": str(err)}) from None
    existing = db.session.scalars(select(Application).where(
        Application.kind == AppKind.CLAIM, Application.enterprise_id == ent.id,
        Application.applicant_id == user.id, Application.status == AppStatus.PENDING,
    )).first()
    if existing is not None:
        raise ServiceError("您已提交过该企业的认领申请，请等待审核。")
    app_ = Application(kind=AppKind.CLAIM, enterprise_id=ent.id, applicant_id=user.id,
                       payload={"note": note}, status=AppStatus.PENDING)
    db.session.add(app_)
    db.session.flush()
    record("application.submit", actor=user, entity_kind="application", entity_id=app_.id,
           enterprise_id=ent.id, after={"kind": AppKind.CLAIM, "payload": {"note": note}})
    return app_


# --------------------------------------------------------------------------- shops


def clean_shop_fields(ent: Enterprise, data: dict, *, exclude_shop_id: int | None = None) -> dict:
    """Validate shop form ``data`` (platform_id, name, url, shop_type) for enterprise ``ent``."""
    errors: dict[str, str] = {}
    out: dict = {}
    platform = None
    try:
        platform = db.session.get(Platform, int(data.get("platform_id") or 0))
    except (TypeError, ValueError):
        platform = None
    if platform is None or not platform.active:
        errors["platform_id"] = "请选择电商平台。"
        platform = None
    else:
        out["platform_id"] = platform.id
    try:
        out["name"] = clean_text(data.get("name"), field="店铺名称", max_length=120, required=True)
    except ValidationError as err:
        errors["name"] = str(err)
    shop_type = data.get("shop_type") or ""
    if shop_type not in ShopType.ALL:
        errors["shop_type"] = "请选择店铺类型。"
    else:
        out["shop_type"] = shop_type
    raw_url = data.get("url") or ""
    if "\x00" in raw_url:
        errors["url"] = "店铺网址含有不允许的空字符。"
    elif platform is not None:
        try:
            if platform.is_own_site and not ent.website:
                raise ValidationError("企业自建商城需要先在企业资料中填写官网，店铺网址须在官网域名下。")
            out["url"] = validate_shop_url(raw_url, platform.host_list, platform_name=platform.name,
                                           own_site_domain=ent.website or None)
        except ValidationError as err:
            errors["url"] = str(err)
    if "url" in out:
        conflict = _url_conflict(out["url"], ent, exclude_shop_id=exclude_shop_id)
        if conflict:
            errors["url"] = conflict
    if errors:
        raise FieldErrors(errors)
    return out


def _url_conflict(url: str, ent: Enterprise, *, exclude_shop_id: int | None) -> str | None:
    """A message when ``url`` is already listed (or awaiting review) elsewhere, else None.

    Names the other listing only when the user may know it anyway: their own shop, or a
    certified (public) enterprise. Unpublished listings of others stay anonymous.
    """
    stmt = select(Shop).where(Shop.url == url)
    if exclude_shop_id is not None:
        stmt = stmt.where(Shop.id != exclude_shop_id)
    other = db.session.scalars(stmt).first()
    if other is None:
        for app_ in db.session.scalars(select(Application).where(
            Application.kind == AppKind.SHOP_EDIT, Application.status == AppStatus.PENDING,
        )):
            if (app_.payload or {}).get("url") == url and app_.shop_id != exclude_shop_id:
                other = app_.shop
                break
    if other is None:
        return None
    owner_ent = other.enterprise
    if owner_ent.owner_id is not None and owner_ent.owner_id == ent.owner_id:
        return f"该网址已登记为您的店铺“{other.name}”（{owner_ent.name}），无需重复添加。"
    if owner_ent.status == Status.CERTIFIED and other.status == Status.CERTIFIED:
        return f"该网址已被认证企业“{owner_ent.display_name}”登记。如认为登记有误，请联系工作人员或投诉举报。"
    return "该网址已被名录中的其他企业登记。如认为登记有误，请联系工作人员。"


def _check_shops_editable(ent: Enterprise) -> None:
    if ent.status == Status.PENDING:
        raise ServiceError("该企业正在审核中，暂不能增删或修改店铺。如需修改，请先撤回认证申请。")
    if ent.status in (Status.SUSPENDED, Status.REVOKED):
        raise ServiceError(f"该企业{ent.status_label}，不能管理店铺；如有疑问请联系工作人员。")


def add_shop(user: User, enterprise_id: int, data: dict) -> Shop:
    """Add a shop; to a certified enterprise it is pending behind an Application(kind=shop)."""
    ent = get_owned_enterprise(user, enterprise_id)
    _check_shops_editable(ent)
    fields = clean_shop_fields(ent, data)
    shop = Shop(enterprise=ent, status=Status.DRAFT, **fields)
    db.session.add(shop)
    db.session.flush()
    record("shop.create", actor=user, entity_kind="shop", entity_id=shop.id, enterprise_id=ent.id,
           after=_shop_snapshot(shop))
    if ent.status == Status.CERTIFIED:
        _submit_shop_application(user, ent, shop)
    return shop


def _submit_shop_application(user: User, ent: Enterprise, shop: Shop) -> Application:
    shop.status = Status.PENDING
    shop.status_reason = ""
    app_ = Application(kind=AppKind.SHOP, enterprise_id=ent.id, shop_id=shop.id, applicant_id=user.id,
                       payload={}, status=AppStatus.PENDING)
    db.session.add(app_)
    db.session.flush()
    record("application.submit", actor=user, entity_kind="application", entity_id=app_.id,
           enterprise_id=ent.id, after={"kind": AppKind.SHOP, "shop_id": shop.id})
    return app_


def submit_shop(user: User, shop_id: int) -> Application:
    """Send a draft/rejected shop of a certified enterprise to review (Application kind=shop)."""
    shop = get_owned_shop(user, shop_id)
    ent = shop.enterprise
    if ent.status != Status.CERTIFIED:
        raise ServiceError("请提交整个企业的认证申请，店铺会随企业一起审核。")
    if shop.status not in (Status.DRAFT, Status.REJECTED):
        raise ServiceError(f"该店铺当前状态为“{shop.status_label}”，无需提交。")
    return _submit_shop_application(user, ent, shop)


def update_shop(user: User, shop_id: int, data: dict) -> EditResult:
    """Edit an owned shop: directly while unpublished, via shop_edit when it is certified."""
    shop = get_owned_shop(user, shop_id)
    ent = shop.enterprise
    _check_shops_editable(ent)
    if shop.status in (Status.SUSPENDED, Status.REVOKED):
        raise ServiceError(f"该店铺{shop.status_label}，不能修改；如有疑问请联系工作人员。")
    fields = clean_shop_fields(ent, data, exclude_shop_id=shop.id)
    live = _shop_snapshot(shop)
    if shop.status == Status.CERTIFIED:
        payload = _diff(live, fields, SHOP_EDIT_FIELDS)
        app_ = pending_application(ent, AppKind.SHOP_EDIT, shop)
        if app_ is None:
            if not payload:
                return EditResult(applied=False)
            app_ = Application(kind=AppKind.SHOP_EDIT, enterprise_id=ent.id, shop_id=shop.id,
                               applicant_id=user.id, payload=payload, status=AppStatus.PENDING)
            db.session.add(app_)
            db.session.flush()
            record("application.submit", actor=user, entity_kind="application", entity_id=app_.id,
                   enterprise_id=ent.id, after={"kind": AppKind.SHOP_EDIT, "shop_id": shop.id,
                                                "payload": payload})
            return EditResult(applied=False, application=app_, changed=tuple(payload))
        if not payload:
            _set_withdrawn(user, app_, note="修改已全部恢复为已认证内容")
            return EditResult(applied=False, application=app_)
        before = dict(app_.payload or {})
        app_.payload = payload
        db.session.flush()
        record("application.update", actor=user, entity_kind="application", entity_id=app_.id,
               enterprise_id=ent.id, before={"payload": before}, after={"payload": payload})
        return EditResult(applied=False, application=app_, changed=tuple(payload))
    changed = _diff(live, fields, SHOP_EDIT_FIELDS)
    if not changed:
        return EditResult(applied=True)
    for key, value in changed.items():
        setattr(shop, key, value)
    if "platform_id" in changed:
        shop.platform = db.session.get(Platform, changed["platform_id"])
    shop.updated_at = utcnow()
    db.session.flush()
    record("shop.update", actor=user, entity_kind="shop", entity_id=shop.id, enterprise_id=ent.id,
           before={k: live[k] for k in changed}, after=changed)
    return EditResult(applied=True, changed=tuple(changed))


def remove_shop(user: User, shop_id: int) -> None:
    """Delete an owned shop at once (also a certified one: removal only reduces exposure).

    Pending applications about the shop are withdrawn first (the rows then go with the shop);
    the audit log keeps what was removed.
    """
    shop = get_owned_shop(user, shop_id)
    ent = shop.enterprise
    _check_shops_editable(ent)
    if shop.status in (Status.SUSPENDED, Status.REVOKED):
        raise ServiceError(f"该店铺{shop.status_label}，不能自行删除；如有疑问请联系工作人员。")
    snapshot = {**_shop_snapshot(shop), "status": shop.status}
    for app_ in db.session.scalars(select(Application).where(
        Application.shop_id == shop.id, Application.status == AppStatus.PENDING,
    )):
        _set_withdrawn(user, app_, note="店铺已删除")
    db.session.execute(update(Application).where(Application.shop_id == shop.id)
                       .values(shop_id=None).execution_options(synchronize_session=False))
    ent.shops.remove(shop)
    db.session.delete(shop)
    db.session.flush()
    record("shop.delete", actor=user, entity_kind="shop", entity_id=shop_id, enterprise_id=ent.id,
           before=snapshot)


# --------------------------------------------------------------------------- applications


def submit_for_certification(user: User, enterprise_id: int) -> Application:
    """Submit a draft/rejected/expired enterprise with its shops (Application kind=enterprise)."""
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
    before = {"status": ent.status, "shops": {s.id: s.status for s in ent.shops}}
    # Conditional UPDATE: of two submissions racing, only one moves the enterprise to pending.
    moved = db.session.execute(
        update(Enterprise)
        .where(Enterprise.id == ent.id, Enterprise.status.in_(SUBMITTABLE_STATUSES))
        .values(status=Status.PENDING, status_reason="", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise ServiceError("该企业已在审核中，请耐心等待。")
    db.session.refresh(ent, ["status", "status_reason", "updated_at"])
    ent.updated_at = utcnow()  # an ORM change too, so the search outbox hears about it
    for shop in ent.shops:
        if shop.status in (Status.DRAFT, Status.REJECTED):
            shop.status = Status.PENDING
            shop.status_reason = ""
    app_ = Application(kind=AppKind.ENTERPRISE, enterprise_id=ent.id, applicant_id=user.id,
                       payload={}, status=AppStatus.PENDING)
    db.session.add(app_)
    db.session.flush()
    record("application.submit", actor=user, entity_kind="application", entity_id=app_.id,
           enterprise_id=ent.id, before=before,
           after={"kind": AppKind.ENTERPRISE, "status": Status.PENDING,
                  "shops": {s.id: s.status for s in ent.shops}})
    return app_


def _set_withdrawn(user: User, app_: Application, note: str = "") -> bool:
    """Mark a pending application withdrawn with a conditional UPDATE; False if already decided."""
    result = db.session.execute(
        update(Application)
        .where(Application.id == app_.id, Application.status == AppStatus.PENDING)
        .values(status=AppStatus.WITHDRAWN, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        return False
    db.session.refresh(app_)
    record("application.withdraw", actor=user, entity_kind="application", entity_id=app_.id,
           enterprise_id=app_.enterprise_id, before={"status": AppStatus.PENDING},
           after={"status": AppStatus.WITHDRAWN}, note=note)
    return True


def withdraw_application(user: User, application_id: int) -> Application:
    """Withdraw one of the user's pending applications; listings under review go back to draft."""
    app_ = get_own_application(user, application_id)
    if app_.status != AppStatus.PENDING:
        raise ServiceError("该申请已处理，不能撤回。")
    if not _set_withdrawn(user, app_):
        raise ServiceError("该申请刚刚已被工作人员处理，不能撤回。")
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


# --------------------------------------------------------------------------- dashboard data


def pending_changes(ent: Enterprise) -> dict:
    """Pending edits of an enterprise and its shops: {"enterprise": app|None, "shops": {id: app}}."""
    apps = list(db.session.scalars(select(Application).where(
        Application.enterprise_id == ent.id, Application.status == AppStatus.PENDING,
        Application.kind.in_((AppKind.ENTERPRISE_EDIT, AppKind.SHOP_EDIT)),
    ).order_by(Application.id)))
    out: dict = {"enterprise": None, "shops": {}}
    for app_ in apps:
        if app_.kind == AppKind.ENTERPRISE_EDIT:
            out["enterprise"] = out["enterprise"] or app_
        elif app_.shop_id is not None:
            out["shops"].setdefault(app_.shop_id, app_)
    return out


def describe_enterprise_change(ent: Enterprise, payload: dict) -> list[tuple[str, str, str]]:
    """Rows (field label, live value, pending value) for showing a pending enterprise edit."""
    labels = {"name": "企业名称", "brands": "品牌", "city_id": "城市", "industry_ids": "行业",
              "description": "简介", "website": "官网", "founded_year": "成立年份", "logo_sha256": "标志"}
    live = _snapshot(ent)

    def show(key, value):
        if key == "brands":
            return "、".join(value or [])
        if key == "city_id":
            city = db.session.get(City, value) if value else None
            return city.full_name if city else ""
        if key == "industry_ids":
            names = db.session.scalars(select(Industry.name).where(Industry.id.in_(value or [-1])))
            return "、".join(names)
        if key == "logo_sha256":
            return "新上传的标志" if value else "无"
        return "" if value is None else str(value)

    return [(labels[k], show(k, live.get(k)), show(k, v)) for k, v in (payload or {}).items() if k in labels]


def describe_shop_change(shop: Shop, payload: dict) -> list[tuple[str, str, str]]:
    """Rows (field label, live value, pending value) for a pending shop edit."""
    labels = {"name": "店铺名称", "url": "网址", "shop_type": "店铺类型", "platform_id": "平台"}
    live = _shop_snapshot(shop)

    def show(key, value):
        if key == "platform_id":
            plat = db.session.get(Platform, value) if value else None
            return plat.name if plat else ""
        return "" if value is None else str(value)

    return [(labels[k], show(k, live.get(k)), show(k, v)) for k, v in (payload or {}).items() if k in labels]


def clicks_by_day(shop_ids: list[int], days: int = 30, now: datetime | None = None) -> dict[int, list[tuple[date, int]]]:
    """Click-throughs per shop per China-time day over the last ``days`` days (oldest first)."""
    now = now or utcnow()
    today = now.replace(tzinfo=None) + timedelta(hours=8)
    first_day = today.date() - timedelta(days=days - 1)
    cutoff = datetime.combine(first_day, datetime.min.time()) - timedelta(hours=8)
    counts: dict[int, dict[date, int]] = {sid: {} for sid in shop_ids}
    if shop_ids:
        rows = db.session.execute(
            select(ClickEvent.shop_id, ClickEvent.at)
            .where(ClickEvent.shop_id.in_(shop_ids), ClickEvent.at >= cutoff)
        )
        for shop_id, at in rows:
            day = (at + timedelta(hours=8)).date()
            bucket = counts.setdefault(shop_id, {})
            bucket[day] = bucket.get(day, 0) + 1
    series = {}
    for sid in shop_ids:
        series[sid] = [(first_day + timedelta(days=i), counts[sid].get(first_day + timedelta(days=i), 0))
                       for i in range(days)]
    return series


def merchant_complaints(user: User, limit: int = 50) -> list[Complaint]:
    """Complaints about the user's enterprises and shops, newest first."""
    owned = select(Enterprise.id).where(Enterprise.owner_id == user.id)
    return list(db.session.scalars(
        select(Complaint).where(Complaint.enterprise_id.in_(owned))
        .order_by(Complaint.created_at.desc()).limit(limit)
    ))


def next_steps(enterprises: list[Enterprise]) -> list[tuple[str, bool]]:
    """The "what to do next" checklist: (step, done) in journey order."""
    ent = enterprises[0] if enterprises else None
    has_shops = bool(ent and ent.shops)
    has_logo = bool(ent and ent.logo_sha256)
    submitted = bool(ent and ent.status not in (Status.DRAFT, Status.REJECTED))
    return [
        ("创建或认领企业", ent is not None),
        ("添加网店（至少一个）", has_shops),
        ("上传企业标志", has_logo),
        ("提交认证申请", submitted),
    ]


__all__ = [
    "FieldErrors", "EditResult", "owned_enterprises", "get_owned_enterprise", "get_owned_shop",
    "get_own_application", "user_applications", "pending_application", "queue_position",
    "active_platforms", "active_industries", "all_cities", "suggest_city", "clean_enterprise_fields",
    "check_uscc_for_new", "create_enterprise", "update_enterprise", "set_logo", "find_claimable",
    "claim_enterprise", "clean_shop_fields", "add_shop", "submit_shop", "update_shop", "remove_shop",
    "submit_for_certification", "withdraw_application", "pending_changes",
    "describe_enterprise_change", "describe_shop_change", "clicks_by_day", "merchant_complaints",
    "next_steps",
]
