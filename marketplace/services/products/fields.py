"""The rules a product's input must pass, with a Chinese message per field.

Prices are typed in yuan (``YuanField`` on the form, ``parse_yuan`` here) and stored in fen; the
range may be one price (min = max) but never negative or the wrong way round. A product has one
to five photos, re-encoded by ``services/images.py``. Its links are the product's pages on the
enterprise's certified shops, one per shop at most, each checked by ``validate_product_url``
(the shop URL rules plus "this URL shows this shop").
"""
from __future__ import annotations

from ...extensions import db
from ...models import Enterprise, Industry, MAX_PHOTOS, Shop
from ...validation import ValidationError
from ...validation.text import clean_text
from ...validation.urls import validate_product_url
from ..events.offer_fields import parse_yuan
from ..images import store_image
from ..listings.common import FieldErrors

MAX_NAME = 60
MAX_DESCRIPTION = 500


def link_field(shop_id: int) -> str:
    """The form key of the URL box for one shop (``url_12``)."""
    return f"url_{shop_id}"


def linkable_shops(ent: Enterprise) -> list[Shop]:
    """The enterprise's certified shops: the only ones a product may link to."""
    return [s for s in ent.shops if s.is_public]


def _industry(raw, errors: dict) -> int | None:
    try:
        ident = int(raw)
    except (TypeError, ValueError):
        ident = 0
    ind = db.session.get(Industry, ident) if ident else None
    if ind is None or not ind.active:
        errors["industry_id"] = "请选择商品所属的行业。"
        return None
    return ind.id


def _prices(data: dict, errors: dict) -> tuple[int, int]:
    low = high = 0
    for key, label in (("price_min", "最低价"), ("price_max", "最高价")):
        raw = data.get(key)
        try:
            fen = parse_yuan("" if raw is None else str(raw), label)
            if raw in (None, "") or fen == 0:
                raise ValidationError(f"请填写{label}（元），且须大于 0。")
        except ValidationError as err:
            errors[key] = str(err)
            continue
        low, high = (fen, high) if key == "price_min" else (low, fen)
    if low and high and low > high:
        errors["price_max"] = "价格区间有误：最低价不能高于最高价。"
    return low, high


def _links(ent: Enterprise, data: dict, errors: dict) -> list[tuple[Shop, str]]:
    out = []
    for shop in linkable_shops(ent):
        raw = (data.get(link_field(shop.id)) or "").strip()
        if not raw:
            continue
        try:
            out.append((shop, validate_product_url(
                raw, shop_url=shop.url, platform_slug=shop.platform.slug, platform_hosts=shop.platform.host_list,
                platform_name=shop.platform.name, website=ent.website)))
        except ValidationError as err:
            errors[link_field(shop.id)] = str(err)
    if not out and not any(k.startswith("url_") for k in errors):
        errors["links"] = "请至少填写一个网店里的商品页面网址。"
    return out


def clean_product_fields(ent: Enterprise, data: dict, keep_photos: list[str]) -> dict:
    """Validated values (``FieldErrors`` listing every bad field): name, description, industry_id,
    prices in fen, ``links`` [(shop, url)], ``photo_shas`` (kept photos, then new uploads)."""
    errors: dict[str, str] = {}
    values: dict = {}
    for key, label, limit, required in (("name", "商品名称", MAX_NAME, True),
                                        ("description", "商品简介", MAX_DESCRIPTION, False)):
        try:
            values[key] = clean_text(data.get(key), field=label, max_length=limit, required=required,
                                     multiline=key == "description")
        except ValidationError as err:
            errors[key] = str(err)
    values["industry_id"] = _industry(data.get("industry_id"), errors)
    values["price_min_fen"], values["price_max_fen"] = _prices(data, errors)
    values["links"] = _links(ent, data, errors)
    uploads = [b for b in (data.get("photos") or []) if b]
    total = len(keep_photos) + len(uploads)
    if total < 1 or total > MAX_PHOTOS:
        errors["photos"] = f"请上传 1 到 {MAX_PHOTOS} 张商品照片（现为 {total} 张）。"
    if errors:
        raise FieldErrors(errors)
    shas = list(keep_photos)
    for i, blob in enumerate(uploads, start=1):
        try:
            shas.append(store_image(blob).sha256)
        except ValidationError as err:
            raise FieldErrors({"photos": f"第 {i} 张照片：{err}"}) from None
    values["photo_shas"] = list(dict.fromkeys(shas))
    return values

