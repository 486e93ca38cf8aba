"""Demo 公示 entries, so ``/gongshi`` and ``/staff/objections`` are not empty in ``make run``.

Three fictional merchant enterprises are approved through ``review.approve`` — the real path —
so they go on 公示: two stay on notice (one with an open objection for staff to handle), and one
is moved back in time and takes effect through ``gongshi.take_effect``, like the periodic
command would. Idempotent: enterprises already present are left alone.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from ..clock import add_working_days, china_today
from ..extensions import db
from ..models import AppKind, Application, AppStatus, City, Enterprise, Industry, Platform, PublicNotice, Shop, Status
from ..validation.uscc import check_character
from . import gongshi, review
from .enterprise_fields import apply_enterprise_fields
from .images import store_image
from .shop_codes import VERIFIED, ShopCheck, assign_code, shops_to_check

# (name, brand, city, industry, [(platform slug, shop url, shop name)], days ago it was approved)
ENTRIES = [
    ("广州市南岭山泉饮品有限公司", "南岭泉", "广州", "食品饮料",
     [("tmall", "https://nanlingquan.tmall.com/", "南岭泉旗舰店")], 0),
    ("佛山市禾田陶瓷科技有限公司", "禾田瓷", "佛山", "陶瓷",
     [("jd", "https://mall.jd.com/index-9310001.html", "禾田瓷京东自营旗舰店"),
      ("tmall", "https://hetianci.tmall.com/", "禾田瓷旗舰店")], 1),
    ("汕头市海韵玩具实业有限公司", "海韵童趣", "汕头", "玩具",
     [("tmall", "https://haiyuntongqu.tmall.com/", "海韵童趣旗舰店")], 20),
]


def _uscc(n: int) -> str:
    body = f"9144{n:013d}"[:17]
    return body + check_character(body)


def _enterprise(n: int, name: str, brand: str, city: str, industry: str, shops) -> Enterprise | None:
    """A pending enterprise with pending shops, as a merchant's submission leaves it."""
    city_row = db.session.scalar(select(City).where(City.name == city))
    industry_row = db.session.scalar(select(Industry).where(Industry.name == industry))
    if city_row is None or industry_row is None:
        return None
    ent = Enterprise(uscc=_uscc(n), status=Status.PENDING, source="merchant", name="", name_key="", name_sort="",
                     description=f"{brand}：演示用虚构企业，正在认证公示。")
    apply_enterprise_fields(ent, {"name": name, "brands": [brand], "city_id": city_row.id,
                                  "industry_ids": [industry_row.id]})
    db.session.add(ent)
    for slug, url, shop_name in shops:
        plat = db.session.scalar(select(Platform).where(Platform.slug == slug))
        if plat is not None and db.session.scalar(select(Shop.id).where(Shop.url == url)) is None:
            shop = Shop(platform=plat, url=url, name=shop_name, status=Status.PENDING)
            assign_code(shop)
            ent.shops.append(shop)
    db.session.flush()
    return ent


def load_demo_gongshi(make_logo) -> int:
    """Add the demo 公示 entries (and one objection); returns how many entries were added.
    ``make_logo(brand) -> PNG bytes`` draws their logos like the rest of the demo's."""
    added = 0
    today = china_today()
    for n, (name, brand, city, industry, shops, days_ago) in enumerate(ENTRIES, start=9_900_001):
        if db.session.scalar(select(Enterprise.id).where(Enterprise.uscc == _uscc(n))) is not None:
            continue
        ent = _enterprise(n, name, brand, city, industry, shops)
        if ent is None:
            continue
        ent.logo_sha256 = store_image(make_logo(brand)).sha256
        application = Application(kind=AppKind.ENTERPRISE, enterprise_id=ent.id, payload={}, status=AppStatus.PENDING)
        db.session.add(application)
        db.session.flush()
        checks = {shop.id: ShopCheck(VERIFIED) for shop in shops_to_check(application)}
        review.approve(application.id, None, shop_checks=checks)
        notice = db.session.scalar(select(PublicNotice).where(PublicNotice.application_id == application.id))
        if days_ago:
            start = today - timedelta(days=days_ago)
            db.session.execute(update(PublicNotice).where(PublicNotice.id == notice.id).values(
                starts_on=start, ends_on=add_working_days(start, gongshi.working_days())))
        if n == 9_900_002:
            gongshi.file_objection(notice.id, gongshi.ObjectionInput(
                reason="演示异议：京东店铺的经营主体与公示企业名称不一致，请核实。", contact_name="陈女士",
                contact_email="objector@example.com"), None)
        added += 1
    gongshi.take_effect(today)
    db.session.flush()
    return added
