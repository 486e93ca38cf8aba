"""Index documents built from the database: enterprise/shop/platform/product docs, batches by
key, the full public set for a rebuild.
"""
from __future__ import annotations


from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from search_index.schema import doc_digest, doc_key, searchable_text

from ..extensions import db
from ..models import (
    Enterprise, Platform, Product, ProductLink, Shop, enterprise_is_public, product_is_public, shop_is_public,
)
from ..services.places import district_for_uscc
from .engines import ENTITIES


def _chunks(seq, n):
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _enterprise_options():
    return (selectinload(Enterprise.brands), selectinload(Enterprise.industries),
            selectinload(Enterprise.badges), selectinload(Enterprise.shops).joinedload(Shop.platform))


def place_names(ent: Enterprise) -> list[str]:
    """The district an enterprise is registered in, from its 统一社会信用代码 (番禺区, 番禺)."""
    district = district_for_uscc(ent.uscc)
    return district.search_names if district is not None else []


def enterprise_doc(ent: Enterprise) -> dict:
    """The search document of a public enterprise."""
    shops = ent.public_shops
    doc = {
        "kind": "enterprise", "id": ent.id, "name": ent.name, "brands": ent.brand_names,
        "enterprise_name": "", "description": ent.description or "",
        "city": ent.city.name if ent.city else "", "region": ent.city.region if ent.city else "",
        "industries": [i.name for i in ent.industries], "badges": [b.name for b in ent.badges],
        "places": place_names(ent), "platforms": sorted({s.platform.name for s in shops}),
        "shop_types": sorted({s.shop_type for s in shops}),
        "certified_at": ent.certified_at, "visits": int(ent.click_count or 0) + sum(int(s.click_count or 0) for s in shops),
    }
    doc["digest"] = doc_digest(doc)
    return doc


def shop_doc(shop: Shop) -> dict:
    """The search document of a public shop (it carries its enterprise's brands and facets)."""
    ent = shop.enterprise
    doc = {
        "kind": "shop", "id": shop.id, "enterprise_id": ent.id, "name": shop.name, "brands": ent.brand_names,
        "enterprise_name": ent.name, "description": "",
        "city": ent.city.name if ent.city else "", "region": ent.city.region if ent.city else "",
        "industries": [i.name for i in ent.industries], "badges": [b.name for b in ent.badges],
        "places": place_names(ent), "platforms": [shop.platform.name], "shop_types": [shop.shop_type],
        "certified_at": shop.certified_at or ent.certified_at, "visits": int(shop.click_count or 0),
    }
    doc["digest"] = doc_digest(doc)
    return doc


def platform_doc(p: Platform) -> dict:
    """The search document of an active platform."""
    doc = {
        "kind": "platform", "id": p.id, "name": p.name, "brands": [], "enterprise_name": "",
        "description": " ".join(x for x in (p.kind, p.description) if x),
        "city": "", "region": "", "industries": [], "badges": [], "platforms": [p.name],
        "shop_types": [], "certified_at": None, "visits": 0,
    }
    doc["digest"] = doc_digest(doc)
    return doc


def product_doc(product: Product) -> dict:
    """The search document of a public product: its own name and description, its enterprise's
    name (weighted like a shop's enterprise), the platforms of its certified shops as facets.
    No brands and no badges: a brand query must still rank the enterprise above its products."""
    ent = product.enterprise
    links = product.public_links
    doc = {
        "kind": "product", "id": product.id, "enterprise_id": ent.id, "name": product.name, "brands": [],
        "enterprise_name": ent.display_name, "description": product.description or "",
        "city": ent.city.name if ent.city else "", "region": ent.city.region if ent.city else "",
        "industries": [product.industry.name] if product.industry else [], "badges": [],
        "places": [], "platforms": sorted({link.shop.platform.name for link in links}), "shop_types": [],
        "certified_at": product.decided_at, "visits": int(product.click_count or 0),
    }
    doc["digest"] = doc_digest(doc)
    return doc


def _product_options():
    return (selectinload(Product.enterprise).selectinload(Enterprise.brands),
            selectinload(Product.links).joinedload(ProductLink.shop).joinedload(Shop.enterprise))


def _shop_options():
    return (selectinload(Shop.enterprise).options(
        selectinload(Enterprise.brands), selectinload(Enterprise.industries), selectinload(Enterprise.badges)),)


# kind -> (model, loader options, "still has a document", document builder), in build order
_KINDS = {
    "enterprise": (Enterprise, _enterprise_options, lambda e: e.is_public, enterprise_doc),
    "shop": (Shop, _shop_options, lambda s: s.is_public, shop_doc),
    "platform": (Platform, tuple, lambda p: p.active, platform_doc),
    "product": (Product, _product_options, lambda p: p.is_public, product_doc),
}


def build_documents(keys, session=None) -> tuple[list[dict], list[str]]:
    """Current documents for ``keys`` ((entity, id) pairs) and the keys to delete (gone or not
    public any more)."""
    session = session or db.session
    by_kind: dict[str, set[int]] = {k: set() for k in ENTITIES}
    for entity, ident in keys:
        if entity in by_kind:
            by_kind[entity].add(int(ident))
    docs: list[dict] = []
    deletes: list[str] = []
    for kind, (model, options, current, make_doc) in _KINDS.items():
        for chunk in _chunks(sorted(by_kind[kind]), 500):
            found = {row.id: row for row in session.scalars(
                select(model).where(model.id.in_(chunk)).options(*options()))}
            for i in chunk:
                row = found.get(i)
                if row is not None and current(row):
                    docs.append(make_doc(row))
                else:
                    deletes.append(doc_key(kind, i))
    return docs, deletes


def listing_texts(enterprise_ids, session=None) -> dict[int, str]:
    """The searchable text (``search_index.schema.searchable_text``) of every document of each
    enterprise: its own, its public shops' and its public products'; "" for one with none.

    Why: the page cache keeps a cached search page after an enterprise's content changed when
    none of the page's words occurs in this text (``marketplace.page_changes``). Read from the
    database, which is never behind the change that asked for it."""
    session = session or db.session
    ids = sorted({int(i) for i in enterprise_ids})
    keys = [("enterprise", i) for i in ids]
    keys += [("shop", i) for i in session.scalars(select(Shop.id).where(Shop.enterprise_id.in_(ids)))]
    keys += [("product", i) for i in session.scalars(select(Product.id).where(Product.enterprise_id.in_(ids)))]
    texts: dict[int, list[str]] = {i: [] for i in ids}
    for doc in build_documents(keys, session)[0]:
        owner = doc["id"] if doc["kind"] == "enterprise" else doc["enterprise_id"]
        texts[owner].append(searchable_text(doc))
    return {i: "\n".join(parts) for i, parts in texts.items()}


def count_public(session=None) -> int:
    """How many documents a full index holds (for progress bars)."""
    session = session or db.session
    ents = session.scalar(select(func.count()).select_from(Enterprise).where(enterprise_is_public()))
    shops = session.scalar(
        select(func.count()).select_from(Shop).join(Shop.enterprise)
        .where(shop_is_public()))
    plats = session.scalar(select(func.count()).select_from(Platform).where(Platform.active.is_(True)))
    products = session.scalar(select(func.count()).select_from(Product).join(Product.enterprise)
                              .where(product_is_public()))
    return int(ents or 0) + int(shops or 0) + int(plats or 0) + int(products or 0)


def iter_all_documents(session=None, batch: int = 1000):
    """Every public document, read in id-ordered batches (memory stays flat)."""
    session = session or db.session
    last = 0
    while True:
        ents = session.scalars(
            select(Enterprise).where(enterprise_is_public(), Enterprise.id > last)
            .order_by(Enterprise.id).limit(batch).options(*_enterprise_options())).all()
        if not ents:
            break
        for e in ents:
            yield enterprise_doc(e)
            for s in e.public_shops:
                s.enterprise = e
                yield shop_doc(s)
        last = ents[-1].id
        session.expunge_all()
    for p in session.scalars(select(Platform).where(Platform.active.is_(True)).order_by(Platform.id)):
        yield platform_doc(p)
    last = 0
    while True:
        products = session.scalars(
            select(Product).join(Product.enterprise).where(product_is_public(), Product.id > last)
            .order_by(Product.id).limit(batch).options(*_product_options())).all()
        if not products:
            break
        for product in products:
            if product.is_public:
                yield product_doc(product)
        last = products[-1].id
        session.expunge_all()
