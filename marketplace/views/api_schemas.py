"""The JSON answers of the public API as marshmallow schemas: they serialise every answer and
flask-smorest builds the OpenAPI document (``/api/v1/openapi.json``) from them.

Only public data leaves here: certified enterprises and their certified shops, reference data,
and for verify results the name and certificate of a listing that was public before it was
suspended, revoked or expired.

Conventions (see ``Answer``): every field is always present and nothing else is (the document
says ``required`` and ``additionalProperties: false``, and the schemathesis test holds every
answer to it); a field reads the attribute of its name, or ``get_<name>(obj)`` when the schema
defines one. Adding a field to an answer is one line here (plus a ``get_`` method if it is
computed).
"""
from __future__ import annotations

from datetime import datetime

from flask import url_for
from marshmallow import INCLUDE, Schema, fields, pre_dump
from marshmallow.validate import OneOf

from ..models import EventType, ShopType, Status
from ..services.verify.results import Outcome, certificate_outcome
from . import linking


class Link(fields.String):
    """An absolute URL (documented as ``format: uri``)."""


class UtcTime(fields.DateTime):
    """A naive-UTC timestamp as RFC 3339 without fractions (``2025-01-02T03:04:05Z``)."""

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        return value.replace(microsecond=0).isoformat() + "Z" if value else None


class With:
    """``obj`` with values worked out for one answer (``With(platform, shop_count=3)``): those
    are attributes of their own, everything else is read from ``obj``."""

    def __init__(self, obj, **values):
        self.obj = obj
        self.__dict__.update(values)

    def __getattr__(self, name: str):  # called only for names not set in __init__
        return getattr(self.obj, name)


class Answer(Schema):
    """A closed JSON object: every declared field is required and no other key appears. A field
    reads ``get_<name>(obj)`` when the schema defines it, else the attribute (or dict key)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._computed = {name: getattr(self, f"get_{name}") for name in self.fields
                          if hasattr(self, f"get_{name}")}

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.required = True

    def get_attribute(self, obj, attr: str, default):
        compute = self._computed.get(attr)
        if compute is not None:
            return compute(obj)
        return obj.get(attr, default) if isinstance(obj, dict) else getattr(obj, attr, default)


class Open(Answer):
    """An answer that may gain fields without notice (documented ``additionalProperties: true``)."""

    class Meta:
        unknown = INCLUDE


class ErrorSchema(Answer):
    """A client error (``api.ApiError``)."""

    error = fields.String(attribute="message", metadata={"description": "中文错误说明"})


class CityRefSchema(Answer):
    id = fields.Integer()
    name = fields.String()
    full_name = fields.String()
    slug = fields.String()
    region = fields.String()
    code = fields.String()


class IndustryRefSchema(Answer):
    id = fields.Integer()
    name = fields.String()
    slug = fields.String()


class BadgeRefSchema(Answer):
    name = fields.String()
    slug = fields.String()


class PlatformRefSchema(Answer):
    id = fields.Integer()
    name = fields.String()
    slug = fields.String()


class CertificateSchema(Answer):
    """A certificate with its effective status (``certified`` = valid today)."""

    number = fields.String(metadata={"description": "证书编号，如 GDWS-2025-000123"})
    issued_on = fields.Date()
    valid_until = fields.Date()
    status = fields.String(validate=OneOf(list(Outcome.RANK)), metadata={"description": "certified 表示今天有效"})
    status_label = fields.String()
    valid = fields.Boolean()
    url = Link()
    badge_url = Link()

    @pre_dump
    def _outcome(self, cert, **kwargs):
        return With(cert, status=certificate_outcome(cert))

    def get_status_label(self, cert):
        return Outcome.LABELS[cert.status]

    def get_valid(self, cert):
        return cert.status == Outcome.CERTIFIED

    def get_url(self, cert):
        return linking.certificate_url(cert)

    def get_badge_url(self, cert):
        return linking.badge_url(cert)


class EnterpriseRefSchema(Answer):
    """A short reference; ``url`` is null when the enterprise page is not public."""

    id = fields.Integer()
    name = fields.String()
    display_name = fields.String()
    uscc = fields.String()
    public = fields.Boolean()
    url = Link(allow_none=True)

    def get_public(self, ent):
        return ent.status == Status.CERTIFIED

    def get_url(self, ent):
        return linking.enterprise_url(ent) if ent.status == Status.CERTIFIED else None


class ShopSchema(Answer):
    """A shop; ``url`` is the shop's own address, ``go_url`` the counted click-through."""

    id = fields.Integer()
    name = fields.String()
    platform = fields.Nested(PlatformRefSchema)
    shop_type = fields.String(validate=OneOf(ShopType.ALL))
    url = fields.String(metadata={"description": "店铺在平台上的网址"})
    go_url = Link(allow_none=True, metadata={"description": "经本站跳转（计入访问量）的链接"})
    certified_at = UtcTime(allow_none=True)
    public = fields.Boolean()
    api_url = Link(allow_none=True)

    def get_go_url(self, s):
        return linking.go_url(s) if s.is_public else None

    def get_public(self, s):
        return s.is_public

    def get_api_url(self, s):
        return linking.absolute(url_for("api.shop_detail", shop_id=s.id)) if s.is_public else None


class ShopWithEnterpriseSchema(ShopSchema):
    enterprise = fields.Nested(EnterpriseRefSchema)


class EnterpriseSchema(Answer):
    """A public enterprise in a list; dumps ``With(enterprise, shop_count=n)``."""

    id = fields.Integer()
    name = fields.String(metadata={"description": "企业名称（法定名称）"})
    display_name = fields.String(metadata={"description": "展示名称（第一个品牌）"})
    brands = fields.List(fields.String(), attribute="brand_names")
    uscc = fields.String(metadata={"description": "统一社会信用代码"})
    city = fields.Nested(CityRefSchema)
    industries = fields.List(fields.Nested(IndustryRefSchema))
    badges = fields.List(fields.Nested(BadgeRefSchema))
    description = fields.String()
    website = fields.String(allow_none=True)
    founded_year = fields.Integer(allow_none=True)
    logo_url = Link(allow_none=True)
    certified_at = UtcTime(allow_none=True)
    certificate = fields.Nested(CertificateSchema, allow_none=True)
    shop_count = fields.Integer()
    url = Link()
    api_url = Link()

    def get_description(self, ent):
        return ent.description or ""

    def get_website(self, ent):
        return ent.website or None

    def get_logo_url(self, ent):
        return linking.logo_url(ent)

    def get_url(self, ent):
        return linking.enterprise_url(ent)

    def get_api_url(self, ent):
        return linking.absolute(url_for("api.enterprise_detail", enterprise_id=ent.id))


class EnterpriseDetailSchema(EnterpriseSchema):
    """One public enterprise with its certified shops."""

    shops = fields.List(fields.Nested(ShopSchema), attribute="public_shops")


class PlatformSchema(Answer):
    """A platform; dumps ``With(platform, shop_count=n, enterprise_count=m)``."""

    id = fields.Integer()
    name = fields.String()
    slug = fields.String()
    kind = fields.String()
    description = fields.String()
    homepage = fields.String(allow_none=True)
    hosts = fields.List(fields.String(), attribute="host_list")
    shop_count = fields.Integer()
    enterprise_count = fields.Integer()
    url = Link()

    def get_description(self, p):
        return p.description or ""

    def get_homepage(self, p):
        return p.homepage or None

    def get_url(self, p):
        return linking.platform_url(p)


class IndustrySchema(IndustryRefSchema):
    """An industry; dumps ``With(industry, enterprise_count=n)``."""

    enterprise_count = fields.Integer()
    url = Link()

    def get_url(self, i):
        return linking.industry_url(i)


class CitySchema(CityRefSchema):
    """A city; dumps ``With(city, enterprise_count=n)``."""

    enterprise_count = fields.Integer()
    url = Link()

    def get_url(self, c):
        return linking.city_url(c)


class NameMatchSchema(Answer):
    """A certified enterprise whose name or brand matches a name query, with its certified shops."""

    enterprise = fields.Nested(EnterpriseRefSchema)
    shops = fields.List(fields.Nested(ShopSchema))

    def get_enterprise(self, ent):
        return ent

    def get_shops(self, ent):
        return ent.public_shops


class AuthorizationSchema(Answer):
    """A brand authorization in effect for a shop (the brand owner's permission to a 专卖店 or
    专营店 of another enterprise); dumps ``With(authorization, text=...)``."""

    brand = fields.String(attribute="brand_name", metadata={"description": "授权品牌"})
    grantor = fields.String(attribute="grantor_name", metadata={"description": "授权方（品牌方企业名称）"})
    valid_from = fields.Date()
    valid_until = fields.Date()
    text = fields.String(metadata={"description": "展示文字，如「X」品牌授权专卖店，授权方：…，有效期至…"})


class VerifyResultSchema(Answer):
    """A verify result (``services.verify.results.VerifyResult``); the same facts the /verify page
    shows. Dumps ``With(result, page_url=...)``. The listing's enterprise, certificate and shops
    are given when the answer names a listing: a (formerly) certified one that was found, or the
    real shop a suspicious link imitates; the report link names a shop only when it was found."""

    query_type = fields.String(validate=OneOf(["url", "certificate", "uscc", "name"]))
    query = fields.String(metadata={"description": "规范化后的查询内容"})
    result = fields.String(attribute="outcome", validate=OneOf(Outcome.ALL))
    result_label = fields.String(attribute="label")
    message = fields.String(metadata={"description": "给消费者看的结论"})
    advice = fields.List(fields.String())
    warnings = fields.List(fields.String())
    normalized_url = fields.String(allow_none=True)
    platform = fields.Nested(PlatformRefSchema, allow_none=True)
    enterprise = fields.Nested(EnterpriseRefSchema, allow_none=True)
    shop = fields.Nested(ShopSchema, allow_none=True)
    certificate = fields.Nested(CertificateSchema, allow_none=True)
    shops = fields.List(fields.Nested(ShopSchema))
    mentioned = fields.List(fields.Nested(EnterpriseRefSchema),
                            metadata={"description": "粘贴内容中提到品牌的认证企业（可能被冒充）"})
    matches = fields.List(fields.Nested(NameMatchSchema),
                          metadata={"description": "按名称查询时，名称或品牌相符的认证企业及其认证店铺"})
    authorizations = fields.List(fields.Nested(AuthorizationSchema),
                                 metadata={"description": "认证有效的店铺当前有效的品牌授权（专卖店、专营店）"})
    report_url = Link(allow_none=True)
    page_url = Link()

    def get_enterprise(self, r):
        return r.enterprise if r.names_listing else None

    def get_shop(self, r):
        return r.shop if r.names_listing else None

    def get_certificate(self, r):
        return r.certificate if r.names_listing else None

    def get_shops(self, r):
        return r.shops if r.names_listing else []

    def get_report_url(self, r):
        return linking.complaint_url(self.get_enterprise(r), r.shop if r.found_listing else None)


class IndexSchema(Answer):
    name = fields.String()
    version = fields.String()
    openapi = Link()
    docs = Link()
    endpoints = fields.List(Link())


class PageSchema(Answer):
    """A page of a list: ``total`` items in ``pages`` pages of ``per_page``; ``results`` is page
    ``page`` (empty beyond the last)."""

    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    pages = fields.Integer()


class ProductLinkSchema(Answer):
    """The product's page on one certified shop; ``go_url`` is the counted click-through."""

    shop_id = fields.Integer()
    shop_name = fields.String()
    platform = fields.Nested(PlatformRefSchema)
    url = fields.String(metadata={"description": "商品在网店中的网址"})
    go_url = Link(metadata={"description": "经本站跳转（计入访问量）的链接"})

    def get_shop_name(self, link):
        return link.shop.name

    def get_platform(self, link):
        return link.shop.platform

    def get_go_url(self, link):
        return linking.url("public.go", shop_id=link.shop_id, link=link.id)


class ProductSchema(Answer):
    """An approved product of a certified enterprise; prices in yuan."""

    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    industry = fields.Nested(IndustryRefSchema)
    price_min = fields.Float(metadata={"description": "最低价（元）"})
    price_max = fields.Float(metadata={"description": "最高价（元）"})
    enterprise_id = fields.Integer()
    enterprise_name = fields.String()
    photos = fields.List(Link())
    links = fields.List(fields.Nested(ProductLinkSchema))
    url = Link(metadata={"description": "本站的商品页面"})

    def get_price_min(self, p):
        return p.price_min_fen / 100

    def get_price_max(self, p):
        return p.price_max_fen / 100

    def get_enterprise_name(self, p):
        return p.enterprise.display_name

    def get_photos(self, p):
        return [linking.url("media.image", sha256=ph.image_sha256) for ph in p.photos]

    def get_links(self, p):
        return p.public_links

    def get_url(self, p):
        return linking.url("products.detail", product_id=p.id)


class ProductPageSchema(PageSchema):
    results = fields.List(fields.Nested(ProductSchema))


class EnterprisePageSchema(PageSchema):
    results = fields.List(fields.Nested(EnterpriseSchema))


class ShopPageSchema(PageSchema):
    results = fields.List(fields.Nested(ShopWithEnterpriseSchema))


class PlatformListSchema(Answer):
    total = fields.Integer()
    results = fields.List(fields.Nested(PlatformSchema))


class IndustryListSchema(Answer):
    total = fields.Integer()
    results = fields.List(fields.Nested(IndustrySchema))


class CityListSchema(Answer):
    total = fields.Integer()
    results = fields.List(fields.Nested(CitySchema))


class CertifiedShopSchema(Answer):
    """A certified shop of a certified enterprise in the full list; dumps ``With(shop,
    authorizations=[...])``."""

    id = fields.Integer()
    name = fields.String()
    url = fields.String(metadata={"description": "店铺在平台上的网址"})
    shop_type = fields.String(validate=OneOf(ShopType.ALL))
    platform = fields.Nested(PlatformRefSchema)
    enterprise = fields.Nested(EnterpriseRefSchema)
    certificate = fields.Nested(CertificateSchema, allow_none=True)
    authorizations = fields.List(fields.Nested(AuthorizationSchema))

    def get_certificate(self, s):
        return s.enterprise.certificate


class CertifiedShopPageSchema(PageSchema):
    changes_cursor = fields.String(metadata={
        "description": "变更事件的游标：下载完整列表后，从这里开始请求 /api/v1/changes?since=…（以第 1 页的为准）"})
    results = fields.List(fields.Nested(CertifiedShopSchema))


class EventEnterpriseSchema(Answer):
    """The enterprise an event concerns, as it was then; ``url`` is its page (404 while not public)."""

    id = fields.Integer()
    name = fields.String()
    display_name = fields.String()
    uscc = fields.String()
    url = Link()

    def get_url(self, facts):
        return linking.url("public.enterprise", enterprise_id=facts["id"])


class EventShopSchema(Answer):
    """The shop an event concerns, as it was then."""

    id = fields.Integer()
    name = fields.String()
    url = fields.String()
    shop_type = fields.String()
    platform = fields.Nested(PlatformRefSchema)


class ChangeEventSchema(Answer):
    """One certification event (``models.CertificationEvent``)."""

    id = fields.Integer()
    type = fields.String(validate=OneOf(EventType.ALL), metadata={
        "description": "certified 认证生效；suspended 暂停；revoked 撤销（含商家删除已认证店铺）；expired 证书过期；"
                       "reinstated 恢复；authorization_withdrawn 品牌授权被撤回或到期，该店铺已暂停"})
    at = UtcTime()
    enterprise = fields.Nested(EventEnterpriseSchema)
    shop = fields.Nested(EventShopSchema, allow_none=True, metadata={"description": "null 表示整个企业（其全部店铺）"})
    certificate = fields.String(allow_none=True, metadata={"description": "当时的证书编号"})


class ChangesSchema(Answer):
    """A batch of events after the cursor, oldest first, and the cursor for the next request."""

    events = fields.List(fields.Nested(ChangeEventSchema))
    next = fields.String(metadata={"description": "下一次请求的 since；没有新事件时与本次相同"})


# --------------------------------------------------------------------------- search
# ``/api/v1/search`` and ``/api/v1/suggest`` are served by ``views/search.py``, which builds
# these shapes itself; the schemas here document them (open: new keys may appear).

class SearchResultSchema(Open):
    kind = fields.String(validate=OneOf(["enterprise", "shop", "platform"]))
    id = fields.Integer()
    name = fields.String()
    url = fields.String()
    highlight = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    industries = fields.List(fields.String())
    platform = fields.String(allow_none=True)


class FacetValueSchema(Open):
    value = fields.String()
    count = fields.Integer()


class SearchFacetsSchema(Open):
    industry = fields.List(fields.Nested(FacetValueSchema))
    city = fields.List(fields.Nested(FacetValueSchema))
    region = fields.List(fields.Nested(FacetValueSchema))
    platform = fields.List(fields.Nested(FacetValueSchema))
    shop_type = fields.List(fields.Nested(FacetValueSchema))
    badge = fields.List(fields.Nested(FacetValueSchema))


class SearchResponseSchema(Open):
    query = fields.String()
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    results = fields.List(fields.Nested(SearchResultSchema))
    facets = fields.Nested(SearchFacetsSchema)
    suggestion = fields.String(allow_none=True)
    partial = fields.Boolean(metadata={"description": "没有完全匹配的结果时为 true：结果只包含部分关键词"})
    synonyms = fields.List(fields.String(), metadata={"description": "本次搜索同时查找并用到的同义词"})


class SuggestionSchema(Open):
    text = fields.String()
    kind = fields.String()
    url = fields.String()


class SuggestResponseSchema(Open):
    suggestions = fields.List(fields.Nested(SuggestionSchema), metadata={"maxItems": 10})
