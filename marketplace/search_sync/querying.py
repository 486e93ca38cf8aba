"""Searching for the views: apply-then-search, resolve hits against the database (which has
the last word), the database fallback, autocomplete and status.

The views reach the engine only through this module (``search``, ``suggest``, ``clean_text``,
``FACETS``, ``MAX_QUERY_CHARS``): ``search_sync`` is the one importer of ``search_index``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from search_index.api import IndexUnavailable, SearchRequest, SearchResponse
from search_index.query import MAX_QUERY_CHARS, clean_query, highlight, parse
from search_index.schema import FACET_FIELDS

from ..extensions import db
from ..models import (
    Brand, Enterprise, Platform, Product, SearchOutbox, Shop, directory_version, enterprise_is_public,
    product_is_public, shop_is_public,
)
from .applier import _private_session, _schedule_rebuild, ensure_index
from .background import catch_up
from .documents import count_public
from .engines import get_engine, SMALL_INDEX
from .thesaurus import current as current_thesaurus

FACETS = tuple(FACET_FIELDS)  # industry, city, region, platform, shop_type, badge
__all__ = ["FACETS", "MAX_QUERY_CHARS", "HitLoader", "ResolvedHit", "SearchOutcome", "clean_text",
           "explain_expansions", "load_public", "resolve", "search", "status", "suggest"]

log = logging.getLogger("marketplace.search_sync")
# {kind: [id, ...]} -> {(kind, id): public object}; see ``resolve``
HitLoader = Callable[[dict[str, list[int]]], dict[tuple[str, int], object]]


@dataclass
class ResolvedHit:
    kind: str
    id: int
    obj: object  # Enterprise | Shop | Platform | Product
    highlight: str | None
    score: float


@dataclass
class SearchOutcome:
    response: SearchResponse
    hits: list[ResolvedHit]
    degraded: bool = False  # answered from the database while the index is rebuilt
    # The index checkpoint read just before searching: the answer reflects every outbox row up to
    # it (the full-page cache only keeps a search page whose index had caught up with the outbox).
    checkpoint: int = 0


def clean_text(raw) -> str:
    """Query text as the engine reads it: no control or format characters, whitespace collapsed,
    at most MAX_QUERY_CHARS characters (never raises)."""
    return clean_query(raw)


def explain_expansions(q: str) -> list[dict]:
    """How the search reads ``q`` with the current synonyms and places (for the staff console):
    one entry per word, with what it also looks for. Searches nothing."""
    out = []
    for group in parse(q, current_thesaurus()).groups:
        also = [{"kind": a.kind, "label": a.label, "weight": a.weight} for a in group.alts if a.label]
        out.append({"text": group.text, "also": also})
    return out


def search(q: str = "", *, kind: str = "", filters: dict[str, str] | None = None, sort: str = "relevance",
           page: int = 1, per_page: int = 20, load: HitLoader | None = None) -> SearchOutcome:
    """Search for a view: catch up, ask the engine (with the current synonyms and places), load
    hits from the database, drop anything no longer public. Falls back to a plain database
    search when the index is unavailable. ``load`` (see ``resolve``) lets the views load
    enterprise and shop hits from the catalog's kept cards, which this layer may not import."""
    req = SearchRequest(q=q, kind=kind, filters=dict(filters or {}), sort=sort, page=page, per_page=per_page,
                        thesaurus=current_thesaurus())
    app = current_app._get_current_object()
    catch_up()
    engine = get_engine()
    try:
        checkpoint = engine.checkpoint()
        resp = engine.search(req)
    except IndexUnavailable as exc:
        log.warning("search index unavailable (%s)", exc)
        if _small_database():
            ensure_index(force=True)
            try:
                resp = engine.search(req)
            except IndexUnavailable:
                return _fallback_search(req)
        else:
            _schedule_rebuild(app)
            return _fallback_search(req)
    return SearchOutcome(response=resp, hits=resolve(resp, load), checkpoint=checkpoint)


def _small_database() -> bool:
    try:
        with _private_session() as session:
            return count_public(session) <= SMALL_INDEX
    except Exception:  # noqa: BLE001
        return False


def resolve(resp: SearchResponse, load: HitLoader | None = None) -> list[ResolvedHit]:
    """Load the hits' rows by id and keep only the public ones, in the engine's order. ``load``
    (default ``load_public``) reads every kind's ids at once, so a caller may answer several
    kinds with one statement."""
    ids: dict[str, list[int]] = {}
    for h in resp.hits:
        ids.setdefault(h.kind, []).append(h.id)
    objs = (load or load_public)(ids) if ids else {}
    return [ResolvedHit(kind=h.kind, id=h.id, obj=obj, highlight=h.highlight, score=h.score)
            for h in resp.hits if (obj := objs.get((h.kind, h.id))) is not None]


def load_public(ids: dict[str, list[int]]) -> dict[tuple[str, int], object]:
    """The public rows of each kind among ``ids`` ({kind: [id, ...]}) as ORM objects, by (kind, id)."""
    return {(kind, i): obj for kind, kind_ids in ids.items() for i, obj in _LOADERS[kind](kind_ids).items()}


def _public_enterprises(ids) -> dict[int, Enterprise]:
    return {e.id: e for e in db.session.scalars(
        select(Enterprise).where(Enterprise.id.in_(ids), enterprise_is_public())
        .options(selectinload(Enterprise.brands), selectinload(Enterprise.industries),
                 selectinload(Enterprise.badges)))}


def _public_shops(ids) -> dict[int, Shop]:
    return {s.id: s for s in db.session.scalars(
        select(Shop).join(Shop.enterprise).where(Shop.id.in_(ids), shop_is_public())
        .options(selectinload(Shop.platform), selectinload(Shop.enterprise).options(
            selectinload(Enterprise.industries), selectinload(Enterprise.brands))))}


def _active_platforms(ids) -> dict[int, Platform]:
    return {p.id: p for p in db.session.scalars(
        select(Platform).where(Platform.id.in_(ids), Platform.active.is_(True)))}


def _public_products(ids) -> dict[int, Product]:
    return {p.id: p for p in db.session.scalars(
        select(Product).join(Product.enterprise).where(Product.id.in_(ids), product_is_public())
        .options(selectinload(Product.photos), selectinload(Product.links)))}


# ORM rows per kind (``load_public``); the views load enterprises and shops from the catalog's kept cards
_LOADERS: dict[str, Callable] = {"enterprise": _public_enterprises, "shop": _public_shops,
                                 "platform": _active_platforms, "product": _public_products}


def _fallback_search(req: SearchRequest) -> SearchOutcome:
    """A plain database search of enterprise names and brands (index being rebuilt)."""
    text = clean_query(req.q)
    q = select(Enterprise).where(enterprise_is_public())
    words = text.split()[:5]
    for w in words:
        like = Enterprise.brands.any(Brand.name.contains(w, autoescape=True))
        q = q.where(or_(Enterprise.name.contains(w, autoescape=True), like,
                        Enterprise.description.contains(w, autoescape=True)))
    total = db.session.scalar(select(func.count()).select_from(q.subquery())) or 0
    per_page = max(1, min(100, req.per_page))
    ents = db.session.scalars(q.order_by(Enterprise.certified_at.desc(), Enterprise.id.desc())
                              .offset((max(1, req.page) - 1) * per_page).limit(per_page)
                              .options(selectinload(Enterprise.brands), selectinload(Enterprise.industries))).all()
    tokens = parse(text).tokens
    hits = [ResolvedHit(kind="enterprise", id=e.id, obj=e, highlight=highlight(e.description, tokens), score=0.0)
            for e in ents]
    resp = SearchResponse(query=text, total=int(total), page=max(1, req.page), per_page=per_page, hits=[],
                          facets={f: [] for f in FACETS})
    return SearchOutcome(response=resp, hits=hits, degraded=True)


def suggest(prefix: str, limit: int = 10):
    """Autocomplete suggestions (engine), public rows only; empty while the index is down."""
    catch_up()
    engine = get_engine()
    try:
        items = engine.suggest(prefix, limit=limit * 2)
    except IndexUnavailable:
        if not _small_database():
            _schedule_rebuild(current_app._get_current_object())
            return []
        ensure_index(force=True)
        try:
            items = engine.suggest(prefix, limit=limit * 2)
        except IndexUnavailable:
            return []
    ent_ids = [s.id for s in items if s.kind == "enterprise"]
    public = set()
    if ent_ids:
        public = set(db.session.scalars(select(Enterprise.id).where(
            Enterprise.id.in_(ent_ids), enterprise_is_public())))
    plat_ids = [s.id for s in items if s.kind == "platform"]
    if plat_ids:
        public |= {("p", i) for i in db.session.scalars(select(Platform.id).where(
            Platform.id.in_(plat_ids), Platform.active.is_(True)))}
    out = [s for s in items if (s.kind == "enterprise" and s.id in public) or
           (s.kind == "platform" and ("p", s.id) in public)]
    return out[:limit]


def status() -> dict:
    """Index status plus lag behind the outbox (for ``flask search status``)."""
    engine = get_engine()
    info = engine.status()
    head = directory_version()
    info["outbox_head"] = head
    info["lag"] = max(0, head - (info["checkpoint"] or 0))
    info["pending_rows"] = int(db.session.scalar(
        select(func.count()).select_from(SearchOutbox).where(SearchOutbox.id > (info["checkpoint"] or 0))) or 0)
    return info
