"""The review queue: pending applications, the checks staff see, and the decisions.

Decisions follow the Status contract (see COMMON/DESIGN): an application is decided with a
conditional ``UPDATE ... WHERE id = ? AND status = 'pending'`` issued *before* anything else, so
two staff deciding at once cannot both win — the loser's UPDATE matches no row and the service
raises ``ServiceError("已被其他工作人员处理")``; the caller rolls back and nothing is decided twice.
Services flush, never commit; mail is returned as ``Notice`` objects the view sends after commit.
"""
from __future__ import annotations

import difflib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    CHINA_TZ, AppKind, Application, AppStatus, Brand, Certification, CertStatus, City, Enterprise,
    Industry, Platform, Shop, Status, enterprise_industry, utcnow,
)
from ..validation import ValidationError
from ..validation.text import normalize_key, pinyin_sort_key
from ..validation.urls import host_matches, url_host
from ..validation.uscc import normalize_uscc, suggested_city_code
from . import NotFound, ServiceError
from .audit import record

ALREADY_DECIDED = "已被其他工作人员处理"
SIMILAR_NAME_RATIO = 0.85
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


# --------------------------------------------------------------------------- checks

def _city_name(city_id) -> str:
    city = db.session.get(City, city_id) if city_id else None
    return city.name if city else ""


def _industry_names(ids) -> str:
    if not ids:
        return ""
    rows = db.session.scalars(select(Industry).where(Industry.id.in_(list(ids))).order_by(Industry.position))
    return "、".join(i.name for i in rows)


def _platform_name(pid) -> str:
    plat = db.session.get(Platform, pid) if pid else None
    return plat.name if plat else ""


ENTERPRISE_FIELDS = {
    "name": "企业名称", "brands": "品牌", "city_id": "所在城市", "industry_ids": "行业",
    "description": "简介", "website": "官网", "founded_year": "成立年份", "logo_sha256": "标志",
}
SHOP_FIELDS = {"name": "店铺名称", "url": "网址", "shop_type": "店铺类型", "platform_id": "平台"}


def _show_enterprise_value(key: str, value) -> str:
    if key == "brands":
        return "、".join(value or [])
    if key == "city_id":
        return _city_name(value)
    if key == "industry_ids":
        return _industry_names(value)
    if value is None:
        return ""
    return str(value)


def diff(application: Application) -> list[dict]:
    """Field-by-field differences between the live listing and an edit's payload.

    Each entry: ``{"field", "label", "before", "after", "changed"}`` with display strings.
    Empty for kinds that carry no payload.
    """
    rows: list[dict] = []
    payload = application.payload or {}
    if application.kind == AppKind.ENTERPRISE_EDIT:
        ent = application.enterprise
        live = {"name": ent.name, "brands": ent.brand_names, "city_id": ent.city_id,
                "industry_ids": [i.id for i in ent.industries], "description": ent.description,
                "website": ent.website, "founded_year": ent.founded_year, "logo_sha256": ent.logo_sha256}
        for key, label in ENTERPRISE_FIELDS.items():
            if key in payload:
                before = _show_enterprise_value(key, live[key])
                after = _show_enterprise_value(key, payload[key])
                rows.append({"field": key, "label": label, "before": before, "after": after,
                             "changed": before != after, **inline_diff(before, after)})
    elif application.kind == AppKind.SHOP_EDIT and application.shop is not None:
        shop = application.shop
        live = {"name": shop.name, "url": shop.url, "shop_type": shop.shop_type, "platform_id": shop.platform_id}
        for key, label in SHOP_FIELDS.items():
            if key in payload:
                if key == "platform_id":
                    before, after = _platform_name(live[key]), _platform_name(payload[key])
                else:
                    before, after = str(live[key] or ""), str(payload[key] or "")
                rows.append({"field": key, "label": label, "before": before, "after": after,
                             "changed": before != after, **inline_diff(before, after)})
    return rows


def inline_diff(before: str, after: str) -> dict:
    """Character-level segments ``[(text, changed)]`` for both sides, so staff see exactly which
    words of a long description or a URL changed."""
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    old: list[tuple[str, bool]] = []
    new: list[tuple[str, bool]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if before[i1:i2]:
            old.append((before[i1:i2], op != "equal"))
        if after[j1:j2]:
            new.append((after[j1:j2], op != "equal"))
    return {"before_parts": old, "after_parts": new}


def uscc_check(ent: Enterprise) -> dict:
    """The USCC validation result shown to staff: ok flag, message, suggested city."""
    try:
        code = normalize_uscc(ent.uscc)
    except ValidationError as err:
        return {"ok": False, "message": str(err), "city_matches": None, "suggested_city": ""}
    suggested = suggested_city_code(code)
    city = db.session.scalar(select(City).where(City.code == suggested)) if suggested else None
    city_matches = None if city is None else city.id == ent.city_id
    msg = "校验通过"
    if suggested is None:
        msg += "（登记机关不在广东省）"
    return {"ok": True, "message": msg, "city_matches": city_matches,
            "suggested_city": city.name if city else ""}


def _shops_under_review(application: Application) -> list[dict]:
    """The shops (with proposed values for shop edits) the decision will make public."""
    ent = application.enterprise
    if application.kind == AppKind.ENTERPRISE:
        shops = [s for s in ent.shops if s.status in (Status.PENDING, Status.CERTIFIED)]
        return [{"shop": s, "name": s.name, "url": s.url, "platform": s.platform} for s in shops]
    if application.kind == AppKind.SHOP and application.shop is not None:
        s = application.shop
        return [{"shop": s, "name": s.name, "url": s.url, "platform": s.platform}]
    if application.kind == AppKind.SHOP_EDIT and application.shop is not None:
        s = application.shop
        payload = application.payload or {}
        plat = db.session.get(Platform, payload["platform_id"]) if payload.get("platform_id") else s.platform
        return [{"shop": s, "name": payload.get("name", s.name), "url": payload.get("url", s.url),
                 "platform": plat}]
    return []


def shop_checks(application: Application) -> list[dict]:
    """Per shop: does the URL's host belong to its platform; is the URL used by another shop."""
    out = []
    ent = application.enterprise
    for item in _shops_under_review(application):
        plat, url, shop = item["platform"], item["url"], item["shop"]
        host = url_host(url)
        if plat is None:
            matches, expected = False, ""
        elif plat.host_list:
            matches, expected = host_matches(host, plat.host_list), "、".join(plat.host_list)
        else:
            own = url_host(ent.website) if ent.website else ""
            matches = bool(own) and host_matches(host, [own.removeprefix("www.")])
            expected = f"企业官网域名 {own}" if own else "（企业未填写官网）"
        variants = _url_variants(url)
        dup = db.session.scalars(select(Shop).where(Shop.url.in_(variants), Shop.id != shop.id)).all()
        out.append({"shop": shop, "name": item["name"], "url": url, "host": host,
                    "platform": plat.name if plat else "", "host_ok": matches, "expected": expected,
                    "duplicates": dup})
    return out


def _url_variants(url: str) -> list[str]:
    """The same address with http/https and with or without a trailing slash."""
    rest = url.split("://", 1)[-1]
    bases = {rest, rest.rstrip("/"), rest.rstrip("/") + "/"}
    return [f"{scheme}://{b}" for b in bases for scheme in ("http", "https")]


def duplicate_warnings(application: Application) -> list[str]:
    """Warnings about possible duplicates: same USCC, same shop URL, very similar names."""
    ent = application.enterprise
    warnings: list[str] = []
    same_uscc = db.session.scalars(select(Enterprise).where(Enterprise.uscc == ent.uscc,
                                                            Enterprise.id != ent.id)).all()
    for other in same_uscc:
        warnings.append(f"统一社会信用代码与企业 #{other.id}「{other.name}」相同。")
    others = db.session.scalars(select(Application).where(
        Application.enterprise_id == ent.id, Application.status == AppStatus.PENDING,
        Application.id != application.id, Application.kind == application.kind)).all()
    for other in others:
        warnings.append(f"同一企业还有一个待审核的「{other.kind_label}」申请 #{other.id}。")
    for check in shop_checks(application):
        for dup in check["duplicates"]:
            warnings.append(f"店铺网址 {check['url']} 与企业 #{dup.enterprise_id} 的店铺 #{dup.id}「{dup.name}」相同。")
    names = {normalize_key(ent.name)} | {b.name_key for b in ent.brands}
    payload = application.payload or {}
    if application.kind == AppKind.ENTERPRISE_EDIT:
        if payload.get("name"):
            names.add(normalize_key(payload["name"]))
        names |= {normalize_key(b) for b in payload.get("brands") or []}
    names.discard("")
    warnings.extend(similar_names(names, exclude_id=ent.id))
    return warnings


def similar_names(keys: set[str], *, exclude_id: int) -> list[str]:
    """Other enterprises whose legal name or a brand is very similar (difflib ratio >= 0.85)."""
    found: dict[int, str] = {}
    candidates: dict[str, set[int]] = {}
    for eid, key in db.session.execute(select(Enterprise.id, Enterprise.name_key).where(Enterprise.id != exclude_id)):
        candidates.setdefault(key, set()).add(eid)
    for eid, key in db.session.execute(select(Brand.enterprise_id, Brand.name_key).where(Brand.enterprise_id != exclude_id)):
        candidates.setdefault(key, set()).add(eid)
    pool = list(candidates)
    for key in sorted(keys):
        for match in difflib.get_close_matches(key, pool, n=5, cutoff=SIMILAR_NAME_RATIO):
            for eid in candidates[match]:
                found.setdefault(eid, match)
    out = []
    for eid, match in list(found.items())[:10]:
        other = db.session.get(Enterprise, eid)
        ratio = max(difflib.SequenceMatcher(None, k, match).ratio() for k in keys)
        out.append(f"名称与企业 #{other.id}「{other.name}」（{other.status_label}）非常相似（相似度 {ratio:.0%}）。")
    return out


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
    if "name" in payload:
        ent.name = payload["name"]
        ent.name_key = normalize_key(payload["name"])
        ent.name_sort = pinyin_sort_key(payload["name"])
    if "brands" in payload:
        ent.brands.clear()
        db.session.flush()
        seen = set()
        for pos, name in enumerate(payload["brands"] or []):
            key = normalize_key(name)
            if key and key not in seen:
                seen.add(key)
                ent.brands.append(Brand(name=name, name_key=key, position=pos))
    if "city_id" in payload:
        if db.session.get(City, payload["city_id"]) is None:
            raise ServiceError("变更中的城市不存在。")
        ent.city_id = payload["city_id"]
    if "industry_ids" in payload:
        ids = list(payload["industry_ids"] or [])
        ent.industries = list(db.session.scalars(select(Industry).where(Industry.id.in_(ids))))
    for key in ("description", "website", "founded_year", "logo_sha256"):
        if key in payload:
            setattr(ent, key, payload[key])


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
    base = (current_app.config.get("SERVER_NAME_FOR_LINKS") or "").rstrip("/")
    return f"{base}{path}"


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
