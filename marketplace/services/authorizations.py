"""Brand authorizations: the brand owner's permission for a distributor's 专卖店 or 专营店.

Two ways to get one (``models.authorization``):

* the brand owner grants it at ``/merchant/authorizations`` (``grant``): brand, the distributor's
  统一社会信用代码, platforms, validity; it is active at once and the owner can withdraw it;
* the distributor uploads the owner's authorization letter (``upload_letter``); it is pending
  until staff check the letter (``decide_letter``). The letter is private: only the
  distributor's owner and staff can read it (``letter_for_distributor`` / the staff route).

The distributor links its shops to an authorization (``link_shops``); consumers then read
"「X」品牌授权专卖店，授权方：…，有效期至…" next to those shops (``label``). When an authorization is
withdrawn (``withdraw``) or expires (``expire_due``, the daily job) the linked certified shops are
suspended with the reason, and both sides get a mail. Every change is audited; the shops'
suspensions carry ``cause = authorization`` so the changes feed reports them as
``authorization_withdrawn``.

Who is which side: the owner of the enterprise whose code is ``grantor_uscc`` (the brand owner)
or ``distributor_uscc`` (the distributor). Functions flush, never commit.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import selectinload, undefer

from ..clock import china_today, utc_now
from ..extensions import db
from ..models import (
    PDF_MIME,
    AuthorizationSource, AuthorizationStatus, Brand, BrandAuthorization, Enterprise, Platform, Role, Shop,
    ShopAuthorization, ShopType, Status, User,
)
from ..validation import ValidationError
from ..validation.text import normalize_key
from ..validation.uscc import normalize_uscc
from . import AlreadyDecided, Forbidden, NotFound, ServiceError
from .audit import record
from .catalog.cache import cached
from .changes import CAUSE_AUTHORIZATION
from .images import process_image
from .pdfs import clean_pdf, is_pdf
from .lifecycle import mail_owner, set_shop_status
from .listings.common import FieldErrors
from .versioning import begin_edit

S = AuthorizationStatus
DEPENDENT_TYPES = (ShopType.EXCLUSIVE, ShopType.FRANCHISE)  # the shop types that need one
MAX_YEARS = 10
WARN_DAYS = 30
LETTER_MAX_SIDE = 2000  # legible when zoomed, like a scan
MAX_REASON = 1000


@dataclass
class AuthorizationInput:
    """What a grant or letter form submits (dates parsed by the form; None when left empty)."""

    platform_ids: list
    valid_from: date | None
    valid_until: date | None
    brand_id: int | None = None  # grant: one of the owner's brands (which names the enterprise)
    distributor_uscc: str = ""  # grant
    enterprise_id: int | None = None  # letter: the distributor's enterprise
    brand_name: str = ""  # letter
    grantor_name: str = ""  # letter
    grantor_uscc: str = ""  # letter


# --------------------------------------------------------------------------- who is who

def _require_merchant(user: User) -> None:
    if user is None or not getattr(user, "is_authenticated", False) or user.role != Role.MERCHANT:
        raise Forbidden("只有商家账号可以管理品牌授权。")


def _owned_codes(user: User) -> set[str]:
    return set(db.session.scalars(select(Enterprise.uscc).where(Enterprise.owner_id == user.id)))


def enterprise_with_code(code: str) -> Enterprise | None:
    return db.session.scalar(select(Enterprise).where(Enterprise.uscc == code))


def _owned_enterprise(user: User, enterprise_id: int | None) -> Enterprise:
    _require_merchant(user)
    ent = db.session.get(Enterprise, enterprise_id or 0)
    if ent is None or ent.owner_id != user.id:
        raise FieldErrors({"enterprise_id": "请选择您管理的企业。"})
    return ent


def _get(auth_id: int) -> BrandAuthorization:
    auth = db.session.get(BrandAuthorization, auth_id)
    if auth is None:
        raise NotFound("授权不存在。")
    return auth


def get_as_grantor(user: User, auth_id: int) -> BrandAuthorization:
    """An authorization of a brand owned by ``user``'s enterprise; ``NotFound`` otherwise."""
    _require_merchant(user)
    auth = _get(auth_id)
    if auth.grantor_uscc not in _owned_codes(user):
        raise NotFound("授权不存在。")
    return auth


def get_as_distributor(user: User, auth_id: int) -> BrandAuthorization:
    """An authorization given to ``user``'s enterprise; ``NotFound`` otherwise (no leak)."""
    _require_merchant(user)
    auth = _get(auth_id)
    if auth.distributor_uscc not in _owned_codes(user):
        raise NotFound("授权不存在。")
    return auth


def granted_by(user: User) -> list[BrandAuthorization]:
    """Authorizations of brands owned by ``user``'s enterprises, newest first."""
    codes = _owned_codes(user)
    return _listed(BrandAuthorization.grantor_uscc.in_(codes)) if codes else []


def received_by(user: User) -> list[BrandAuthorization]:
    """Authorizations given to ``user``'s enterprises, newest first."""
    codes = _owned_codes(user)
    return _listed(BrandAuthorization.distributor_uscc.in_(codes)) if codes else []


def _listed(condition) -> list[BrandAuthorization]:
    return list(db.session.scalars(select(BrandAuthorization).where(condition)
                                   .options(selectinload(BrandAuthorization.platforms),
                                            selectinload(BrandAuthorization.links).selectinload(ShopAuthorization.shop))
                                   .order_by(BrandAuthorization.id.desc())))


def names_by_code(codes) -> dict[str, Enterprise]:
    """The enterprises on the portal with these codes (to name the other side)."""
    codes = {c for c in codes if c}
    if not codes:
        return {}
    return {e.uscc: e for e in db.session.scalars(select(Enterprise).where(Enterprise.uscc.in_(codes)))}


# --------------------------------------------------------------------------- input rules

def _platforms(ids, errors: dict) -> list[Platform]:
    ids = {int(i) for i in ids or [] if str(i).isdigit()}
    rows = list(db.session.scalars(select(Platform).where(Platform.id.in_(ids), Platform.active.is_(True))
                                   .order_by(Platform.position))) if ids else []
    if not rows or len(rows) != len(ids):
        errors["platform_ids"] = "请选择授权的电商平台（至少一个）。"
    return rows


def _date(value: date | None, field: str, label: str, errors: dict) -> date | None:
    if value is None:
        errors[field] = f"请填写{label}。"
    return value


def _dates(data: AuthorizationInput, errors: dict) -> tuple[date | None, date | None]:
    """The validity as dates: it ends today or later, within ``MAX_YEARS``, after it starts."""
    today = china_today()
    start = _date(data.valid_from, "valid_from", "授权开始日期", errors)
    end = _date(data.valid_until, "valid_until", "授权截止日期", errors)
    if end is None:
        return start, end
    if end < today:
        errors["valid_until"] = "截止日期不能早于今天。"
    elif end > today + timedelta(days=366 * MAX_YEARS):
        errors["valid_until"] = f"授权期限最长 {MAX_YEARS} 年。"
    elif start is not None and start > end:
        errors["valid_until"] = "截止日期不能早于开始日期。"
    return start, end


def _code(raw: str, field: str, errors: dict, own: str) -> str:
    try:
        code = normalize_uscc(raw)
    except ValidationError as err:
        errors[field] = str(err)
        return ""
    if code == own:
        errors[field] = "授权方和被授权方不能是同一家企业。"
    return code


def _text(raw: str, field: str, label: str, low: int, high: int, errors: dict) -> str:
    value = " ".join((raw or "").split())
    if not low <= len(value) <= high:
        errors[field] = f"请填写{label}（{low}–{high} 个字）。"
    return value


def _refuse_duplicate(brand_name: str, distributor: str, platforms: list[Platform]) -> None:
    """One live authorization per brand, distributor and platform."""
    key = normalize_key(brand_name)
    wanted = {p.id for p in platforms}
    for other in db.session.scalars(select(BrandAuthorization).where(
            BrandAuthorization.distributor_uscc == distributor,
            BrandAuthorization.status.in_((S.ACTIVE, S.PENDING)))):
        if normalize_key(other.brand_name) == key and wanted & {p.id for p in other.platforms}:
            raise ServiceError(f"该企业已有「{other.brand_name}」品牌在{other.platform_names}的有效或待核验授权"
                               f"（编号 {other.id}），如需变更请先撤回原授权。")


# --------------------------------------------------------------------------- grant and letter

def grantable_brands(user: User) -> list[Brand]:
    """The brands ``user`` may authorize others to sell: those of their certified enterprises."""
    return list(db.session.scalars(select(Brand).join(Enterprise, Enterprise.id == Brand.enterprise_id).where(
        Enterprise.owner_id == user.id, Enterprise.status == Status.CERTIFIED).order_by(Enterprise.id, Brand.position)))


def grant(user: User, data: AuthorizationInput) -> BrandAuthorization:
    """The brand owner authorizes a distributor; active at once. Only a certified enterprise's
    brands can be authorized (the public can then check who the grantor is)."""
    _require_merchant(user)
    brand = db.session.get(Brand, data.brand_id or 0)
    if brand is None or brand.enterprise.owner_id != user.id:
        raise FieldErrors({"brand_id": "请选择您管理的企业的品牌。"})
    ent = brand.enterprise
    errors: dict[str, str] = {}
    if ent.status != Status.CERTIFIED:
        errors["brand_id"] = "企业通过认证后才能授予品牌授权。"
    distributor = _code(data.distributor_uscc, "distributor_uscc", errors, ent.uscc)
    platforms = _platforms(data.platform_ids, errors)
    start, end = _dates(data, errors)
    if errors:
        raise FieldErrors(errors)
    _refuse_duplicate(brand.name, distributor, platforms)
    auth = BrandAuthorization(
        source=AuthorizationSource.GRANT, status=S.ACTIVE, brand_name=brand.name, grantor_uscc=ent.uscc,
        grantor_name=ent.name, distributor_uscc=distributor, valid_from=start, valid_until=end,
        platforms=platforms, created_by_id=user.id)
    db.session.add(auth)
    db.session.flush()
    _audit("authorization.grant", auth, user, None, _facts(auth))
    other = enterprise_with_code(distributor)
    if other is not None:
        mail_owner(other, f"您获得了「{brand.name}」品牌授权",
                   f"{ent.name} 授权您的企业「{other.name}」在{auth.platform_names}销售「{brand.name}」品牌，"
                   f"有效期 {auth.valid_from:%Y-%m-%d} 至 {auth.valid_until:%Y-%m-%d}。\n"
                   "请在商家中心的“品牌授权”页面把经营该品牌的专卖店、专营店与本授权关联。")
    return auth


def _stored_letter(data: bytes) -> tuple[bytes, str]:
    """The letter as it is kept: an image re-encoded by the image pipeline (metadata stripped),
    or a PDF checked and cleaned like a business licence (``services.pdfs``: at most 10 MB and 5
    pages; no encryption, scripts or embedded files), which staff read as rendered pages."""
    try:
        if is_pdf(data):
            return clean_pdf(data).data, PDF_MIME
        out, mime, _w, _h = process_image(data, max_side=LETTER_MAX_SIDE)
    except ValidationError as err:
        raise FieldErrors({"letter": str(err)}) from None
    return out, mime


def upload_letter(user: User, data: AuthorizationInput, letter: bytes) -> BrandAuthorization:
    """The distributor submits the brand owner's letter; pending until staff check it."""
    ent = _owned_enterprise(user, data.enterprise_id)
    errors: dict[str, str] = {}
    brand_name = _text(data.brand_name, "brand_name", "授权品牌", 1, 60, errors)
    grantor_name = _text(data.grantor_name, "grantor_name", "授权方企业全称", 2, 120, errors)
    grantor = _code(data.grantor_uscc, "grantor_uscc", errors, ent.uscc)
    platforms = _platforms(data.platform_ids, errors)
    start, end = _dates(data, errors)
    if errors:
        raise FieldErrors(errors)
    stored, mime = _stored_letter(letter)
    _refuse_duplicate(brand_name, ent.uscc, platforms)
    auth = BrandAuthorization(
        source=AuthorizationSource.LETTER, status=S.PENDING, brand_name=brand_name, grantor_uscc=grantor,
        grantor_name=grantor_name, distributor_uscc=ent.uscc, valid_from=start, valid_until=end,
        platforms=platforms, letter_data=stored, letter_mime=mime,
        letter_sha256=hashlib.sha256(stored).hexdigest(), created_by_id=user.id)
    db.session.add(auth)
    db.session.flush()
    _audit("authorization.letter", auth, user, None, _facts(auth))
    return auth


def decide_letter(staff: User, auth_id: int, *, approve: bool, reason: str = "", seen_version=None) -> BrandAuthorization:
    """Staff accept or refuse a pending letter (refusal with a reason the distributor reads)."""
    auth = _get(auth_id)
    begin_edit(auth, seen_version)
    if auth.status != S.PENDING:
        raise AlreadyDecided("该授权书已处理。")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ServiceError("请填写不通过的理由，商家会看到它。")
    if len(reason) > MAX_REASON:
        raise ServiceError("理由不能超过 1000 个字符。")
    before = {"status": auth.status}
    auth.status = S.ACTIVE if approve else S.REJECTED
    auth.status_reason = "" if approve else reason
    auth.decided_by_id, auth.decided_at = staff.id, utc_now()
    _audit("authorization.approve" if approve else "authorization.reject", auth, staff, before,
           {"status": auth.status}, note=reason)
    db.session.flush()
    distributor = enterprise_with_code(auth.distributor_uscc)
    if distributor is not None:
        verdict = "已核验通过，授权生效" if approve else f"未通过核验。理由：{reason}"
        mail_owner(distributor, f"「{auth.brand_name}」品牌授权书{'已通过' if approve else '未通过'}核验",
                   f"您提交的「{auth.brand_name}」品牌授权书（授权方：{auth.grantor_name}）{verdict}。")
    return auth


# --------------------------------------------------------------------------- shops

def eligible_shops(auth: BrandAuthorization) -> list[Shop]:
    """The distributor's 专卖店 / 专营店 on the authorization's platforms."""
    ent = enterprise_with_code(auth.distributor_uscc)
    if ent is None:
        return []
    platform_ids = {p.id for p in auth.platforms}
    return [s for s in ent.shops if s.shop_type in DEPENDENT_TYPES and s.platform_id in platform_ids]


def link_shops(user: User, auth_id: int, shop_ids) -> BrandAuthorization:
    """Set which of the distributor's shops sell the brand under this authorization. An ended or
    refused authorization can only lose its shops (so that staff can reinstate them)."""
    auth = get_as_distributor(user, auth_id)
    eligible = {s.id: s for s in eligible_shops(auth)}
    wanted = {int(i) for i in shop_ids or [] if str(i).isdigit()}
    if wanted - set(eligible):
        raise ServiceError("只能关联本企业在授权平台上的专卖店或专营店。")
    current = {link.shop_id: link for link in auth.links}
    added = wanted - set(current)
    if added and auth.status not in (S.ACTIVE, S.PENDING):
        raise ServiceError(f"该授权{auth.status_label}，不能再关联店铺。")
    for shop_id in set(current) - wanted:
        auth.links.remove(current[shop_id])
    for shop_id in sorted(added):
        auth.links.append(ShopAuthorization(shop_id=shop_id))
    if added or set(current) - wanted:
        _audit("authorization.shops", auth, user, {"shops": sorted(current)}, {"shops": sorted(wanted)})
    db.session.flush()
    return auth


# The authorization queries of every enterprise page, built once (docs/architecture.md,
# "Statements built once").
_IN_EFFECT = and_(BrandAuthorization.status == S.ACTIVE, BrandAuthorization.valid_from <= bindparam("today"),
                  BrandAuthorization.valid_until >= bindparam("today"))
_IN_EFFECT_FOR_SHOPS = (
    select(ShopAuthorization.shop_id, BrandAuthorization)
    .join(BrandAuthorization, BrandAuthorization.id == ShopAuthorization.authorization_id)
    .where(ShopAuthorization.shop_id.in_(bindparam("ids", expanding=True)), _IN_EFFECT)
    .order_by(BrandAuthorization.valid_until.desc(), BrandAuthorization.id))
_GRANTED_SHOPS = (
    select(Shop, BrandAuthorization)
    .join(ShopAuthorization, ShopAuthorization.shop_id == Shop.id)
    .join(BrandAuthorization, BrandAuthorization.id == ShopAuthorization.authorization_id)
    .join(Enterprise, Enterprise.id == Shop.enterprise_id)
    .where(BrandAuthorization.grantor_uscc == bindparam("uscc"), _IN_EFFECT,
           Shop.status == Status.CERTIFIED, Enterprise.status == Status.CERTIFIED)
    .order_by(Shop.id).limit(200))
_LINKED_SHOP_IDS = (select(ShopAuthorization.shop_id).distinct()
                    .join(BrandAuthorization, BrandAuthorization.id == ShopAuthorization.authorization_id)
                    .where(_IN_EFFECT))
_GRANTOR_USCCS = select(BrandAuthorization.grantor_uscc).distinct().where(_IN_EFFECT)


def _in_effect_today(today) -> tuple[frozenset[int], frozenset[str]]:
    """The shops linked to an authorization in effect ``today``, and the grantors' codes.

    Why: most shops and enterprises have none, yet every enterprise page and verify answer asked
    (two queries, a sixth of an enterprise page that missed the page cache). The two sets are
    kept with the catalog aggregates: any change of an authorization or its links writes a
    ``page_all`` outbox row, which drops them, and the day is part of the key."""
    def read():
        return (frozenset(db.session.scalars(_LINKED_SHOP_IDS, {"today": today})),
                frozenset(db.session.scalars(_GRANTOR_USCCS, {"today": today})))
    return cached(f"authorizations_in_effect:{today.isoformat()}", read)


def in_effect_for_shops(shop_ids) -> dict[int, list[BrandAuthorization]]:
    """Shop id -> the authorizations in effect today that it is linked to (one query)."""
    today = china_today()
    linked = _in_effect_today(today)[0]
    ids = sorted({int(i) for i in shop_ids} & linked)
    if not ids:
        return {}
    rows = db.session.execute(_IN_EFFECT_FOR_SHOPS, {"ids": ids, "today": today}).all()
    out: dict[int, list[BrandAuthorization]] = {}
    for shop_id, auth in rows:
        out.setdefault(shop_id, []).append(auth)
    return out


def label(auth: BrandAuthorization, shop_type: str) -> str:
    """What consumers read next to a shop: 「X」品牌授权专卖店，授权方：…，有效期至…"""
    return f"「{auth.brand_name}」品牌授权{shop_type}，授权方：{auth.grantor_name}，有效期至 {auth.valid_until:%Y-%m-%d}"


def shop_labels(shops) -> dict[int, list[str]]:
    """Shop id -> the authorization lines to show under it (public pages)."""
    shops = list(shops)
    found = in_effect_for_shops(s.id for s in shops)
    return {s.id: [label(a, s.shop_type) for a in found[s.id]] for s in shops if s.id in found}


def granted_shops(ent: Enterprise) -> list[tuple[Shop, BrandAuthorization]]:
    """Public shops of other enterprises selling ``ent``'s brands under an authorization in
    effect (the brand owner's page lists them)."""
    today = china_today()
    if ent.uscc not in _in_effect_today(today)[1]:
        return []
    rows = db.session.execute(_GRANTED_SHOPS, {"uscc": ent.uscc, "today": today}).all()
    return [(shop, auth) for shop, auth in rows]


# --------------------------------------------------------------------------- ending

def withdraw(actor: User, auth_id: int, reason: str, *, seen_version=None) -> list[Shop]:
    """Withdraw an authorization: by the brand owner (a merchant owning the grantor's code) or
    by staff. Linked certified shops are suspended; both sides are mailed. Returns those shops."""
    auth = _get(auth_id) if actor.is_staff else get_as_grantor(actor, auth_id)
    reason = " ".join((reason or "").split())
    if not reason:
        raise FieldErrors({"reason": "请填写撤回理由，被授权方会看到它。"})
    if len(reason) > MAX_REASON:
        raise FieldErrors({"reason": "理由不能超过 1000 个字符。"})
    begin_edit(auth, seen_version)
    if auth.status not in (S.ACTIVE, S.PENDING):
        raise ServiceError(f"该授权{auth.status_label}，无需撤回。")
    before = {"status": auth.status}
    auth.status, auth.status_reason = S.WITHDRAWN, reason
    auth.ended_by_id, auth.ended_at = actor.id, utc_now()
    _audit("authorization.withdraw", auth, actor, before, {"status": auth.status}, note=reason)
    who = "工作人员" if actor.is_staff else "授权方"
    shop_reason = f"「{auth.brand_name}」品牌授权已被{who}撤回：{reason}"
    suspended = _end(auth, shop_reason, actor)
    _mail_sides(auth, f"「{auth.brand_name}」品牌授权已撤回",
                f"{auth.grantor_name} 授予 {_distributor_name(auth)} 的「{auth.brand_name}」品牌授权"
                f"（{auth.platform_names}）已被{who}撤回。\n理由：{reason}", suspended)
    return suspended


def _end(auth: BrandAuthorization, shop_reason: str, actor) -> list[Shop]:
    """Suspend the linked certified shops (the changes feed: authorization_withdrawn)."""
    suspended = []
    for link in auth.links:
        shop = link.shop
        if shop is not None and shop.status == Status.CERTIFIED:
            set_shop_status(shop, Status.SUSPENDED, actor, shop_reason, cause=CAUSE_AUTHORIZATION, notify=False)
            suspended.append(shop)
    db.session.flush()
    return suspended


def expire_due(today: date | None = None) -> dict:
    """The daily job: end authorizations past their date (suspending the linked shops) and warn
    both sides 30 days ahead, once. Safe to run again: ended ones are not touched twice."""
    today = today or china_today()
    counts = {"expired": 0, "suspended_shops": 0, "warned": 0}
    due = db.session.scalars(select(BrandAuthorization).where(
        BrandAuthorization.status == S.ACTIVE, BrandAuthorization.valid_until < today)
        .order_by(BrandAuthorization.id)).all()
    for auth in due:
        auth.status, auth.ended_at = S.EXPIRED, utc_now()
        auth.status_reason = f"授权已于 {auth.valid_until:%Y-%m-%d} 到期。"
        _audit("authorization.expire", auth, None, {"status": S.ACTIVE}, {"status": S.EXPIRED})
        suspended = _end(auth, f"「{auth.brand_name}」品牌授权已于 {auth.valid_until:%Y-%m-%d} 到期。", None)
        counts["expired"] += 1
        counts["suspended_shops"] += len(suspended)
        _mail_sides(auth, f"「{auth.brand_name}」品牌授权已到期",
                    f"{auth.grantor_name} 授予 {_distributor_name(auth)} 的「{auth.brand_name}」品牌授权"
                    f"已于 {auth.valid_until:%Y-%m-%d} 到期。", suspended)
    soon = db.session.scalars(select(BrandAuthorization).where(
        BrandAuthorization.status == S.ACTIVE, BrandAuthorization.expiry_warned_at.is_(None),
        BrandAuthorization.valid_until <= today + timedelta(days=WARN_DAYS)).order_by(BrandAuthorization.id)).all()
    for auth in soon:
        auth.expiry_warned_at = utc_now()
        counts["warned"] += 1
        _mail_sides(auth, f"「{auth.brand_name}」品牌授权将于 {auth.valid_until:%Y-%m-%d} 到期",
                    f"{auth.grantor_name} 授予 {_distributor_name(auth)} 的「{auth.brand_name}」品牌授权将于 "
                    f"{auth.valid_until:%Y-%m-%d} 到期。到期后，关联的专卖店、专营店会暂停展示；"
                    "如需继续合作，请由品牌方重新授予授权（或由经销商上传新的授权书）。", [])
    db.session.flush()
    return counts


def _distributor_name(auth: BrandAuthorization) -> str:
    ent = enterprise_with_code(auth.distributor_uscc)
    return ent.name if ent is not None else f"统一社会信用代码为 {auth.distributor_uscc} 的企业"


def _mail_sides(auth: BrandAuthorization, subject: str, body: str, suspended: list[Shop]) -> None:
    """One mail to each side that has an account (the owners of both codes)."""
    shops = "".join(f"\n- {s.name}（{s.platform.name}，{s.url}）" for s in suspended)
    for code, extra in ((auth.distributor_uscc, f"\n\n以下依赖该授权的店铺已暂停展示：{shops}\n请取得新的授权并在“品牌授权”页面"
                                                 "重新关联后，联系工作人员恢复。" if suspended else ""),
                        (auth.grantor_uscc, f"\n\n被授权方依赖该授权的 {len(suspended)} 家店铺已暂停展示。" if suspended else "")):
        ent = enterprise_with_code(code)
        if ent is not None:
            mail_owner(ent, subject, body + extra)


# --------------------------------------------------------------------------- letters and audit

def letter_for_distributor(user: User, auth_id: int) -> BrandAuthorization:
    """The letter's row with its bytes, for the distributor's owner only."""
    auth = get_as_distributor(user, auth_id)
    return _with_letter(auth.id)


def letter_for_staff(auth_id: int) -> BrandAuthorization:
    return _with_letter(auth_id)


def get_for_staff(auth_id: int) -> BrandAuthorization:
    """Any authorization (the staff console)."""
    return _get(auth_id)


def _with_letter(auth_id: int) -> BrandAuthorization:
    auth = db.session.scalar(select(BrandAuthorization).where(BrandAuthorization.id == auth_id)
                             .options(undefer(BrandAuthorization.letter_data)))
    if auth is None or not auth.letter_data:
        raise NotFound("授权书不存在。")
    return auth


def staff_queue(status: str = S.PENDING) -> list[BrandAuthorization]:
    """Authorizations by status for the staff console, oldest first for letters to check."""
    order = BrandAuthorization.id if status == S.PENDING else BrandAuthorization.id.desc()
    return list(db.session.scalars(select(BrandAuthorization).where(BrandAuthorization.status == status)
                                   .options(selectinload(BrandAuthorization.platforms)).order_by(order).limit(200)))


def for_enterprise(ent: Enterprise) -> list[BrandAuthorization]:
    """Every authorization where ``ent`` is either side (the staff's enterprise page, review)."""
    return _listed(or_(BrandAuthorization.grantor_uscc == ent.uscc, BrandAuthorization.distributor_uscc == ent.uscc))


def review_summary(ent: Enterprise) -> list[tuple[Shop, list[BrandAuthorization]]]:
    """The enterprise's 专卖店 / 专营店 with the authorizations each is linked to (the review page:
    a shop selling another enterprise's brand needs one)."""
    shops = [s for s in ent.shops if s.shop_type in DEPENDENT_TYPES]
    if not shops:
        return []
    linked: dict[int, list[BrandAuthorization]] = {}
    for link in db.session.scalars(select(ShopAuthorization).where(ShopAuthorization.shop_id.in_([s.id for s in shops]))):
        linked.setdefault(link.shop_id, []).append(link.authorization)
    return [(s, linked.get(s.id, [])) for s in shops]


def _facts(auth: BrandAuthorization) -> dict:
    return {"status": auth.status, "source": auth.source, "brand": auth.brand_name, "grantor_uscc": auth.grantor_uscc,
            "distributor_uscc": auth.distributor_uscc, "platforms": [p.slug for p in auth.platforms],
            "valid_from": auth.valid_from.isoformat(), "valid_until": auth.valid_until.isoformat()}


def _audit(action: str, auth: BrandAuthorization, actor, before, after, note: str = "") -> None:
    distributor = enterprise_with_code(auth.distributor_uscc)
    record(action, actor=actor, entity_kind="authorization", entity_id=auth.id,
           enterprise_id=distributor.id if distributor is not None else None, before=before, after=after,
           note=note or f"「{auth.brand_name}」授权方 {auth.grantor_name}")
