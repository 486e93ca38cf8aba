"""Demo brand authorizations, so that ``make run`` shows the feature: the authorizations in
``data/demo/authorizations.csv`` between demo brands and two fictional distributors
(``distributors.csv`` and ``distributor_shops.csv``, imported with the rest of the demo by
``services.demo``): one granted on the portal, one letter staff accepted, one letter waiting for
staff. Letters are a generated picture of a document. Idempotent: an authorization already there
(same brand and distributor) is left alone.
"""
from __future__ import annotations

import csv
import hashlib
from datetime import timedelta
from pathlib import Path

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from sqlalchemy import select

from ..clock import china_today, utc_now
from ..extensions import db
from ..models import BrandAuthorization, Platform, Shop, ShopAuthorization
from .audit import record
from .authorizations import LETTER_MAX_SIDE, enterprise_with_code
from .images import image_bytes_from_pil, process_image


def demo_letter(brand: str) -> bytes:
    """A picture standing in for a stamped letter (Latin text: no CJK font is needed)."""
    im = PILImage.new("RGB", (900, 1200), (252, 251, 246))
    draw = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=40)
    draw.text((90, 90), "AUTHORIZATION LETTER", font=font, fill=(30, 30, 30))
    draw.text((90, 150), "(demo data, fictional)", font=ImageFont.load_default(size=28), fill=(90, 90, 90))
    for y in range(260, 900, 48):
        draw.line((90, y, 810, y), fill=(170, 170, 170), width=3)
    draw.ellipse((560, 880, 800, 1120), outline=(200, 20, 40), width=10)
    draw.text((600, 980), hashlib.sha256(brand.encode()).hexdigest()[:8].upper(), font=font, fill=(200, 20, 40))
    return image_bytes_from_pil(im)


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load_demo_authorizations(directory: Path) -> int:
    """Add the demo authorizations (their enterprises and shops are imported); returns how many."""
    added = 0
    today = china_today()
    for row in _rows(directory / "authorizations.csv"):
        grantor = enterprise_with_code(row["grantor_uscc"])
        if grantor is None or db.session.scalar(select(BrandAuthorization.id).where(
                BrandAuthorization.brand_name == row["brand"],
                BrandAuthorization.distributor_uscc == row["distributor_uscc"])):
            continue
        auth = BrandAuthorization(
            source=row["source"], status=row["status"], brand_name=row["brand"], grantor_uscc=grantor.uscc,
            grantor_name=grantor.name, distributor_uscc=row["distributor_uscc"], valid_from=today,
            valid_until=today + timedelta(days=int(row["valid_days"])),
            platforms=list(db.session.scalars(select(Platform).where(Platform.slug.in_(row["platforms"].split(";"))))),
            links=[ShopAuthorization(shop=shop) for shop in db.session.scalars(
                select(Shop).where(Shop.url.in_(row["shops"].split(";"))))])
        if row["source"] == "letter":
            data, mime, _w, _h = process_image(demo_letter(row["brand"]), max_side=LETTER_MAX_SIDE)
            auth.letter_data, auth.letter_mime = data, mime
            auth.letter_sha256 = hashlib.sha256(data).hexdigest()
            if row["status"] == "active":
                auth.decided_at = utc_now()
        db.session.add(auth)
        db.session.flush()
        record("authorization.demo", entity_kind="authorization", entity_id=auth.id,
               enterprise_id=enterprise_with_code(auth.distributor_uscc).id, after={"status": auth.status},
               note=f"演示数据：「{auth.brand_name}」授权方 {auth.grantor_name}")
        added += 1
    db.session.flush()
    return added
