"""The public read API, ``/api/v1``: enterprises, shops, platforms, industries, cities, verify.

JSON only, public data only. Every answer carries an ETag (a hash of the body) and, where the
data has a change time, Last-Modified, and answers a matching conditional request with 304.
CORS allows any origin to GET (and to preflight). Requests are rate-limited per client address
(``API_RATE_LIMIT``, default 120 per minute, shared by all endpoints here) and a breach is a 429
JSON error. Bad parameters are a 400 with ``{"error": "..."}`` in Chinese, never a 500.
The OpenAPI document (``/api/v1/openapi.json``) is built by ``marketplace.views.openapi`` and the
test suite checks every response against it with schemathesis.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from flask import Blueprint, Response, current_app, request
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import selectinload

from ..clock import china_day_start_utc, china_today
from ..extensions import db, limiter
from ..models import (
    AuditLog, Certification, City, Enterprise, Industry, Platform, Shop, ShopType, Status,
    directory_changed_at, enterprise_badge, enterprise_industry, enterprise_is_public, shop_is_public,
)
from ..services import catalog
from ..services.reference_data import REGIONS
from ..services.verify import verify as run_verify
from ..validation import ValidationError
from . import serializers
from .helpers import bounded_int

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_PAGE = 100_000
MAX_ID = 2_147_483_647
SORTS = ("newest", "name", "popular")
CACHE_SECONDS = 60
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Accept-Language, If-None-Match, If-Modified-Since",
    "Access-Control-Expose-Headers": "ETag, Last-Modified, Retry-After, X-RateLimit-Limit, "
                                     "X-RateLimit-Remaining, X-RateLimit-Reset",
    "Access-Control-Max-Age": "86400",
}


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", "120/minute")


def _rate_limit_message() -> str:
    return f"请求过于频繁，请稍后再试（开放接口对每个地址的限额：{_rate_limit()}）。"


limiter.shared_limit(_rate_limit, scope="api-v1", methods=["GET", "HEAD"],
                     error_message=_rate_limit_message)(bp)


class ApiError(Exception):
    """A client error answered as ``{"error": message}`` with ``status``."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


@bp.errorhandler(ApiError)
def _api_error(err: ApiError):
    return _json({"error": err.message}, status=err.status, cache=False)


@bp.after_app_request
def _cors(response: Response) -> Response:
    """CORS for every ``/api/v1`` answer, including other blueprints' (search, suggest)."""
    if request.path.startswith("/api/v1/") or request.path == "/api/v1":
        for key, value in CORS_HEADERS.items():
            response.headers.setdefault(key, value)
    return response


# --------------------------------------------------------------------------- helpers

def _json(data, *, status: int = 200, cache: bool = True, last_modified: datetime | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    response = current_app.response_class(body, status=status, mimetype="application/json")
    if not cache:
        response.headers["Cache-Control"] = "no-store"
        return response
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.add_etag()
    if last_modified is not None:
        response.last_modified = last_modified.replace(tzinfo=timezone.utc)
    return response.make_conditional(request)


def data_last_modified() -> datetime:
    """When the public data last changed, cheaply (index lookups only): the newest search-outbox
    row (written in the same transaction as every change to an enterprise, shop, brand,
    platform, certificate, industry or badge), the newest audit entry, and never earlier than
    the start of today in China (certificate validity is judged by the China date)."""
    row = db.session.execute(select(
        directory_changed_at(),
        select(Certification.created_at).order_by(Certification.id.desc()).limit(1).scalar_subquery(),
        select(func.max(AuditLog.at)).scalar_subquery(),
    )).one()
    today = china_day_start_utc(china_today())
    stamps = [v for v in row if isinstance(v, datetime)] + [today]
    return max(stamps).replace(microsecond=0)


def _int_arg(name: str, default: int, low: int, high: int, label: str) -> int:
    try:
        return bounded_int(request.args.get(name), default, low, high)
    except ValueError:
        raise ApiError(f"{label}必须是 {low} 到 {high} 之间的整数。") from None


def _str_arg(name: str) -> str:
    value = request.args.get(name, "")
    if "\x00" in value or len(value) > 100:
        raise ApiError(f"参数 {name} 无效。")
    return value.strip()


_UNKNOWN_FILTER = {
    "industry": "未知的行业：{}。可用的值见 /api/v1/industries。",
    "city": "未知的城市：{}。可用的值见 /api/v1/cities。",
    "region": "未知的区域：{}。可用的值：" + "、".join(REGIONS) + "。",
    "platform": "未知的平台：{}。可用的值见 /api/v1/platforms。",
    "shop_type": "未知的店铺类型：{}。可用的值：" + "、".join(ShopType.ALL) + "。",
    "badge": "未知的荣誉标识：{}。",
}


def _filters() -> catalog.BrowseFilters:
    """Strict browse filters: an unknown value is a 400 (the site's pages just ignore it)."""
    args = {key: _str_arg(key) for key in catalog.FILTER_KEYS}
    try:
        return catalog.parse_filters(args, strict=True)
    except catalog.UnknownFilter as err:
        if err.key == "region" and not err.value:
            raise ApiError("城市不在所选区域内。") from None
        raise ApiError(_UNKNOWN_FILTER[err.key].format(err.value)) from None


def _sort() -> str:
    sort = _str_arg("sort") or "newest"
    if sort not in SORTS:
        raise ApiError(f"排序方式只能是 {'、'.join(SORTS)}。")
    return sort


def _paging() -> tuple[int, int]:
    page = _int_arg("page", 1, 1, MAX_PAGE, "页码 page ")
    per_page = _int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE, "每页数量 per_page ")
    return page, per_page


def _page(pagination, items: list[dict]) -> dict:
    return {
        "total": pagination.total or 0,
        "page": pagination.page,
        "per_page": pagination.per_page,
        "pages": pagination.pages,
        "results": items,
    }


def _check_id(value: int) -> None:
    if value < 1 or value > MAX_ID:
        raise ApiError("不存在。", 404)


# --------------------------------------------------------------------------- endpoints

@bp.route("/enterprises")
def enterprises():
    """Certified enterprises, filtered like the browse page, sorted and paginated."""
    f = _filters()
    sort = _sort()
    page, per_page = _paging()
    q = catalog.public_enterprise_query(f)
    if sort == "name":
        q = q.order_by(Enterprise.name_sort.asc(), Enterprise.id.asc())
    elif sort == "popular":
        q = q.order_by(Enterprise.click_count.desc(), Enterprise.id.desc())
    else:
        q = q.order_by(Enterprise.certified_at.desc(), Enterprise.id.desc())
    q = q.options(selectinload(Enterprise.brands), selectinload(Enterprise.industries),
                  selectinload(Enterprise.badges), selectinload(Enterprise.certifications))
    pagination = db.paginate(q, page=page, per_page=per_page, error_out=False, count=True)
    ids = [e.id for e in pagination.items]
    counts = dict(db.session.execute(
        select(Shop.enterprise_id, func.count(Shop.id))
        .where(Shop.enterprise_id.in_(ids), Shop.status == Status.CERTIFIED).group_by(Shop.enterprise_id)
    ).all()) if ids else {}
    data = _page(pagination, [serializers.enterprise(e, shop_count=counts.get(e.id, 0)) for e in pagination.items])
    return _json(data, last_modified=data_last_modified())


@bp.route("/enterprises/<int:enterprise_id>")
def enterprise_detail(enterprise_id: int):
    """One certified enterprise with its certified shops."""
    _check_id(enterprise_id)
    ent = catalog.get_enterprise(enterprise_id)
    if ent is None or not ent.is_public:
        raise ApiError("企业不存在或未公开。", 404)
    return _json(serializers.enterprise(ent, detail=True), last_modified=data_last_modified())


@bp.route("/shops")
def shops():
    """Certified shops of certified enterprises, filtered and paginated."""
    f = _filters()
    sort = _sort()
    page, per_page = _paging()
    q = (select(Shop).join(Enterprise, Enterprise.id == Shop.enterprise_id)
         .where(shop_is_public()))
    ent_raw = _str_arg("enterprise")
    if ent_raw:
        if not ent_raw.isascii() or not ent_raw.isdigit() or len(ent_raw) > 10 or int(ent_raw) > MAX_ID:
            raise ApiError("企业编号 enterprise 必须是正整数。")
        q = q.where(Shop.enterprise_id == int(ent_raw))
    if f.platform:
        q = q.where(Shop.platform_id == f.platform.id)
    if f.shop_type:
        q = q.where(Shop.shop_type == f.shop_type)
    if f.city:
        q = q.where(Enterprise.city_id == f.city.id)
    elif f.region:
        q = q.where(Enterprise.city_id.in_(select(City.id).where(City.region == f.region)))
    if f.industry:
        q = q.where(exists().where(and_(enterprise_industry.c.enterprise_id == Enterprise.id,
                                        enterprise_industry.c.industry_id == f.industry.id)))
    if f.badge:
        q = q.where(exists().where(and_(enterprise_badge.c.enterprise_id == Enterprise.id,
                                        enterprise_badge.c.badge_id == f.badge.id)))
    if sort == "name":
        q = q.order_by(Shop.name.asc(), Shop.id.asc())
    elif sort == "popular":
        q = q.order_by(Shop.click_count.desc(), Shop.id.desc())
    else:  # newest listed first: the primary key keeps this an index scan at 50,000 shops
        q = q.order_by(Shop.id.desc())
    q = q.options(selectinload(Shop.enterprise).selectinload(Enterprise.brands))
    pagination = db.paginate(q, page=page, per_page=per_page, error_out=False, count=True)
    data = _page(pagination, [serializers.shop(s) for s in pagination.items])
    return _json(data, last_modified=data_last_modified())


@bp.route("/shops/<int:shop_id>")
def shop_detail(shop_id: int):
    """One certified shop with its enterprise."""
    _check_id(shop_id)
    s = db.session.get(Shop, shop_id)
    if s is None or not s.is_public:
        raise ApiError("店铺不存在或未公开。", 404)
    return _json(serializers.shop(s), last_modified=data_last_modified())


def _enterprise_counts(column, join_table=None) -> dict[int, int]:
    """Public enterprises per city (``Enterprise.city_id``) or per industry (association table)."""
    if join_table is not None:
        q = (select(join_table.c.industry_id, func.count())
             .join(Enterprise, Enterprise.id == join_table.c.enterprise_id)
             .where(enterprise_is_public()).group_by(join_table.c.industry_id))
    else:
        q = select(column, func.count()).where(enterprise_is_public()).group_by(column)
    return {k: n for k, n in db.session.execute(q)}


@bp.route("/platforms")
def platforms():
    """Active platforms with their counts of public shops and enterprises."""
    counts = {pid: (shops, ents) for pid, shops, ents in db.session.execute(
        select(Shop.platform_id, func.count(Shop.id), func.count(func.distinct(Shop.enterprise_id)))
        .join(Enterprise, Enterprise.id == Shop.enterprise_id)
        .where(shop_is_public())
        .group_by(Shop.platform_id))}
    rows = db.session.scalars(select(Platform).where(Platform.active.is_(True))
                              .order_by(Platform.position, Platform.id)).all()
    data = {"total": len(rows),
            "results": [serializers.platform(p, *counts.get(p.id, (0, 0))) for p in rows]}
    return _json(data, last_modified=data_last_modified())


@bp.route("/industries")
def industries():
    """Active industries with their counts of public enterprises."""
    counts = _enterprise_counts(None, enterprise_industry)
    rows = db.session.scalars(select(Industry).where(Industry.active.is_(True))
                              .order_by(Industry.position, Industry.id)).all()
    data = {"total": len(rows), "results": [serializers.industry(i, counts.get(i.id, 0)) for i in rows]}
    return _json(data, last_modified=data_last_modified())


@bp.route("/cities")
def cities():
    """Guangdong's 21 cities with region and counts of public enterprises."""
    counts = _enterprise_counts(Enterprise.city_id)
    rows = db.session.scalars(select(City).order_by(City.position, City.id)).all()
    data = {"total": len(rows), "results": [serializers.city(c, counts.get(c.id, 0)) for c in rows]}
    return _json(data, last_modified=data_last_modified())


@bp.route("/verify")
def verify():
    """Verify a shop link, a certificate number or a 统一社会信用代码 (exactly one of them)."""
    given = {}
    for key in ("url", "certificate", "uscc"):
        value = request.args.get(key)
        if value is not None and value.strip():
            given[key] = value
    if len(given) != 1:
        raise ApiError("请提供 url、certificate、uscc 三个参数中的一个。")
    kind, value = next(iter(given.items()))
    if len(value) > 4000 or "\x00" in value:
        raise ApiError("参数过长或含有不允许的字符。")
    try:
        result = run_verify(kind, value)
    except ValidationError as err:
        raise ApiError(str(err)) from None
    from . import linking

    page_url = linking.url("trust.verify", **{kind: value})
    return _json(serializers.verify_result(result, page_url), last_modified=data_last_modified())


@bp.route("/")
def index():
    """Where to start: the document, the developers' page and the endpoints."""
    from . import linking

    data = {
        "name": "广货网上行 开放接口",
        "version": "v1",
        "openapi": linking.url("api.openapi"),
        "docs": linking.url("trust.api_docs"),
        "endpoints": [linking.absolute(f"/api/v1/{name}") for name in
                      ("enterprises", "shops", "platforms", "industries", "cities", "verify")],
    }
    return _json(data)


@bp.route("/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API (and of the search endpoints next to it)."""
    from .openapi import build_spec

    return _json(build_spec())
