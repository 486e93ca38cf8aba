"""Factories for every model: each test makes the data it needs.

All factories flush (so ids exist) and never commit; tests commit when a request must see data.
"""
from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from marketplace.extensions import db
from marketplace.models import (
    Badge, Brand, Certification, City, Enterprise, Industry, Platform, Role, Shop, ShopType, Status,
    User,
)
from marketplace.clock import china_today, utc_now
from marketplace.validation.text import normalize_key
from marketplace.validation.uscc import check_character

_seq = itertools.count(1)
# Statuses only a once-certified listing can have: approval and import set ``certified_at``.
WAS_CERTIFIED = (Status.CERTIFIED, Status.SUSPENDED, Status.REVOKED, Status.EXPIRED)


def make_uscc(n: int | None = None, area: str = "440606") -> str:
    """A valid 统一社会信用代码 with a Guangdong area code (default 佛山顺德)."""
    n = next(_seq) if n is None else n
    body = f"91{area}{n:09d}"[:17]
    return body + check_character(body)


def city(name: str = "佛山") -> City:
    return db.session.scalar(select(City).where(City.name == name))


def industry(name: str = "家电") -> Industry:
    return db.session.scalar(select(Industry).where(Industry.name == name))


def platform(slug: str = "tmall") -> Platform:
    return db.session.scalar(select(Platform).where(Platform.slug == slug))


def badge(name: str = "中华老字号") -> Badge:
    return db.session.scalar(select(Badge).where(Badge.name == name))


def make_user(role: str = Role.MERCHANT, email: str | None = None, password: str = "correct horse battery") -> User:
    n = next(_seq)
    user = User(email=email or f"user{n}@example.com", role=role,
                password_hash=generate_password_hash(password, method="pbkdf2:sha256:1000"))
    db.session.add(user)
    db.session.flush()
    return user


def make_enterprise(name: str | None = None, *, brands: list[str] | None = None, city_name: str = "佛山",
                    industries: list[str] | None = None, status: str = Status.CERTIFIED, owner: User | None = None,
                    description: str = "一家专注品质的广东企业。", badges: list[str] | None = None,
                    certificate: bool | None = None, uscc: str | None = None) -> Enterprise:
    n = next(_seq)
    name = name or f"广东测试实业有限公司{n}"
    ent = Enterprise(uscc=uscc or make_uscc(n), name=name, name_key=normalize_key(name), name_sort=name,
                     description=description, city=city(city_name), status=status, owner=owner,
                     source="merchant" if owner else "import")
    for pos, b in enumerate(brands or [f"测试品牌{n}"]):
        ent.brands.append(Brand(name=b, name_key=normalize_key(b), position=pos))
    ent.industries = [industry(i) for i in (industries or ["家电"])]
    ent.badges = [badge(b) for b in (badges or [])]
    if status in WAS_CERTIFIED:
        ent.certified_at = utc_now()
    db.session.add(ent)
    db.session.flush()
    if certificate or (certificate is None and status == Status.CERTIFIED):
        make_certificate(ent)
    return ent


def make_certificate(ent: Enterprise, *, days_valid: int = 730, status: str = "valid") -> Certification:
    today = china_today()
    cert = Certification(enterprise=ent, number=f"GDWS-{today.year}-{next(_seq):06d}", issued_on=today,
                         valid_until=today + timedelta(days=days_valid), status=status)
    db.session.add(cert)
    db.session.flush()
    return cert


def _test_code(n: int) -> str:
    """A unique verification code per factory shop, without a query (schema-agnostic)."""
    from marketplace.services.shop_codes import ALPHABET, PREFIX

    chars = []
    for _ in range(4):
        n, r = divmod(n, len(ALPHABET))
        chars.append(ALPHABET[r])
    return PREFIX + "".join(reversed(chars))


def make_shop(ent: Enterprise, *, platform_slug: str = "tmall", url: str | None = None, name: str | None = None,
              shop_type: str = ShopType.FLAGSHIP, status: str = Status.CERTIFIED) -> Shop:
    n = next(_seq)
    plat = platform(platform_slug)
    host = plat.host_list[0] if plat.host_list else "example-brand.com"
    shop = Shop(enterprise=ent, platform=plat, name=name or f"{ent.display_name}{shop_type}",
                url=url or f"https://shop{n}.{host}/", shop_type=shop_type, status=status,
                certified_at=utc_now() if status in WAS_CERTIFIED else None,
                # shops under review carry the code a merchant's shop gets on creation
                **({"verify_code": _test_code(n)} if status in (Status.DRAFT, Status.PENDING) else {}))
    db.session.add(shop)
    db.session.flush()
    return shop


# --- review queue and complaints (staff console) ---------------------------------------------

def make_application(ent: Enterprise, kind: str = "enterprise", *, applicant: User | None = None,
                     shop: Shop | None = None, payload: dict | None = None, submitted_at=None):
    """A pending application (the merchant side normally creates these)."""
    from marketplace.models import Application

    app_row = Application(kind=kind, enterprise=ent, shop=shop, applicant=applicant or ent.owner,
                          payload=payload or {}, status="pending", submitted_at=submitted_at or utc_now())
    db.session.add(app_row)
    db.session.flush()
    return app_row


def make_complaint(ent: Enterprise, *, shop: Shop | None = None, kind: str = "假冒伪劣",
                   description: str = "收到的商品与描述不符，疑似假冒。", contact: str = "13800000000",
                   created_at=None):
    """A new consumer complaint (待受理) with a fresh reference number and its acceptance deadline."""
    from marketplace import clock
    from marketplace.models import Complaint
    from marketplace.services.complaint_process import open_deadlines

    at = created_at or clock.utc_now()
    c = Complaint(reference=f"TS-20260101-{next(_seq):08d}", enterprise=ent, shop=shop, kind=kind,
                  description=description, contact=contact, status="new", created_at=at, updated_at=at)
    open_deadlines(c)
    db.session.add(c)
    db.session.flush()
    return c


# --- 网购节 (events) and offers ----------------------------------------------------------------

def make_event(*, slug: str | None = None, name: str | None = None, starts_in=None, lasts=None,
               hidden: bool = False, industries: list[str] | None = None):
    """An event starting ``starts_in`` from now (default: began a day ago) lasting ``lasts``
    (default 10 days); times naive UTC like the columns."""
    from marketplace import clock
    from marketplace.models import ShoppingEvent

    n = next(_seq)
    start = clock.utc_now() + (starts_in if starts_in is not None else -timedelta(days=1))
    event = ShoppingEvent(slug=slug or f"event-{n}", name=name or f"测试网购节{n}", description="测试活动。",
                          starts_at=start, ends_at=start + (lasts or timedelta(days=10)), hidden=hidden,
                          industries=[industry(i) for i in (industries or [])])
    db.session.add(event)
    db.session.flush()
    return event


def make_offer(event, shop, *, kind: str = "threshold", status: str = "approved", starts_at=None, ends_at=None,
               threshold_fen: int = 30000, amount_fen: int = 5000, coupon_code: str = "", terms: str = "全店通用。"):
    """An offer (approved by default) over the whole event unless times are given."""
    from marketplace import clock
    from marketplace.models import Offer

    offer = Offer(event=event, shop=shop, kind=kind, threshold_fen=threshold_fen, amount_fen=amount_fen,
                  discount_tenths=85 if kind == "discount" else 0, gift="帆布袋" if kind == "gift" else "",
                  terms=terms, coupon_code=coupon_code, status=status,
                  starts_at=starts_at or event.starts_at, ends_at=ends_at or event.ends_at,
                  decided_at=clock.utc_now() - timedelta(days=2) if status in ("approved", "rejected") else None,
                  submitted_by_id=shop.enterprise.owner_id)
    db.session.add(offer)
    db.session.flush()
    return offer


def licence_png(color=(250, 246, 235)) -> bytes:
    """A small PNG standing in for a photographed business licence."""
    import io

    from PIL import Image as PILImage

    im = PILImage.new("RGB", (120, 80), color)
    for x in range(10, 110):
        im.putpixel((x, 20), (160, 20, 20))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def evidence_input(**overrides) -> dict:
    """What the application forms hand the services: the typed evidence plus the licence bytes."""
    data = {"legal_representative": "张三", "registered_address": "广州市天河区体育西路 1 号",
            "contact_name": "李四", "contact_mobile": "13812345678", "contact_email": "contact@example.com",
            "licence": licence_png()}
    data.update(overrides)
    return data


def evidence_form(**overrides) -> dict:
    """The same as form fields for a multipart POST (the licence as an uploaded file)."""
    import io

    data = evidence_input(**overrides)
    licence = data.pop("licence")
    name = "licence.pdf" if licence[:5] == b"%PDF-" else "licence.png"
    data["licence"] = (io.BytesIO(licence), name)
    return data


def make_evidence(ent: Enterprise, user: User | None = None, **overrides):
    """Stored evidence for an enterprise (as a submission through the services would leave it)."""
    from marketplace.services.evidence import checked_submission, store_evidence

    fields, licence = checked_submission(evidence_input(**overrides))
    return store_evidence(user or ent.owner, ent, fields, licence)


WAIVER = "测试：早于验证码要求的店铺，已另行核实"


def all_codes_verified(application) -> dict:
    """The reviewer's marks for every shop the approval vouches for: verified (waived with a
    reason for a shop made without a code, as an old certified shop is)."""
    from marketplace.services.shop_codes import ShopCheck, shops_to_check

    return {s.id: ShopCheck("verified") if s.verify_code else ShopCheck("waived", WAIVER)
            for s in shops_to_check(application)}


def approve_form_data(application) -> dict:
    """The approve form's fields with every shop's code marked (as ``all_codes_verified``)."""
    data = {}
    for shop_id, mark in all_codes_verified(application).items():
        data[f"shop_check_{shop_id}"] = mark.result
        if mark.reason:
            data[f"shop_waive_{shop_id}"] = mark.reason
    return data


def post_with_evidence(client, url: str, data: dict | None = None, **kwargs):
    """POST a one-time application form (certification / claim) as a browser would: its
    ``form_token`` from a fresh GET, the evidence fields and the licence file (multipart)."""
    import re

    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="form_token" type="hidden" value="([^"]+)"', page)
    assert token, "no one-time form token on " + url
    form = {**evidence_form(), **(data or {}), "form_token": token.group(1)}
    return client.post(url, data=form, content_type="multipart/form-data", **kwargs)
def end_gongshi() -> dict:
    """Let every open 公示 entry end today and take effect (approvals of first certifications go
    on notice first: services.gongshi), then commit, as the periodic command does."""
    from sqlalchemy import update

    from marketplace.models import NoticeStatus, PublicNotice
    from marketplace.services import gongshi

    db.session.execute(update(PublicNotice).where(PublicNotice.status == NoticeStatus.OPEN)
                       .values(ends_on=china_today()))
    counts = gongshi.take_effect()
    db.session.commit()
    return counts
