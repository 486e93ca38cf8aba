"""The demo data's products (名优广货): 240 clearly fictional products with generated photos.

Each product belongs to a certified demo enterprise, is named after its (invented) brand and a
product of its industry (``demo_data.INDUSTRIES``), says 演示 / 虚构 in its description, and
links to a product page on one or two of its certified shops in the URL shape of that platform
(``product_url``) — checked by the same rules as a merchant's input, because everything goes
through ``create_product`` and staff review (``approve_product``). A few stay pending so the
staff queue has something to show. Photos are small (160 px) so a first start stays quick.
Loading twice changes nothing (any demo product present means the set is loaded).
"""
from __future__ import annotations

import hashlib

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from pypinyin import Style, lazy_pinyin
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...demo_data import CITY_PRODUCTS, INDUSTRIES
from ...extensions import db
from ...models import Enterprise, Product, Shop, enterprise_is_public
from ...validation.urls import parse_web_url
from .. import ServiceError
from ..images import image_bytes_from_pil
from . import review
from .fields import link_field
from .manage import create_product

DEMO_PRODUCTS = 240
PENDING_EVERY = 60  # every 60th demo product waits for review
PHOTO_SIZE = 160
MARK = "【演示数据·虚构商品】"
VARIANTS = ("经典款", "礼盒装", "家庭装", "新品", "精选款", "尊享款")
PRICES = ((1990, 3990), (4900, 9900), (12800, 25800), (29900, 59900), (69900, 129900))
COLOURS = ((200, 16, 46), (11, 92, 173), (26, 127, 55), (179, 89, 0), (110, 64, 170), (0, 128, 128))


def _initials(brand: str) -> str:
    letters = "".join(p[:1] for p in lazy_pinyin(brand, style=Style.NORMAL) if p[:1].isalnum())
    return (letters or "GD").upper()[:3]


def product_url(shop: Shop, n: int) -> str:
    """A product page on ``shop`` in its platform's URL shape (``n`` makes it unique)."""
    item = 600000 + n
    shop_url = parse_web_url(shop.url)
    shapes = {
        "tmall": f"https://detail.tmall.com/item.htm?id={item}",
        "taobao": f"https://item.taobao.com/item.htm?id={item}",
        "jd": f"https://item.jd.com/{item}.html",
        "pinduoduo": f"https://mobile.yangkeduo.com/goods.html?goods_id={item}",
        "douyin": f"https://haohuo.jinritemai.com/views/product/item2?id={item}",
        "kuaishou": f"https://app.kuaishou.com/merchant/item/detail?id={item}",
        "alibaba1688": f"https://detail.1688.com/offer/{item}.html",
        "vip": f"https://detail.vip.com/detail-{item}.html",
        "suning": f"https://product.suning.com/{shop_url.path.strip('/').split('/')[0]}/{item}.html",
        "aliexpress": f"https://www.aliexpress.com/item/{item}.html",
        "dewu": f"https://www.dewu.com/product-detail/{item}",
    }
    return shapes.get(shop.platform.slug, f"https://{shop_url.host}/products/{item}.html")


def make_photo(label: str, seed: str, variant: int) -> bytes:
    """PNG bytes of a small generated product photo: a coloured package on a light background
    with the brand's initials (Pillow's built-in font has no Chinese)."""
    h = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    colour = COLOURS[(h + variant) % len(COLOURS)]
    im = PILImage.new("RGB", (PHOTO_SIZE, PHOTO_SIZE), (246, 244, 240))
    draw = ImageDraw.Draw(im)
    if variant % 2 == 0:
        draw.rounded_rectangle((30, 24, 130, 140), radius=14, fill=colour)
        draw.rectangle((30, 96, 130, 110), fill=(255, 255, 255))
    else:
        draw.ellipse((26, 26, 134, 134), fill=colour)
        draw.ellipse((58, 58, 102, 102), fill=(255, 255, 255))
    font = ImageFont.load_default(size=30)
    left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
    draw.text(((PHOTO_SIZE - (right - left)) / 2 - left, 40 - top), label, font=font, fill=(255, 255, 255))
    return image_bytes_from_pil(im)


def _enterprises() -> list[Enterprise]:
    """Certified demo enterprises with at least one certified shop, in id order."""
    ents = db.session.scalars(select(Enterprise).where(enterprise_is_public(), Enterprise.description.contains("虚构"))
                              .order_by(Enterprise.id)
                              .options(selectinload(Enterprise.shops), selectinload(Enterprise.industries),
                                       selectinload(Enterprise.brands)))
    return [e for e in ents if e.brands and e.industries and any(s.is_public for s in e.shops)]


def _product_data(ent: Enterprise, n: int) -> dict:
    ind = ent.industries[n % len(ent.industries)]
    words = CITY_PRODUCTS.get((ent.city.name, ind.name)) or INDUSTRIES.get(ind.name, ((), ("精选好物",)))[1]
    word = words[n % len(words)]
    brand = ent.brands[0].name
    low, high = PRICES[(n * 7) % len(PRICES)]
    shops = [s for s in ent.shops if s.is_public][:2]
    data = {"name": f"{brand}{word} {VARIANTS[n % len(VARIANTS)]}", "industry_id": ind.id,
            "price_min": f"{low / 100:.2f}", "price_max": f"{(high if n % 4 else low) / 100:.2f}",
            "description": f"{MARK}{brand}出品的{word}，产地{ent.city.name}。本商品为演示用的虚构数据，"
                           "价格与链接均为示例。",
            "photos": [make_photo(_initials(brand), f"{ent.id}-{n}", v) for v in range(1 + n % 2)]}
    for i, shop in enumerate(shops):
        data[link_field(shop.id)] = product_url(shop, n * 10 + i)
    return data


def load_demo_products(count: int = DEMO_PRODUCTS) -> dict:
    """Create and review the demo products (see the module doc); flushes, never commits."""
    if db.session.scalar(select(Product.id).where(Product.description.startswith(MARK)).limit(1)):
        return {"products": 0}
    ents = _enterprises()
    if not ents:
        return {"products": 0}
    made = pending = skipped = 0
    n = 0
    while made < count and n < count * 3:
        ent = ents[n % len(ents)]
        n += 1
        try:
            product = create_product(ent, _product_data(ent, n))
        except ServiceError:
            skipped += 1
            continue
        made += 1
        if made % PENDING_EVERY == 0:
            pending += 1
        else:
            review.approve_product(product.id, None)
    return {"products": made, "pending": pending, "skipped": skipped}
