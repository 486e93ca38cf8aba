"""The OpenAPI 3.1 document of the public API, as a Python dict.

The shapes mirror ``marketplace.views.serializers`` exactly (objects are closed with
``additionalProperties: false``) and the search/suggest endpoints follow issue 3's contract. Filter
values that come from the database (industry, city, platform and badge slugs) are listed as enums
when the document is built, so clients and the schemathesis test see the real choices.
"""
from __future__ import annotations

from copy import deepcopy

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Badge, City, Industry, Platform, ShopType
from ..services.reference_data import REGIONS
from ..services.verify import Outcome

MAX_ID = 2_147_483_647


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict, required: list[str] | None = None, closed: bool = True) -> dict:
    out = {"type": "object", "properties": properties,
           "required": list(properties) if required is None else required}
    if closed:
        out["additionalProperties"] = False
    return out


STR = {"type": "string"}
INT = {"type": "integer"}
URL = {"type": "string", "format": "uri"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
RESULT_STATUS = {"type": "string", "enum": list(Outcome.RANK)}

SCHEMAS: dict[str, dict] = {
    "Error": _obj({"error": {"type": "string", "description": "中文错误说明"}}),
    "CityRef": _obj({"id": INT, "name": STR, "full_name": STR, "slug": STR, "region": STR, "code": STR}),
    "IndustryRef": _obj({"id": INT, "name": STR, "slug": STR}),
    "BadgeRef": _obj({"name": STR, "slug": STR}),
    "PlatformRef": _obj({"id": INT, "name": STR, "slug": STR}),
    "Certificate": _obj({
        "number": {"type": "string", "description": "证书编号，如 GDWS-2025-000123"},
        "issued_on": DATE,
        "valid_until": DATE,
        "status": {**RESULT_STATUS, "description": "certified 表示今天有效"},
        "status_label": STR,
        "valid": {"type": "boolean"},
        "url": URL,
        "badge_url": URL,
    }),
    "EnterpriseRef": _obj({
        "id": INT, "name": STR, "display_name": STR, "uscc": STR, "public": {"type": "boolean"},
        "url": _nullable(URL),
    }),
    "Shop": _obj({
        "id": INT, "name": STR, "platform": _ref("PlatformRef"),
        "shop_type": {"type": "string", "enum": list(ShopType.ALL)},
        "url": {"type": "string", "description": "店铺在平台上的网址"},
        "go_url": _nullable({**URL, "description": "经本站跳转（计入访问量）的链接"}),
        "certified_at": _nullable(DATETIME),
        "public": {"type": "boolean"},
        "api_url": _nullable(URL),
    }),
    "Enterprise": _obj({
        "id": INT, "name": {"type": "string", "description": "企业名称（法定名称）"},
        "display_name": {"type": "string", "description": "展示名称（第一个品牌）"},
        "brands": {"type": "array", "items": STR},
        "uscc": {"type": "string", "description": "统一社会信用代码"},
        "city": _ref("CityRef"),
        "industries": {"type": "array", "items": _ref("IndustryRef")},
        "badges": {"type": "array", "items": _ref("BadgeRef")},
        "description": STR,
        "website": _nullable(STR),
        "founded_year": _nullable(INT),
        "logo_url": _nullable(URL),
        "certified_at": _nullable(DATETIME),
        "certificate": _nullable(_ref("Certificate")),
        "shop_count": INT,
        "url": URL,
        "api_url": URL,
    }),
    "Platform": _obj({
        "id": INT, "name": STR, "slug": STR, "kind": STR, "description": STR, "homepage": _nullable(STR),
        "hosts": {"type": "array", "items": STR}, "shop_count": INT, "enterprise_count": INT, "url": URL,
    }),
    "Industry": _obj({"id": INT, "name": STR, "slug": STR, "enterprise_count": INT, "url": URL}),
    "City": _obj({"id": INT, "name": STR, "full_name": STR, "slug": STR, "region": STR, "code": STR,
                  "enterprise_count": INT, "url": URL}),
    "VerifyResult": _obj({
        "query_type": {"type": "string", "enum": ["url", "certificate", "uscc"]},
        "query": {"type": "string", "description": "规范化后的查询内容"},
        "result": {"type": "string", "enum": list(Outcome.ALL)},
        "result_label": STR,
        "message": {"type": "string", "description": "给消费者看的结论"},
        "advice": {"type": "array", "items": STR},
        "warnings": {"type": "array", "items": STR},
        "normalized_url": _nullable(STR),
        "platform": _nullable(_ref("PlatformRef")),
        "enterprise": _nullable(_ref("EnterpriseRef")),
        "shop": _nullable(_ref("Shop")),
        "certificate": _nullable(_ref("Certificate")),
        "shops": {"type": "array", "items": _ref("Shop")},
        "mentioned": {"type": "array", "items": _ref("EnterpriseRef"),
                      "description": "粘贴内容中提到品牌的认证企业（可能被冒充）"},
        "report_url": _nullable(URL),
        "page_url": URL,
    }),
    # Issue 3's search contract (served by the search blueprint).
    "SearchResult": _obj({
        "kind": {"type": "string", "enum": ["enterprise", "shop", "platform"]},
        "id": INT, "name": STR, "url": STR, "highlight": _nullable(STR), "city": _nullable(STR),
        "industries": {"type": "array", "items": STR}, "platform": _nullable(STR),
    }, closed=False),
    "FacetValue": _obj({"value": STR, "count": INT}, closed=False),
    "SearchResponse": _obj({
        "query": STR, "total": INT, "page": INT, "per_page": INT,
        "results": {"type": "array", "items": _ref("SearchResult")},
        "facets": _obj({k: {"type": "array", "items": _ref("FacetValue")}
                        for k in ("industry", "city", "region", "platform", "shop_type", "badge")}, closed=False),
        "suggestion": _nullable(STR),
        "partial": {"type": "boolean", "description": "没有完全匹配的结果时为 true：结果只包含部分关键词"},
        "synonyms": {"type": "array", "items": STR, "description": "本次搜索同时查找并用到的同义词"},
    }, closed=False),
    "Suggestion": _obj({"text": STR, "kind": STR, "url": STR}, closed=False),
    "SuggestResponse": _obj({"suggestions": {"type": "array", "maxItems": 10, "items": _ref("Suggestion")}},
                            closed=False),
}


def _page_schema(item: str) -> dict:
    return _obj({
        "total": INT, "page": INT, "per_page": INT, "pages": INT,
        "results": {"type": "array", "items": _ref(item)},
    })


def _list_schema(item: str) -> dict:
    return _obj({"total": INT, "results": {"type": "array", "items": _ref(item)}})


CACHE_HEADERS = {
    "ETag": {"description": "响应内容的校验值；带 If-None-Match 再次请求，未变化时返回 304",
             "required": True, "schema": {"type": "string"}},
    "Last-Modified": {"description": "数据最后变化时间", "required": True, "schema": {"type": "string"}},
}


def _ok(schema: dict, description: str, last_modified: bool = True) -> dict:
    headers = dict(CACHE_HEADERS) if last_modified else {"ETag": CACHE_HEADERS["ETag"]}
    return {"description": description, "headers": headers,
            "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


COMMON_ERRORS = {
    "304": {"description": "内容未变化（条件请求）"},
    "429": _error("请求过于频繁（每个地址每分钟 120 次）"),
}


def _param(name: str, schema: dict, description: str, location: str = "query", required: bool = False) -> dict:
    return {"name": name, "in": location, "required": required, "description": description, "schema": schema}


def _slugs(model) -> list[str]:
    q = select(model.slug)
    if hasattr(model, "active"):
        q = q.where(model.active.is_(True))
    return sorted(db.session.scalars(q))


def _filter_params() -> list[dict]:
    return [
        _param("industry", {"type": "string", "enum": _slugs(Industry)}, "行业 slug（见 /api/v1/industries）"),
        _param("city", {"type": "string", "enum": _slugs(City)}, "城市 slug（见 /api/v1/cities）"),
        _param("region", {"type": "string", "enum": list(REGIONS)}, "区域：珠三角、粤东、粤西、粤北"),
        _param("platform", {"type": "string", "enum": _slugs(Platform)}, "平台 slug（见 /api/v1/platforms）"),
        _param("shop_type", {"type": "string", "enum": list(ShopType.ALL)}, "店铺类型"),
        _param("badge", {"type": "string", "enum": _slugs(Badge)}, "荣誉标识 slug"),
        _param("sort", {"type": "string", "enum": ["newest", "name", "popular"], "default": "newest"},
               "排序：newest 最新认证（店铺为最新收录），name 名称拼音，popular 最多访问"),
        _param("page", {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}, "页码，从 1 开始"),
        _param("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "每页数量，最多 100"),
    ]


def _search_paths() -> dict:
    """Issue 3's ``/api/v1/search`` and ``/api/v1/suggest``."""
    text = {"type": "string", "maxLength": 256}
    params = [_param("q", text, "搜索词：中文、拼音、拼音首字母或繁体")]
    params += [_param("kind", {"type": "string", "enum": ["enterprise", "shop", "platform"]}, "结果类型")]
    params += [_param(k, {"type": "string", "maxLength": 80}, d) for k, d in (
        ("industry", "行业"), ("city", "城市"), ("region", "区域"), ("platform", "平台"),
        ("shop_type", "店铺类型"), ("badge", "荣誉标识"), ("sort", "排序"))]
    params += [
        _param("page", {"type": "integer", "minimum": 1, "maximum": 100000}, "页码"),
        _param("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "每页数量，最多 100"),
    ]
    return {
        "/api/v1/search": {"get": {
            "operationId": "search", "summary": "全文搜索企业、店铺和平台", "tags": ["搜索"],
            "parameters": params,
            "responses": {
                "200": {"description": "搜索结果、分面统计和“您是不是要找”",
                        "content": {"application/json": {"schema": _ref("SearchResponse")}}},
                "400": _error("参数无效"),
                "429": COMMON_ERRORS["429"],
            },
        }},
        "/api/v1/suggest": {"get": {
            "operationId": "suggest", "summary": "搜索框自动补全（最多 10 条）", "tags": ["搜索"],
            "parameters": [_param("q", text, "前缀：汉字、拼音或首字母")],
            "responses": {
                "200": {"description": "补全建议",
                        "content": {"application/json": {"schema": _ref("SuggestResponse")}}},
                "400": _error("参数无效"),
                "429": COMMON_ERRORS["429"],
            },
        }},
    }


def _has_rule(path: str) -> bool:
    return any(rule.rule == path for rule in current_app.url_map.iter_rules())


def build_spec() -> dict:
    """The OpenAPI document, with database-driven enums and the search endpoints when served."""
    filters = _filter_params()
    id_schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    paths: dict[str, dict] = {
        "/api/v1/enterprises": {"get": {
            "operationId": "listEnterprises", "summary": "认证企业列表（可筛选、排序、分页）", "tags": ["名录"],
            "parameters": filters,
            "responses": {"200": _ok(_page_schema("Enterprise"), "一页认证企业"),
                          "400": _error("参数无效（未知的筛选值、页码超出范围等）"), **COMMON_ERRORS},
        }},
        "/api/v1/enterprises/{enterprise_id}": {"get": {
            "operationId": "getEnterprise", "summary": "认证企业详情（含认证店铺）", "tags": ["名录"],
            "parameters": [_param("enterprise_id", id_schema, "企业编号", "path", True)],
            "responses": {"200": _ok(_ref("EnterpriseDetail"), "企业详情"),
                          "404": _error("企业不存在或未公开"), **COMMON_ERRORS},
        }},
        "/api/v1/shops": {"get": {
            "operationId": "listShops", "summary": "认证店铺列表（可筛选、排序、分页）", "tags": ["名录"],
            "parameters": filters + [_param("enterprise", id_schema, "只看某企业的店铺（企业编号）")],
            "responses": {"200": _ok(_page_schema("ShopWithEnterprise"), "一页认证店铺"),
                          "400": _error("参数无效"), **COMMON_ERRORS},
        }},
        "/api/v1/shops/{shop_id}": {"get": {
            "operationId": "getShop", "summary": "认证店铺详情", "tags": ["名录"],
            "parameters": [_param("shop_id", id_schema, "店铺编号", "path", True)],
            "responses": {"200": _ok(_ref("ShopWithEnterprise"), "店铺详情"),
                          "404": _error("店铺不存在或未公开"), **COMMON_ERRORS},
        }},
        "/api/v1/platforms": {"get": {
            "operationId": "listPlatforms", "summary": "电商平台", "tags": ["参考数据"],
            "responses": {"200": _ok(_list_schema("Platform"), "全部平台"), **COMMON_ERRORS},
        }},
        "/api/v1/industries": {"get": {
            "operationId": "listIndustries", "summary": "行业", "tags": ["参考数据"],
            "responses": {"200": _ok(_list_schema("Industry"), "全部行业"), **COMMON_ERRORS},
        }},
        "/api/v1/cities": {"get": {
            "operationId": "listCities", "summary": "广东 21 个地级市", "tags": ["参考数据"],
            "responses": {"200": _ok(_list_schema("City"), "全部城市"), **COMMON_ERRORS},
        }},
        "/api/v1/verify": {"get": {
            "operationId": "verify", "summary": "验证店铺链接、证书编号或统一社会信用代码", "tags": ["验证"],
            "description": "三个参数只能提供一个。短链接（如 m.tb.cn、u.jd.com）不会被打开，结果为 short_link。",
            "parameters": [
                _param("url", {"type": "string", "maxLength": 4000}, "店铺网址（可带跟踪参数，或整段分享文字）"),
                _param("certificate", {"type": "string", "maxLength": 40}, "证书编号"),
                _param("uscc", {"type": "string", "maxLength": 40}, "统一社会信用代码"),
            ],
            "responses": {"200": _ok(_ref("VerifyResult"), "验证结果"),
                          "400": _error("没有提供参数、提供了多个参数，或内容无效"), **COMMON_ERRORS},
        }},
        "/api/v1/": {"get": {
            "operationId": "index", "summary": "入口：文档和接口列表", "tags": ["文档"],
            "responses": {"200": _ok(_obj({"name": STR, "version": STR, "openapi": URL, "docs": URL,
                                            "endpoints": {"type": "array", "items": URL}}),
                                     "入口信息", last_modified=False), **COMMON_ERRORS},
        }},
        "/api/v1/openapi.json": {"get": {
            "operationId": "openapi", "summary": "本文档", "tags": ["文档"],
            "responses": {"200": _ok({"type": "object"}, "OpenAPI 3.1 文档", last_modified=False),
                          **COMMON_ERRORS},
        }},
    }
    if _has_rule("/api/v1/search"):
        paths.update({k: v for k, v in _search_paths().items() if _has_rule(k)})
    schemas = deepcopy(SCHEMAS)
    schemas["EnterpriseDetail"] = deepcopy(schemas["Enterprise"])
    schemas["EnterpriseDetail"]["properties"]["shops"] = {"type": "array", "items": _ref("Shop")}
    schemas["EnterpriseDetail"]["required"].append("shops")
    schemas["ShopWithEnterprise"] = deepcopy(schemas["Shop"])
    schemas["ShopWithEnterprise"]["properties"]["enterprise"] = _ref("EnterpriseRef")
    schemas["ShopWithEnterprise"]["required"].append("enterprise")
    from . import linking

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "广货网上行 开放接口",
            "version": "1.0.0",
            "description": "广东名优企业及其认证网店名录的只读接口。JSON、分页、支持 ETag/Last-Modified 缓存与 CORS，"
                           "每个地址每分钟最多 120 次请求。只返回公开数据。",
        },
        "servers": [{"url": linking.base_url()}],
        "paths": paths,
        "components": {"schemas": schemas},
    }
