"""Read-only data for the merchant dashboard: pending changes described field by field, click
counts per day, complaints about the merchant's listings and the next-steps checklist.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from ...extensions import db
from ...models import (
    AppKind, Application, AppStatus, City, ClickEvent, Complaint, Enterprise, Industry, Platform,
    Shop, Status, User,
)
from ...clock import utc_now
from ..enterprise_fields import enterprise_snapshot, shop_snapshot


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
              "description": "简介", "website": "官网", "founded_year": "成立年份", "logo_sha256": "标志",
              "service_phone": "客服电话", "service_hours": "服务时间", "address": "地址"}
    live = enterprise_snapshot(ent)

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
    live = shop_snapshot(shop)

    def show(key, value):
        if key == "platform_id":
            plat = db.session.get(Platform, value) if value else None
            return plat.name if plat else ""
        return "" if value is None else str(value)

    return [(labels[k], show(k, live.get(k)), show(k, v)) for k, v in (payload or {}).items() if k in labels]


def clicks_by_day(shop_ids: list[int], days: int = 30, now: datetime | None = None) -> dict[int, list[tuple[date, int]]]:
    """Click-throughs per shop per China-time day over the last ``days`` days (oldest first)."""
    now = now or utc_now()
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
