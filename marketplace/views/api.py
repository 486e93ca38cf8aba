"""The public read API, ``/api/v1``: enterprises, shops, platforms, industries, cities, verify.

JSON only, public data only. Every answer carries an ETag (a hash of the body) and, where the
data has a change time, Last-Modified, and answers a matching conditional request with 304.
CORS allows any origin to GET (and to preflight). Requests are rate-limited per client address
(``API_RATE_LIMIT``, default 120 per minute, shared by all endpoints here) and a breach is a 429
JSON error. Bad parameters are a 400 with ``{"error": "..."}`` in Chinese, never a 500.

flask-smorest ties each route to its schemas: ``@bp.arguments`` parses the query string with a
schema of ``api_args``, ``@answers`` serialises the view's return value with a schema of
``api_schemas``, and both document the route in ``/api/v1/openapi.json`` (``openapi``), against
which the test suite checks every answer with schemathesis.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import wraps

from flask import Flask, Response, current_app, request, url_for
from flask_smorest import Blueprint
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import selectinload
from webargs.flaskparser import FlaskParser

from ..clock import china_day_start_utc, china_today
from ..extensions import db, limiter
from ..models import (
    AuditLog, Certification, City, Enterprise, Industry, Platform, Product, Shop, Status,
    directory_changed_at, enterprise_badge, enterprise_industry, enterprise_is_public, shop_is_public,
)
from ..services import authorizations, changes, impersonation
from ..services.catalog.detail import get_enterprise
from ..services.catalog.filters import BrowseFilters, public_enterprise_query
from ..services.verify.lookup import verify as run_verify
from ..services.products import listing as product_listing
from ..validation import ValidationError
from . import api_args, api_schemas, linking, openapi
from .api_args import MAX_ID
from .api_schemas import With

CACHE_SECONDS = 60
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Accept-Language, If-None-Match, If-Modified-Since",
    "Access-Control-Expose-Headers": "ETag, Last-Modified, Retry-After, X-RateLimit-Limit, "
                                     "X-RateLimit-Remaining, X-RateLimit-Reset",
    "Access-Control-Max-Age": "86400",
}
ETAG_HEADER = {"description": "响应内容的校验值；带 If-None-Match 再次请求，未变化时返回 304",
               "required": True, "schema": {"type": "string"}}
LAST_MODIFIED_HEADER = {"description": "数据最后变化时间", "required": True, "schema": {"type": "string"}}


class ApiError(Exception):
    """A client error answered as ``{"error": message}`` with ``status``."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


class _QueryParser(FlaskParser):
    """webargs' parser answering a bad argument with the first message (``api_args.first_error``)."""

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        raise ApiError(api_args.first_error(error.messages["query"], schema))


class _Blueprint(Blueprint):
    """flask-smorest's blueprint, whose ``@bp.arguments`` answers a bad argument with ``ApiError``."""

    ARGUMENTS_PARSER = _QueryParser()


bp = _Blueprint("api", __name__, url_prefix="/api/v1")


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", "120/minute")


def _rate_limit_message() -> str:
    return f"请求过于频繁，请稍后再试（开放接口对每个地址的限额：{_rate_limit()}）。"


limiter.shared_limit(_rate_limit, scope="api-v1", methods=["GET", "HEAD"],
                     error_message=_rate_limit_message)(bp)


def init_app(app: Flask) -> None:
    """Register the blueprint through flask-smorest, which documents its routes."""
    openapi.register(app, bp)


@bp.errorhandler(ApiError)
def _api_error(err: ApiError):
    return _json(api_schemas.ErrorSchema().dump(err), status=err.status, cache=False)


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


def answers(schema: type[api_schemas.Answer], description: str, *, last_modified: bool = True):
    """Serialise the view's return value with ``schema`` into a cacheable JSON answer and
    document it: the 200 with its ETag (and Last-Modified) header, the 304 and the 429."""
    headers = {"ETag": ETAG_HEADER, **({"Last-Modified": LAST_MODIFIED_HEADER} if last_modified else {})}

    def decorate(view):
        @wraps(view)
        def serialised(*args, **kwargs):
            data = schema().dump(view(*args, **kwargs))
            return _json(data, last_modified=data_last_modified() if last_modified else None)

        return _cached(bp.response(200, schema, description=description, headers=headers)(serialised))

    return decorate


def _cached(view):
    """Document the 304 of a conditional request and the 429 of the rate limit."""
    view = bp.alt_response(304, description="内容未变化（条件请求）")(view)
    return bp.alt_response(429, schema=api_schemas.ErrorSchema, description=openapi.RATE_LIMITED)(view)


def fails(status: int, description: str):
    """Document an ``ApiError`` answer of the view."""
    return bp.alt_response(status, schema=api_schemas.ErrorSchema, description=description)


def query(schema: type):
    """Parse the query string with ``schema`` (``api_args``); the view gets the loaded dict."""
    return bp.arguments(schema, location="query", error_status_code=400)


def _path_id(name: str, description: str) -> list[dict]:
    return [{"in": "path", "name": name, "description": description,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}]


def _check_id(value: int) -> None:
    if value < 1 or value > MAX_ID:
        raise ApiError("不存在。", 404)


def _page(pagination, items: list) -> dict:
    return {"total": pagination.total or 0, "page": pagination.page, "per_page": pagination.per_page,
            "pages": pagination.pages, "results": items}


def _browse_filters(args: dict) -> BrowseFilters:
    """The parsed directory arguments as browse filters (a city wins over its region)."""
    return BrowseFilters(industry=args.get("industry"), city=args.get("city"),
                         region=None if args.get("city") else args.get("region"),
                         platform=args.get("platform"), shop_type=args.get("shop_type"),
                         badge=args.get("badge"))


# --------------------------------------------------------------------------- endpoints

@bp.route("/enterprises", tags=["名录"])
@bp.doc(operationId="listEnterprises", summary="认证企业列表（可筛选、排序、分页）")
@query(api_args.DirectoryArgs)
@fails(400, "参数无效（未知的筛选值、页码超出范围等）")
@answers(api_schemas.EnterprisePageSchema, "一页认证企业")
def enterprises(args: dict):
    """Certified enterprises, filtered like the browse page, sorted and paginated."""
    q = public_enterprise_query(_browse_filters(args))
    if args["sort"] == "name":
        q = q.order_by(Enterprise.name_sort.asc(), Enterprise.id.asc())
    elif args["sort"] == "popular":
        q = q.order_by(Enterprise.click_count.desc(), Enterprise.id.desc())
    else:
        q = q.order_by(Enterprise.certified_at.desc(), Enterprise.id.desc())
    q = q.options(selectinload(Enterprise.brands), selectinload(Enterprise.industries),
                  selectinload(Enterprise.badges), selectinload(Enterprise.certifications))
    pagination = db.paginate(q, page=args["page"], per_page=args["per_page"], error_out=False, count=True)
    ids = [e.id for e in pagination.items]
    counts = dict(db.session.execute(
        select(Shop.enterprise_id, func.count(Shop.id))
        .where(Shop.enterprise_id.in_(ids), Shop.status == Status.CERTIFIED).group_by(Shop.enterprise_id)
    ).all()) if ids else {}
    return _page(pagination, [With(e, shop_count=counts.get(e.id, 0)) for e in pagination.items])


@bp.route("/enterprises/<int:enterprise_id>", tags=["名录"], parameters=_path_id("enterprise_id", "企业编号"))
@bp.doc(operationId="getEnterprise", summary="认证企业详情（含认证店铺）")
@fails(404, "企业不存在或未公开")
@answers(api_schemas.EnterpriseDetailSchema, "企业详情")
def enterprise_detail(enterprise_id: int):
    """One certified enterprise with its certified shops."""
    _check_id(enterprise_id)
    ent = get_enterprise(enterprise_id)
    if ent is None or not ent.is_public:
        raise ApiError("企业不存在或未公开。", 404)
    return With(ent, shop_count=len(ent.public_shops))


@bp.route("/shops", tags=["名录"])
@bp.doc(operationId="listShops", summary="认证店铺列表（可筛选、排序、分页）")
@query(api_args.ShopArgs)
@fails(400, "参数无效")
@answers(api_schemas.ShopPageSchema, "一页认证店铺")
def shops(args: dict):
    """Certified shops of certified enterprises, filtered and paginated."""
    f = _browse_filters(args)
    q = (select(Shop).join(Enterprise, Enterprise.id == Shop.enterprise_id)
         .where(shop_is_public()))
    if "enterprise" in args:
        q = q.where(Shop.enterprise_id == args["enterprise"])
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
    if args["sort"] == "name":
        q = q.order_by(Shop.name.asc(), Shop.id.asc())
    elif args["sort"] == "popular":
        q = q.order_by(Shop.click_count.desc(), Shop.id.desc())
    else:  # newest listed first: the primary key keeps this an index scan at 50,000 shops
        q = q.order_by(Shop.id.desc())
    q = q.options(selectinload(Shop.enterprise).selectinload(Enterprise.brands))
    pagination = db.paginate(q, page=args["page"], per_page=args["per_page"], error_out=False, count=True)
    return _page(pagination, pagination.items)


@bp.route("/products", tags=["名录"])
@bp.doc(operationId="listProducts", summary="名优广货：已审核商品列表（可按行业、城市、平台筛选，分页）")
@query(api_args.ProductArgs)
@fails(400, "参数无效")
@answers(api_schemas.ProductPageSchema, "一页商品")
def products(args: dict):
    """Approved products of certified enterprises with a certified shop, newest first."""
    f = product_listing.ProductFilters(industry=args["industry"].slug if args.get("industry") else "",
                                       city=args["city"].slug if args.get("city") else "",
                                       platform=args["platform"].slug if args.get("platform") else "")
    q = product_listing.browse_query(f)
    if "enterprise" in args:
        q = q.where(Product.enterprise_id == args["enterprise"])
    pagination = db.paginate(q, page=args["page"], per_page=args["per_page"], error_out=False, count=True)
    return _page(pagination, pagination.items)


@bp.route("/shops/<int:shop_id>", tags=["名录"], parameters=_path_id("shop_id", "店铺编号"))
@bp.doc(operationId="getShop", summary="认证店铺详情")
@fails(404, "店铺不存在或未公开")
@answers(api_schemas.ShopWithEnterpriseSchema, "店铺详情")
def shop_detail(shop_id: int):
    """One certified shop with its enterprise."""
    _check_id(shop_id)
    s = db.session.get(Shop, shop_id)
    if s is None or not s.is_public:
        raise ApiError("店铺不存在或未公开。", 404)
    return s


def _enterprise_counts(column, join_table=None) -> dict[int, int]:
    """Public enterprises per city (``Enterprise.city_id``) or per industry (association table)."""
    if join_table is not None:
        q = (select(join_table.c.industry_id, func.count())
             .join(Enterprise, Enterprise.id == join_table.c.enterprise_id)
             .where(enterprise_is_public()).group_by(join_table.c.industry_id))
    else:
        q = select(column, func.count()).where(enterprise_is_public()).group_by(column)
    return {k: n for k, n in db.session.execute(q)}


@bp.route("/platforms", tags=["参考数据"])
@bp.doc(operationId="listPlatforms", summary="电商平台")
@answers(api_schemas.PlatformListSchema, "全部平台")
def platforms():
    """Active platforms with their counts of public shops and enterprises."""
    counts = {pid: (shops, ents) for pid, shops, ents in db.session.execute(
        select(Shop.platform_id, func.count(Shop.id), func.count(func.distinct(Shop.enterprise_id)))
        .join(Enterprise, Enterprise.id == Shop.enterprise_id)
        .where(shop_is_public())
        .group_by(Shop.platform_id))}
    rows = db.session.scalars(select(Platform).where(Platform.active.is_(True))
                              .order_by(Platform.position, Platform.id)).all()
    return {"total": len(rows), "results": [
        With(p, shop_count=counts.get(p.id, (0, 0))[0], enterprise_count=counts.get(p.id, (0, 0))[1])
        for p in rows]}


@bp.route("/industries", tags=["参考数据"])
@bp.doc(operationId="listIndustries", summary="行业")
@answers(api_schemas.IndustryListSchema, "全部行业")
def industries():
    """Active industries with their counts of public enterprises."""
    counts = _enterprise_counts(None, enterprise_industry)
    rows = db.session.scalars(select(Industry).where(Industry.active.is_(True))
                              .order_by(Industry.position, Industry.id)).all()
    return {"total": len(rows), "results": [With(i, enterprise_count=counts.get(i.id, 0)) for i in rows]}


@bp.route("/cities", tags=["参考数据"])
@bp.doc(operationId="listCities", summary="广东 21 个地级市")
@answers(api_schemas.CityListSchema, "全部城市")
def cities():
    """Guangdong's 21 cities with region and counts of public enterprises."""
    counts = _enterprise_counts(Enterprise.city_id)
    rows = db.session.scalars(select(City).order_by(City.position, City.id)).all()
    return {"total": len(rows), "results": [With(c, enterprise_count=counts.get(c.id, 0)) for c in rows]}


@bp.route("/verify", tags=["验证"])
@bp.doc(operationId="verify", summary="验证店铺链接、证书编号或统一社会信用代码，或按品牌/企业名称查询",
        description="参数只能提供一个。短链接（如 m.tb.cn、u.jd.com）不会被打开，结果为 short_link；"
                    "域名模仿认证店铺但不在其平台上的链接，结果为 suspicious（疑似仿冒）。")
@query(api_args.VerifyArgs)
@fails(400, "没有提供参数、提供了多个参数，或内容无效")
@answers(api_schemas.VerifyResultSchema, "验证结果")
def verify(key_and_value: tuple[str, str]):
    """Verify a shop link, a certificate number, a 统一社会信用代码 or a name (exactly one of them;
    ``q`` guesses which). A miss that names a certified brand is counted for the impersonation
    watch."""
    key, value = key_and_value
    try:
        result = run_verify("auto" if key == "q" else key, value)
    except ValidationError as err:
        raise ApiError(str(err)) from None
    impersonation.note_verify(result)
    shop = result.shop if result.is_certified else None  # a suspended shop vouches for nothing
    return With(result, page_url=linking.absolute(url_for("trust.verify", **{key: value})),
                authorizations=_authorizations([shop])[shop.id] if shop is not None else [])


def _authorizations(shops) -> dict[int, list[With]]:
    """Shop id -> its brand authorizations in effect, ready for ``AuthorizationSchema``."""
    found = authorizations.in_effect_for_shops(s.id for s in shops)
    return {s.id: [With(a, text=authorizations.label(a, s.shop_type)) for a in found.get(s.id, [])] for s in shops}


@bp.route("/changes", tags=["变更订阅"])
@bp.doc(operationId="listChanges", summary="认证变更事件（生效、暂停、撤销、过期、恢复、授权失效），按发生顺序",
        description="第一次不带 since（从最早的事件开始），或带 /api/v1/certified-shops 第 1 页的 changes_cursor；"
                    "之后每次带上一次返回的 next。建议每 1–5 分钟请求一次，收到 suspended、revoked、expired、"
                    "authorization_withdrawn 即停止展示对应店铺（shop 为 null 时是整个企业）。")
@query(api_args.ChangesArgs)
@fails(400, "游标或数量无效")
@answers(api_schemas.ChangesSchema, "一批事件（最早的在前）和下一次请求用的游标")
def changes_feed(args: dict):
    """Certification events after the cursor, oldest first."""
    events, cursor = changes.feed(args["since"], args["limit"])
    return {"events": events, "next": str(cursor)}


@bp.route("/certified-shops", tags=["变更订阅"])
@bp.doc(operationId="listCertifiedShops", summary="全部认证店铺（完整列表，分页，带 ETag）",
        description="按店铺编号排序。先记下第 1 页的 changes_cursor，下载完所有页后，从该游标起订阅 /api/v1/changes。"
                    "带 If-None-Match 再次请求，未变化时返回 304。")
@query(api_args.CertifiedShopsArgs)
@fails(400, "页码或每页数量无效")
@answers(api_schemas.CertifiedShopPageSchema, "一页认证店铺")
def certified_shops(args: dict):
    """The whole current list of certified shops of certified enterprises, by shop id."""
    cursor = changes.head()  # first: an event after the listing was read is replayed, never lost
    q = (select(Shop).join(Enterprise, Enterprise.id == Shop.enterprise_id).where(shop_is_public())
         .order_by(Shop.id).options(selectinload(Shop.enterprise).selectinload(Enterprise.certifications),
                                    selectinload(Shop.enterprise).selectinload(Enterprise.brands)))
    pagination = db.paginate(q, page=args["page"], per_page=args["per_page"], error_out=False, count=True)
    found = _authorizations(pagination.items)
    items = [With(s, authorizations=found[s.id]) for s in pagination.items]
    return {**_page(pagination, items), "changes_cursor": str(cursor)}


@bp.route("/", tags=["文档"])
@bp.doc(operationId="index", summary="入口：文档和接口列表")
@answers(api_schemas.IndexSchema, "入口信息", last_modified=False)
def index():
    """Where to start: the document, the developers' page and the endpoints."""
    return {
        "name": "广货网上行 开放接口",
        "version": "v1",
        "openapi": linking.absolute(url_for("api.openapi")),
        "docs": linking.absolute(url_for("trust.api_docs")),
        "endpoints": [linking.absolute(f"/api/v1/{name}") for name in
                      ("enterprises", "shops", "platforms", "industries", "cities", "verify", "changes",
                       "certified-shops")],
    }


@bp.route("/openapi.json", endpoint="openapi", tags=["文档"])
@bp.doc(operationId="openapi", summary="本文档")
@_cached
@bp.response(200, {"type": "object"}, description="OpenAPI 3.1 文档", headers={"ETag": ETAG_HEADER})
def openapi_document():
    """The OpenAPI 3 description of this API (and of the search endpoints next to it)."""
    return _json(openapi.document())
