"""Outbox writing: the ``after_flush`` listener that queues changed entities in the same
transaction, and ``enqueue`` for bulk SQL changes the ORM does not see.
"""
from __future__ import annotations


from sqlalchemy import event, insert, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session


from ..extensions import db
from .. import page_changes
from ..page_changes import PAGE_ALL, page_keys_for
from ..models import (
    Badge, Brand, BrandAuthorization, Certification, Enterprise, FeaturedSlot, Industry, Offer, Platform,
    Product, ProductLink, ProductPhoto, SearchOutbox, SearchSynonym, Shop, ShopAuthorization, ShoppingEvent,
    enterprise_badge, enterprise_industry,
)
from ..clock import utc_now
from .documents import _chunks
from .engines import ENTITIES, NOTIFY_CHANNEL


def _keys_for(obj, session: Session) -> set[tuple[str, int]]:
    """The indexed entities an ORM object's change affects."""
    conn = session.connection()
    keys = _listing_keys(obj, conn)
    if keys is None:
        keys = _related_keys(obj, conn)
    return {(k, i) for k, i in keys if i is not None}


def _enterprise_keys(conn, ent_id) -> set[tuple[str, int]]:
    """An enterprise with its shops and products (their documents carry its name and city)."""
    if ent_id is None:
        return set()
    keys = {("enterprise", ent_id)}
    keys |= {("shop", sid) for sid in conn.execute(select(Shop.id).where(Shop.enterprise_id == ent_id)).scalars()}
    keys |= {("product", pid) for pid in conn.execute(
        select(Product.id).where(Product.enterprise_id == ent_id)).scalars()}
    return keys


def _listing_keys(obj, conn) -> set[tuple[str, int]] | None:
    """Enterprises, shops, brands, platforms, certificates and featured slots (None: not one)."""
    if isinstance(obj, Enterprise):
        return _enterprise_keys(conn, obj.id)  # shops deleted with it are in session.deleted themselves
    if isinstance(obj, Shop):
        keys = {("enterprise", obj.enterprise_id or (obj.enterprise.id if obj.enterprise else None))}
        if obj.id is not None:
            keys.add(("shop", obj.id))
            # a product is public only with a certified shop, and carries its shops' platforms
            keys |= {("product", pid) for pid in conn.execute(
                select(ProductLink.product_id).where(ProductLink.shop_id == obj.id)).scalars()}
        return keys
    if isinstance(obj, Brand):
        return _enterprise_keys(conn, obj.enterprise_id or (obj.enterprise.id if obj.enterprise else None))
    if isinstance(obj, Platform):
        keys = {("platform", obj.id)}
        if obj.id is not None and _changed(obj, "name", "active"):
            # Shop and enterprise documents carry the platform's name (text and facet): a rename
            # re-indexes every listing on it, rather than waiting for the hourly consistency check.
            rows = conn.execute(select(Shop.id, Shop.enterprise_id).where(Shop.platform_id == obj.id)).all()
            keys |= {("shop", sid) for sid, _ in rows} | {("enterprise", eid) for _, eid in rows}
        return keys
    if isinstance(obj, (Certification, FeaturedSlot)):
        return {("enterprise", obj.enterprise_id or (obj.enterprise.id if obj.enterprise else None))}
    return None


def _related_keys(obj, conn) -> set[tuple[str, int]]:
    """Authorizations, products, synonyms, offers, events, industries and badges."""
    if isinstance(obj, ShopAuthorization):  # the shop's pages show its brand authorizations
        shop_id = obj.shop_id or (obj.shop.id if obj.shop else None)
        return {("shop", shop_id),
                ("enterprise", conn.execute(select(Shop.enterprise_id).where(Shop.id == shop_id)).scalar())}
    if isinstance(obj, BrandAuthorization) and obj.id is not None:  # the linked shops' and grantor's pages
        rows = conn.execute(select(Shop.id, Shop.enterprise_id).join(
            ShopAuthorization, ShopAuthorization.shop_id == Shop.id)
            .where(ShopAuthorization.authorization_id == obj.id)).all()
        keys = {("shop", sid) for sid, _ in rows} | {("enterprise", eid) for _, eid in rows}
        keys.add(("enterprise", conn.execute(select(Enterprise.id).where(Enterprise.uscc == obj.grantor_uscc)).scalar()))
        return keys
    if isinstance(obj, Product):
        return {("product", obj.id), ("enterprise", obj.enterprise_id)}  # the enterprise page lists its products
    if isinstance(obj, (ProductLink, ProductPhoto)):
        return {("product", obj.product_id or (obj.product.id if obj.product else None))}
    if isinstance(obj, SearchSynonym):
        # nothing to re-index (synonyms apply at query time), but search pages change: the row
        # moves the outbox head, which drops the full-page cache everywhere
        return {("synonym", obj.id)}
    if isinstance(obj, Offer):
        # Offers are not indexed, but they show on cached public pages (网购节, home): their shop's
        # outbox row moves the head the page cache keys on, so a withdrawn offer goes at once.
        return {("shop", obj.shop_id or (obj.shop.id if obj.shop else None))}
    if isinstance(obj, ShoppingEvent):
        # No search document either; the row only moves the head (the applier skips the kind).
        return {("event", obj.id)}
    if isinstance(obj, (Industry, Badge)) and obj.id is not None:
        table, col = (enterprise_industry, enterprise_industry.c.industry_id) if isinstance(obj, Industry) \
            else (enterprise_badge, enterprise_badge.c.badge_id)
        keys: set[tuple[str, int]] = set()
        for ent_id in conn.execute(select(table.c.enterprise_id).where(col == obj.id)).scalars():
            keys |= _enterprise_keys(conn, ent_id)
        return keys
    return set()


def _changed(obj, *attrs: str) -> bool:
    """Whether this flush changes any of ``attrs`` of ``obj`` (history is still there in after_flush)."""
    state = sa_inspect(obj)
    return any(state.attrs[a].history.has_changes() for a in attrs)


_WATCHED = (Enterprise, Shop, Brand, Platform, Certification, FeaturedSlot, Industry, Badge, SearchSynonym, Offer,
            ShoppingEvent, BrandAuthorization, ShopAuthorization, Product, ProductLink, ProductPhoto)


def _after_flush(session: Session, flush_context) -> None:
    """Write outbox rows for every indexed entity touched by this flush (same transaction)."""
    keys: set[tuple[str, int]] = set()
    for obj in list(session.new) + list(session.deleted):
        if isinstance(obj, _WATCHED):
            keys |= _keys_for(obj, session) | page_keys_for(obj, session, whole=True)
    for obj in list(session.dirty):
        if isinstance(obj, _WATCHED) and session.is_modified(obj, include_collections=True):
            keys |= _keys_for(obj, session) | page_keys_for(obj, session, whole=False)
    if keys:
        now = utc_now()
        session.connection().execute(
            insert(SearchOutbox.__table__),
            [{"entity": e, "entity_id": int(i), "created_at": now} for e, i in sorted(keys)],
        )
        _notify(session.connection())
        page_changes.note_written(session)


def _notify(conn) -> None:
    """Wake the appliers LISTENing on PostgreSQL (delivered at commit, never on rollback, one
    per transaction however many rows), so every machine indexes a change within milliseconds
    instead of at its next poll. Other databases: the appliers poll."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))


def enqueue(entity: str, ids) -> int:
    """Queue re-indexing of ``ids`` of ``entity`` after bulk SQL the ORM listener cannot see.

    Runs in the caller's transaction (commit as usual). An enterprise also queues its shops and
    products, a product its enterprise (whose page lists it). Bulk changes are not classified for
    the page cache: they drop every cached page (``page_all``)."""
    if entity not in ENTITIES:
        raise ValueError(f"unknown entity {entity!r}")
    ids = sorted({int(i) for i in ids})
    if not ids:
        return 0
    rows = [{"entity": entity, "entity_id": i, "created_at": utc_now()} for i in ids]
    rows.append({"entity": PAGE_ALL, "entity_id": 0, "created_at": utc_now()})
    if entity == "enterprise":
        for chunk in _chunks(ids, 500):
            shop_ids = db.session.scalars(select(Shop.id).where(Shop.enterprise_id.in_(chunk))).all()
            rows += [{"entity": "shop", "entity_id": s, "created_at": utc_now()} for s in shop_ids]
            product_ids = db.session.scalars(select(Product.id).where(Product.enterprise_id.in_(chunk))).all()
            rows += [{"entity": "product", "entity_id": p, "created_at": utc_now()} for p in product_ids]
    if entity == "product":
        for chunk in _chunks(ids, 500):
            ent_ids = set(db.session.scalars(select(Product.enterprise_id).where(Product.id.in_(chunk))))
            rows += [{"entity": "enterprise", "entity_id": e, "created_at": utc_now()} for e in sorted(ent_ids)]
    db.session.execute(insert(SearchOutbox.__table__), rows)
    _notify(db.session.connection())
    page_changes.note_written(db.session())
    return len(rows)


_listener_installed = False


def install_listener() -> None:
    """Register the after_flush listener once per process (every session of every app)."""
    global _listener_installed
    if not _listener_installed:
        event.listen(Session, "after_flush", _after_flush)
        _listener_installed = True
