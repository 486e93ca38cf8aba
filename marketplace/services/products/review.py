"""Staff review of products: nothing is published before a member of staff approves it.

Like offers (``services/events/offer_review.py``): a decision is one conditional UPDATE on
``status = 'pending'`` and on the version the reviewer saw, so two staff deciding at once cannot
both win (``AlreadyDecided``) and a product the merchant changed after the page was opened is not
approved unseen (``EditConflict``). The merchant is mailed either way, after the commit.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ... import clock
from ...extensions import db
from ...models import Product, ProductStatus
from ...search_sync.outbox import enqueue
from .. import NotFound, ServiceError
from ..audit import record
from ..mail import queue_mail
from ..review import site_link
from ..decisions import decide_row, rejection_reason

TAKEN = "这件商品已被其他工作人员处理，或已被商家下架。"  # AlreadyDecided
CHANGED = "商家刚刚修改了这件商品，请查看最新内容后再决定。"  # EditConflict


def queue_query():
    """A select() of products waiting for review, oldest first."""
    return (select(Product).where(Product.status == ProductStatus.PENDING)
            .order_by(Product.submitted_at, Product.id)
            .options(selectinload(Product.enterprise), selectinload(Product.photos), selectinload(Product.links)))


def pending_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Product)
                             .where(Product.status == ProductStatus.PENDING)) or 0


def next_pending(after: Product | None = None) -> Product | None:
    stmt = queue_query()
    if after is not None:
        stmt = stmt.where(Product.id != after.id)
    return db.session.scalar(stmt.limit(1))


def get_product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound("商品不存在。")
    return product


def _decide(product_id: int, new_status: str, actor, version, reason: str, now: datetime) -> Product:
    """Move a pending product to ``new_status`` if nobody decided or changed it meanwhile."""
    row = decide_row(Product, product_id, new_status, actor=actor, reason=reason, seen_version=version, now=now,
                     already_decided=TAKEN, changed=CHANGED, missing="商品不存在。", extra={"updated_at": now})
    enqueue("product", [row.id])  # bulk UPDATE: index it and move the page-cache head ourselves
    return row


def approve_product(product_id: int, actor, version=None, now: datetime | None = None) -> Product:
    """Publish a pending product; refused while its enterprise or every linked shop is not certified."""
    product = get_product(product_id)
    if product.status == ProductStatus.PENDING:
        if not product.enterprise.is_public:
            raise ServiceError("该企业目前不是认证状态，不能通过它的商品。")
        if not product.public_links:
            raise ServiceError("这件商品链接的网店都不是认证状态，不能通过。")
    product = _decide(product_id, ProductStatus.APPROVED, actor, version, "", now or clock.utc_now())
    record("product.approve", actor=actor, entity_kind="product", entity_id=product.id,
           enterprise_id=product.enterprise_id, before={"status": ProductStatus.PENDING},
           after={"status": ProductStatus.APPROVED}, note=product.name)
    _mail_decision(product, approved=True)
    return product


def reject_product(product_id: int, actor, reason: str, version=None, now: datetime | None = None) -> Product:
    """Refuse a pending product with a reason the merchant sees (they may change and resubmit)."""
    reason = rejection_reason(reason)
    product = _decide(product_id, ProductStatus.REJECTED, actor, version, reason, now or clock.utc_now())
    record("product.reject", actor=actor, entity_kind="product", entity_id=product.id,
           enterprise_id=product.enterprise_id, before={"status": ProductStatus.PENDING},
           after={"status": ProductStatus.REJECTED, "reason": reason}, note=reason)
    _mail_decision(product, approved=False)
    return product


def _mail_decision(product: Product, *, approved: bool) -> None:
    user = product.submitted_by or product.enterprise.owner
    if user is None or not user.email:
        return
    verdict = "已通过" if approved else "未通过"
    detail = ("商品已在“名优广货”中公开显示。" if approved
              else f"理由：{product.reason}\n您可以按理由修改后重新提交。")
    body = (f"您好：\n\n您的商品「{product.name}」（编号 {product.id}）审核{verdict}。\n{detail}\n\n"
            f"可登录商家中心查看：{site_link('/merchant/products')}\n\n广货网上行 工作人员\n")
    queue_mail(user.email, f"【广货网上行】商品审核{verdict}", body)


def link_warnings(product: Product) -> list[str]:
    """Warnings for the reviewer: links to shops that are not certified now, enterprise status."""
    out = [f"网店「{link.shop.name}」状态：{link.shop.status_label}（该链接不会显示）"
           for link in product.links if not link.shop.is_public]
    if not product.enterprise.is_public:
        out.insert(0, f"企业状态：{product.enterprise.status_label}。只有已认证企业的商品可以公开。")
    return out
