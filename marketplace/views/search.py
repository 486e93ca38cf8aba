"""Search pages: ``/search`` (HTML), ``/api/v1/search`` and ``/api/v1/suggest`` (JSON).

Thin views: parse and validate the query string, call ``search_sync.querying.search`` / ``suggest``
(which ask the engine and then load every hit from the database, dropping anything no longer
public), render. Bad parameters get 400 (an error page, or ``{"error": ...}`` in Chinese for the API).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, render_template, request, url_for
from sqlalchemy import select

from .. import page_cache
from ..extensions import db
from ..models import Platform
from ..search_sync import querying
from ..search_sync.querying import FACETS, MAX_QUERY_CHARS, clean_text
from ..services.catalog import aggregates
from ..services.catalog.cards import load_hits
from ..services.places import district_for_uscc
from ..templating import memo_url_for
from .helpers import bounded_int

bp = Blueprint("search", __name__)

KINDS = {"enterprise": "企业", "shop": "网店", "product": "商品", "platform": "平台"}
SORTS = {"relevance": "相关度", "newest": "最新认证", "visits": "最多访问"}
FACET_LABELS = {"industry": "行业", "city": "城市", "region": "区域", "platform": "平台",
                "shop_type": "店铺类型", "badge": "荣誉标识"}
MAX_PAGE = 100_000
MAX_FILTER_CHARS = 80
# Shown in the search box and the empty state; each finds something in the demo data
# (tests/test_search_quality.py checks it): a product, a city with a product, and
# pinyin initials mixed with characters.
EXAMPLE_QUERIES = ("凉茶", "佛山 瓷砖", "dg家具")


class BadParam(Exception):
    """A query parameter is invalid; the message is shown to the user (Chinese)."""


@dataclass
class Params:
    q: str
    kind: str
    filters: dict[str, str]
    sort: str
    page: int
    per_page: int

    def search(self):
        """Run this search (``search_sync.querying.SearchOutcome``)."""
        return querying.search(self.q, kind=self.kind, filters=self.filters, sort=self.sort, page=self.page,
                               per_page=self.per_page, load=_load_hits)


def _load_hits(ids: dict[str, list[int]]) -> dict[tuple[str, int], object]:
    """Enterprise and shop hits as the catalog's kept cards, read with one statement for both;
    platforms and products as ``querying`` loads them."""
    rest = dict(ids)
    cards, shops = load_hits(rest.pop("enterprise", ()), rest.pop("shop", ()))
    objs = querying.load_public(rest)
    objs.update((("enterprise", i), card) for i, card in cards.items())
    objs.update((("shop", i), shop) for i, shop in shops.items())
    return objs


def _int_arg(args, name: str, default: int, low: int, high: int, label: str) -> int:
    try:
        return bounded_int(args.get(name), default, low, high)
    except ValueError:
        raise BadParam(f"{label}无效：请使用 {low} 到 {high} 之间的整数。") from None


def parse_params(args, api: bool = False) -> Params:
    """Validated search parameters from a query string; raises BadParam (Chinese message)."""
    q = clean_text(args.get("q", ""))[:MAX_QUERY_CHARS]
    kind = (args.get("kind") or "").strip()
    if kind and kind not in KINDS:
        raise BadParam("kind 参数无效：只能是 enterprise、shop、product 或 platform。")
    sort = (args.get("sort") or "").strip() or "relevance"
    if sort not in SORTS:
        raise BadParam("sort 参数无效：只能是 relevance、newest 或 visits。")
    filters = {}
    for f in FACETS:
        value = clean_text(args.get(f, ""))
        if len(value) > MAX_FILTER_CHARS:
            raise BadParam(f"{FACET_LABELS[f]}筛选条件过长。")
        if value:
            filters[f] = value
    page = _int_arg(args, "page", 1, 1, MAX_PAGE, "页码")
    default_pp = int(current_app.config["PER_PAGE"])
    per_page = _int_arg(args, "per_page", default_pp, 1, 100, "每页数量") if api else default_pp
    return Params(q=q, kind=kind, filters=filters, sort=sort, page=page, per_page=per_page)


def result_url(kind: str, obj) -> str:
    """The page on this site for a search result (a shop links to its enterprise's shop list)."""
    if kind == "enterprise":
        return memo_url_for("public.enterprise", enterprise_id=obj.id)
    if kind == "shop":
        return memo_url_for("public.enterprise", enterprise_id=obj.enterprise_id) + "#shops-title"
    if kind == "product":
        return memo_url_for("products.detail", product_id=obj.id)
    return memo_url_for("public.platform", slug=obj.slug)


def result_dict(hit) -> dict:
    """One result in the API's shape."""
    obj = hit.obj
    if hit.kind == "enterprise":
        name = obj.display_name if obj.brand_names else obj.name
        city = obj.city.name if obj.city else None
        industries = [i.name for i in obj.industries]
        platform = None
    elif hit.kind == "shop":
        name = obj.name
        city = obj.enterprise.city.name if obj.enterprise.city else None
        industries = [i.name for i in obj.enterprise.industries]
        platform = obj.platform.name
    elif hit.kind == "product":
        name = obj.name
        city = obj.enterprise.city.name if obj.enterprise.city else None
        industries = [obj.industry.name]
        platform = None
    else:
        name, city, industries, platform = obj.name, None, [], obj.name
    return {"kind": hit.kind, "id": hit.id, "name": name, "url": result_url(hit.kind, obj),
            "highlight": hit.highlight, "city": city, "industries": industries, "platform": platform}


def _popular_industries(limit: int = 12):
    """The industries with the most public enterprises (or the first ones, on an empty
    directory) for a search that found nothing: from the catalog's kept counts."""
    counted = aggregates.industries_with_counts()
    if any(n for _, n in counted):
        return sorted((row for row in counted if row[1]), key=lambda row: (-row[1], row[0].position))[:limit]
    return counted[:limit]


@bp.route("/search")
@page_cache.cacheable
def search_page():
    """The search page: results with highlights, facets, did-you-mean, empty state."""
    try:
        params = parse_params(request.args)
    except BadParam as exc:
        abort(400, description=str(exc))
    has_query = bool(params.q or params.filters or params.kind)
    outcome = params.search() if has_query else None
    if outcome and (outcome.degraded or outcome.checkpoint < (page_cache.request_head() or 0)):
        page_cache.skip_store()  # the index has not caught up with the listings: don't keep this page
    resp = outcome.response if outcome else None
    if resp:  # which listings match depends on listings' text, not only on those shown
        page_cache.on_text(resp.text_dependency)
    pages = 0
    if resp:
        pages = (resp.total + resp.per_page - 1) // resp.per_page
    active = [(f, FACET_LABELS[f], v) for f, v in params.filters.items()]
    popular = _popular_industries() if (not resp or resp.total == 0) else []
    title = f"“{params.q}”的搜索结果" if params.q else "搜索"
    return render_template(
        "search/results.html", params=params, outcome=outcome, resp=resp, pages=pages,
        active=active, popular=popular, title=title, kinds=KINDS, sorts=SORTS,
        facet_labels=FACET_LABELS, result_url=result_url, district_of=district_for_uscc,
        synonyms=_expansion_labels(resp, "synonym"), places=_expansion_labels(resp, "place"),
    )


def _expansion_labels(resp, kind: str) -> list[str]:
    """What the page says the search also looked for: 冰箱 (for 雪柜), 广州 (for 羊城)."""
    if not resp:
        return []
    return list(dict.fromkeys(e["label"] for e in resp.expansions if e["kind"] == kind))[:12]


@bp.app_context_processor
def _search_examples():
    """Example queries for every page that shows the search box."""
    return {"search_examples": EXAMPLE_QUERIES}


def _api_error(message: str, status: int = 400):
    body = json.dumps({"error": message}, ensure_ascii=False)
    return current_app.response_class(body, status=status, mimetype="application/json",
                                      headers={"Cache-Control": "no-store"})


def _api_json(data: dict):
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return current_app.response_class(body, status=200, mimetype="application/json",
                                      headers={"Cache-Control": "no-store"})


@bp.route("/api/v1/search")
def api_search():
    """JSON search with the same parameters as /search plus ``per_page`` (at most 100)."""
    try:
        params = parse_params(request.args, api=True)
    except BadParam as exc:
        return _api_error(str(exc))
    outcome = params.search()
    resp = outcome.response
    return _api_json({
        "query": resp.query, "total": resp.total, "page": resp.page, "per_page": resp.per_page,
        "results": [result_dict(h) for h in outcome.hits],
        "facets": {f: [{"value": v, "count": c} for v, c in resp.facets.get(f, [])] for f in FACETS},
        "suggestion": resp.suggestion,
        "partial": resp.partial,
        "synonyms": _expansion_labels(resp, "synonym"),
    })


@bp.route("/api/v1/suggest")
def api_suggest():
    """Autocomplete: at most 10 brand / enterprise / platform names for a prefix."""
    q = clean_text(request.args.get("q", ""))
    if len(q) > MAX_QUERY_CHARS:
        return _api_error("q 参数过长。")
    items = querying.suggest(q, limit=10) if q else []
    plats = {}
    if any(s.kind == "platform" for s in items):
        plats = {p.id: p for p in db.session.scalars(
            select(Platform).where(Platform.id.in_([s.id for s in items if s.kind == "platform"])))}
    out = []
    for s in items:
        if s.kind == "enterprise":
            url = url_for("public.enterprise", enterprise_id=s.id)
        else:
            p = plats.get(s.id)
            url = url_for("public.platform", slug=p.slug) if p else url_for("search.search_page", q=s.text)
        out.append({"text": s.text, "kind": s.kind, "url": url})
    return _api_json({"suggestions": out[:10]})


__all__ = ["bp", "parse_params", "result_dict", "result_url"]
