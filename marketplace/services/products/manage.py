"""A certified enterprise's owner lists products; every new or changed product waits for review.

Every function takes the acting merchant and checks ownership itself: another merchant's
enterprise or product is ``NotFound`` (a 404, nothing changes). Only a certified enterprise with
a certified shop may list products. A change to an approved product sends it back to review and
takes it off the public pages until staff approve the new version, so consumers only ever see
what staff approved.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from ... import clock
from ...extensions import db
from ...search_sync.outbox import enqueue
from ...models import Enterprise, Product, ProductLink, ProductPhoto, ProductStatus, User
from .. import NotFound, ServiceError
from ..audit import record
from ..listings.lookups import get_owned_enterprise, require_merchant
from ..versioning import begin_edit
from .fields import clean_product_fields, linkable_shops

MAX_PRODUCTS = 200  # per enterprise, all statuses but withdrawn
EDITABLE = (ProductStatus.PENDING, ProductStatus.REJECTED, ProductStatus.APPROVED)


def snapshot(product: Product) -> dict:
    """A product's fields for the audit log."""
    return {"name": product.name, "description": product.description, "industry_id": product.industry_id,
            "price_min_fen": product.price_min_fen, "price_max_fen": product.price_max_fen,
            "status": product.status, "photos": [p.image_sha256 for p in product.photos],
            "links": {str(link.shop_id): link.url for link in product.links}}


def check_can_list(ent: Enterprise) -> None:
    """Refuse an enterprise that is not certified or has no certified shop."""
    if not ent.is_public:
        raise ServiceError("只有已认证的企业可以发布商品。")
    if not linkable_shops(ent):
        raise ServiceError("企业还没有已认证的网店：商品须链接到已认证网店里的商品页面。")


def _apply(product: Product, values: dict) -> None:
    for key in ("name", "description", "industry_id", "price_min_fen", "price_max_fen"):
        setattr(product, key, values[key])
    product.photos = [ProductPhoto(image_sha256=sha, position=i) for i, sha in enumerate(values["photo_shas"])]
    product.links = [ProductLink(shop_id=shop.id, url=url) for shop, url in values["links"]]


def create_product(ent: Enterprise, data: dict, actor=None, now: datetime | None = None) -> Product:
    """Store a new product of ``ent`` as pending review, with an audit entry (the merchant path is
    ``submit_product``; the demo loader calls this directly)."""
    check_can_list(ent)
    count = db.session.scalar(select(db.func.count()).select_from(Product).where(
        Product.enterprise_id == ent.id, Product.status != ProductStatus.WITHDRAWN)) or 0
    if count >= MAX_PRODUCTS:
        raise ServiceError(f"每家企业最多发布 {MAX_PRODUCTS} 件商品。")
    values = clean_product_fields(ent, data, keep_photos=[])
    now = now or clock.utc_now()
    product = Product(enterprise=ent, status=ProductStatus.PENDING, submitted_by_id=getattr(actor, "id", None),
                      submitted_at=now)
    _apply(product, values)
    db.session.add(product)
    db.session.flush()
    record("product.submit", actor=actor, entity_kind="product", entity_id=product.id,
           enterprise_id=ent.id, after=snapshot(product))
    return product


def submit_product(user: User, enterprise_id: int, data: dict) -> Product:
    """A merchant lists a product of one of their enterprises (pending review)."""
    ent = get_owned_enterprise(user, enterprise_id)
    return create_product(ent, data, actor=user)


def get_own_product(user: User, product_id: int) -> Product:
    """The product ``product_id`` if it belongs to one of the merchant's enterprises."""
    require_merchant(user)
    product = db.session.get(Product, product_id)
    if product is None or product.enterprise.owner_id != user.id:
        raise NotFound("商品不存在。")
    return product


def update_product(user: User, product_id: int, data: dict, keep_photos: list[str], seen_version=None,
                   now: datetime | None = None) -> Product:
    """Change a product; it (re)enters the review queue and is off the public pages until approved."""
    product = get_own_product(user, product_id)
    if product.status not in EDITABLE:
        raise ServiceError("已下架的商品不能修改，请重新发布。")
    begin_edit(product, seen_version)
    check_can_list(product.enterprise)
    keep = [p.image_sha256 for p in product.photos if p.image_sha256 in set(keep_photos or [])]
    values = clean_product_fields(product.enterprise, data, keep_photos=keep)
    before = snapshot(product)
    now = now or clock.utc_now()
    _apply(product, values)
    product.status, product.reason, product.decided_at, product.decided_by_id = ProductStatus.PENDING, "", None, None
    product.submitted_at, product.updated_at = now, now
    db.session.flush()
    record("product.update", actor=user, entity_kind="product", entity_id=product.id,
           enterprise_id=product.enterprise_id, before=before, after=snapshot(product))
    return product


def withdraw_product(user: User, product_id: int, now: datetime | None = None) -> Product:
    """Take a product off the site at once (a conditional UPDATE: one winner against a decision)."""
    product = get_own_product(user, product_id)
    before = product.status
    result = db.session.execute(
        update(Product).where(Product.id == product.id, Product.status != ProductStatus.WITHDRAWN)
        .values(status=ProductStatus.WITHDRAWN, updated_at=now or clock.utc_now(), version=Product.version + 1)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise ServiceError("这件商品已经下架。")
    db.session.refresh(product)
    enqueue("product", [product.id])  # bulk UPDATE: the listener does not see it
    record("product.withdraw", actor=user, entity_kind="product", entity_id=product.id,
           enterprise_id=product.enterprise_id, before={"status": before},
           after={"status": ProductStatus.WITHDRAWN})
    return product


def merchant_products(user: User) -> list[Product]:
    """The merchant's products, newest first (every status)."""
    require_merchant(user)
    return list(db.session.scalars(
        select(Product).join(Product.enterprise).where(Enterprise.owner_id == user.id)
        .order_by(Product.submitted_at.desc(), Product.id.desc())
        .options(selectinload(Product.photos), selectinload(Product.links))))
