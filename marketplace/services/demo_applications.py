"""Demo applications waiting in the review queue, so that ``make run`` shows the review page as
staff will see it: two fictional merchants' enterprises submitted with evidence (a generated
licence picture, one as a two-page PDF) and their shops with verification codes. They go through
the same services as a merchant's form (``submit_for_certification``). The imported campaign list
needs no evidence and gets none. Idempotent: a demo applicant that already has its enterprise is
left alone. The demo accounts get a random password nobody knows (they exist to own the demo).
"""
from __future__ import annotations

import io
import secrets

import pikepdf
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from sqlalchemy import select

from ..extensions import db
from ..models import City, Enterprise, Industry, Platform, Role, Shop, Status, User
from ..validation.text import normalize_key, pinyin_sort_key
from .images import image_bytes_from_pil, store_image
from .listings.applications import submit_for_certification
from .shop_codes import assign_code
from .synthetic import make_uscc

DEMO = [  # applicant, enterprise, city code, USCC serial, shops (platform slug, name, url), licence kind
    ("demo-applicant-1@gdws.example", "佛山市演示木作家居有限公司", "440606", 880_000_101,
     [("tmall", "演示木作旗舰店", "https://yanshimuzuo-demo.tmall.com/"),
      ("jd", "演示木作京东自营店", "https://mall.jd.com/index-88000101.html")], "image"),
    ("demo-applicant-2@gdws.example", "东莞市演示智能电器有限公司", "441900", 880_000_102,
     [("tmall", "演示智能电器旗舰店", "https://yanshizhineng-demo.tmall.com/")], "pdf"),
]


def demo_licence(title: str) -> bytes:
    """A picture standing in for a photographed business licence (Latin text, no CJK font)."""
    im = PILImage.new("RGB", (1200, 850), (252, 248, 236))
    draw = ImageDraw.Draw(im)
    draw.rectangle((20, 20, 1180, 830), outline=(150, 30, 30), width=8)
    draw.text((330, 60), "BUSINESS LICENCE (demo, fictional)", font=ImageFont.load_default(size=36), fill=(120, 20, 20))
    draw.text((120, 130), title, font=ImageFont.load_default(size=28), fill=(60, 60, 60))
    for n in range(9):
        draw.line((120, 200 + 60 * n, 1080 - 90 * (n % 3), 200 + 60 * n), fill=(90, 90, 90), width=5)
    draw.ellipse((880, 580, 1080, 780), outline=(200, 20, 20), width=10)
    return image_bytes_from_pil(im)


def demo_licence_pdf(title: str, pages: int = 2) -> bytes:
    """The same as a small scanned PDF (text pages drawn with PDF operators)."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    for n in range(pages):
        pdf.add_blank_page(page_size=(842, 595))
        page = pdf.pages[-1]
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.obj.Contents = pdf.make_stream(
            f"0.6 0.1 0.1 RG 8 w 20 20 802 555 re S BT /F1 30 Tf 180 500 Td (BUSINESS LICENCE {n + 1}/{pages} - demo) Tj ET "
            f"0.3 g BT /F1 18 Tf 80 430 Td ({title}) Tj ET".encode())
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def _applicant(email: str) -> User:
    from werkzeug.security import generate_password_hash

    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, role=Role.MERCHANT, password_hash=generate_password_hash(secrets.token_urlsafe(24)))
        db.session.add(user)
        db.session.flush()
    return user


def load_demo_applications() -> int:
    """Submit the demo applications that are not there yet; returns how many were added."""
    from .demo import make_logo  # demo loads this module

    added = 0
    industry = db.session.scalar(select(Industry).order_by(Industry.position).limit(1))
    for email, name, area, serial, shops, kind in DEMO:
        uscc = make_uscc(area, serial)
        if db.session.scalar(select(Enterprise.id).where(Enterprise.uscc == uscc)) is not None:
            continue
        city = db.session.scalar(select(City).where(City.code == area[:4] + "00")) or \
            db.session.scalar(select(City).order_by(City.position).limit(1))
        user = _applicant(email)
        ent = Enterprise(uscc=uscc, name=name, name_key=normalize_key(name), name_sort=pinyin_sort_key(name),
                         status=Status.DRAFT, owner_id=user.id,
                         city_id=city.id, description=f"{name}（演示数据，虚构企业），等待工作人员审核。", source="merchant")
        ent.industries = [industry] if industry else []
        ent.logo_sha256 = store_image(make_logo(name[3:7])).sha256
        db.session.add(ent)
        for slug, shop_name, url in shops:
            platform = db.session.scalar(select(Platform).where(Platform.slug == slug))
            shop = Shop(enterprise=ent, platform_id=platform.id, name=shop_name, url=url, status=Status.DRAFT)
            assign_code(shop)
            db.session.add(shop)
        db.session.flush()
        title = f"USCC {uscc}"
        licence = demo_licence_pdf(title) if kind == "pdf" else demo_licence(title)
        submit_for_certification(user, ent.id, {
            "legal_representative": "演示法人", "registered_address": f"{city.name}演示路 1 号（虚构）",
            "contact_name": "演示联系人", "contact_mobile": "13800000000", "contact_email": email,
            "licence": licence})
        added += 1
    return added
