"""Query arguments of the public API as marshmallow schemas: webargs parses each request with
them (through flask-smorest's ``@bp.arguments``) and the OpenAPI document lists them.

Parsing is strict, unlike the site's pages: an unknown filter value is a 400. Each bad value has
its own Chinese message; when several are bad, the first field in the schema's order decides
(``first_error``), so the order of the fields below is part of the API.
"""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, missing, post_load, validates_schema
from marshmallow.validate import Length, OneOf, Range
from sqlalchemy import select

from ..extensions import db
from ..models import Badge, City, Industry, Platform, ShopType
from ..services.reference_data import REGIONS

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_PAGE = 100_000
MAX_ID = 2_147_483_647
MAX_TEXT = 100
SORTS = ("newest", "name", "popular")
# Filled in with today's slugs when the document is served (``openapi.document``).
CHOICES_FROM_DATABASE = "x-choices-from-database"


class Text(fields.String):
    """A query value: a NUL or more than 100 characters is refused, surrounding spaces are
    dropped, and a blank value counts as absent (``load_default``)."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if isinstance(value, str):
            if "\x00" in value or len(value) > MAX_TEXT:
                raise ValidationError(f"参数 {self.name} 无效。")
            value = value.strip() or missing
        return super().deserialize(value, attr, data, **kwargs)


class Slug(Text):
    """The slug of a row of ``model`` (an active one, where the model has ``active``); loads as
    the row, or fails with ``unknown`` (``{input}`` is the value). The document lists the slugs
    that exist when it is served."""

    def __init__(self, model, unknown: str, **kwargs):
        metadata = {**kwargs.pop("metadata", {}), CHOICES_FROM_DATABASE: True}
        super().__init__(metadata=metadata, **kwargs)
        self.model = model
        self.unknown = unknown

    def _query(self):
        q = select(self.model)
        if hasattr(self.model, "active"):
            q = q.where(self.model.active.is_(True))
        return q

    def _deserialize(self, value, attr, data, **kwargs):
        row = db.session.scalar(self._query().where(self.model.slug == value))
        if row is None:
            raise ValidationError(self.unknown.format(input=value))
        return row

    def choices(self) -> list[str]:
        return sorted(db.session.scalars(self._query().with_only_columns(self.model.slug)))


class Whole(fields.Integer):
    """A whole number from ``low`` to ``high`` in ASCII digits; blank means the default."""

    def __init__(self, low: int, high: int, label: str, **kwargs):
        self.message = f"{label}必须是 {low} 到 {high} 之间的整数。"
        super().__init__(validate=Range(low, high, error=self.message), **kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if isinstance(value, str) and not value.strip():
            value = missing
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        raw = value.strip()
        if not raw.isascii() or not raw.isdigit() or len(raw) > 7:
            raise ValidationError(self.message)
        return int(raw)


class RecordId(Text):
    """A record number (documented as an integer from 1); 0 is accepted and matches nothing."""

    def __init__(self, label: str, **kwargs):
        metadata = {"type": "integer", "minimum": 1, "maximum": MAX_ID, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)
        self.message = f"{label}必须是正整数。"

    def _deserialize(self, value, attr, data, **kwargs):
        if not value.isascii() or not value.isdigit() or len(value) > 10 or int(value) > MAX_ID:
            raise ValidationError(self.message)
        return int(value)


class DirectoryArgs(Schema):
    """Filters, order and page of ``/enterprises`` (and ``/shops``), checked in this order."""

    industry = Slug(Industry, "未知的行业：{input}。可用的值见 /api/v1/industries。",
                    metadata={"description": "行业 slug（见 /api/v1/industries）"})
    city = Slug(City, "未知的城市：{input}。可用的值见 /api/v1/cities。",
                metadata={"description": "城市 slug（见 /api/v1/cities）"})
    region = Text(validate=OneOf(REGIONS, error=f"未知的区域：{{input}}。可用的值：{'、'.join(REGIONS)}。"),
                  metadata={"description": f"区域：{'、'.join(REGIONS)}"})
    platform = Slug(Platform, "未知的平台：{input}。可用的值见 /api/v1/platforms。",
                    metadata={"description": "平台 slug（见 /api/v1/platforms）"})
    shop_type = Text(validate=OneOf(
        ShopType.ALL, error=f"未知的店铺类型：{{input}}。可用的值：{'、'.join(ShopType.ALL)}。"),
        metadata={"description": "店铺类型"})
    badge = Slug(Badge, "未知的荣誉标识：{input}。", metadata={"description": "荣誉标识 slug"})
    sort = Text(load_default="newest", validate=OneOf(SORTS, error=f"排序方式只能是 {'、'.join(SORTS)}。"),
                metadata={"description": "排序：newest 最新认证（店铺为最新收录），name 名称拼音，popular 最多访问"})
    page = Whole(1, MAX_PAGE, "页码 page ", load_default=1, metadata={"description": "页码，从 1 开始"})
    per_page = Whole(1, MAX_PER_PAGE, "每页数量 per_page ", load_default=DEFAULT_PER_PAGE,
                     metadata={"description": f"每页数量，最多 {MAX_PER_PAGE}"})

    @validates_schema(skip_on_field_errors=False)
    def _city_in_region(self, data, **kwargs):
        city, region = data.get("city"), data.get("region")
        if city is not None and region is not None and city.region != region:
            raise ValidationError("城市不在所选区域内。", "region")


class ProductArgs(Schema):
    """Filters and page of ``/products`` (newest approved first)."""

    industry = DirectoryArgs._declared_fields["industry"]
    city = DirectoryArgs._declared_fields["city"]
    platform = DirectoryArgs._declared_fields["platform"]
    enterprise = RecordId("企业编号 enterprise ", metadata={"description": "只列出这家企业的商品"})
    page = Whole(1, MAX_PAGE, "页码 page ", load_default=1, metadata={"description": "页码，从 1 开始"})
    per_page = Whole(1, MAX_PER_PAGE, "每页数量 per_page ", load_default=DEFAULT_PER_PAGE,
                     metadata={"description": f"每页数量，最多 {MAX_PER_PAGE}"})


class ShopArgs(DirectoryArgs):
    """``/shops`` takes the directory's arguments and one enterprise."""

    enterprise = RecordId("企业编号 enterprise ", metadata={"description": "只看某企业的店铺（企业编号）"})


class VerifyArgs(Schema):
    """Exactly one of these, passed on as given; loads as ``(key, value)``. A new kind of query
    is one more field here (and a kind that ``services.verify.verify`` knows)."""

    q = fields.String(metadata={"description": "任意内容，自动识别是链接、证书编号、代码还是名称", "maxLength": 4000})
    url = fields.String(metadata={"description": "店铺网址（可带跟踪参数，或整段分享文字）", "maxLength": 4000})
    certificate = fields.String(metadata={"description": "证书编号", "maxLength": 40})
    uscc = fields.String(metadata={"description": "统一社会信用代码", "maxLength": 40})
    name = fields.String(metadata={"description": "品牌或企业名称", "maxLength": 200})

    @validates_schema(skip_on_field_errors=False)
    def _exactly_one(self, data, **kwargs):
        given = [value for value in data.values() if value.strip()]
        if len(given) != 1:
            count = "零一两三四五六七八九"[len(self.fields)]
            raise ValidationError(f"请提供 {'、'.join(self.fields)} {count}个参数中的一个。")
        if len(given[0]) > 4000 or "\x00" in given[0]:
            raise ValidationError("参数过长或含有不允许的字符。")

    @post_load
    def _key_and_value(self, data, **kwargs) -> tuple[str, str]:
        return next((kind, value) for kind, value in data.items() if value.strip())


MAX_CURSOR = 2**63 - 1
MAX_CHANGES = 1000
MAX_SHOPS_PER_PAGE = 1000


class Cursor(Text):
    """A changes-feed cursor: the ``next`` of an earlier answer (documented as a string of digits;
    clients should treat it as opaque)."""

    def __init__(self, **kwargs):
        metadata = {"pattern": "^[0-9]{1,19}$", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not value.isascii() or not value.isdigit() or len(value) > 19 or int(value) > MAX_CURSOR:
            raise ValidationError("游标 since 无效：请使用上一次返回的 next（第一次请求不带 since）。")
        return int(value)


class ChangesArgs(Schema):
    """Where to continue the changes feed, and how many events at most."""

    since = Cursor(load_default=0, metadata={"description": "上一次返回的 next；不带时从第一条事件开始"})
    limit = Whole(1, MAX_CHANGES, "每次数量 limit ", load_default=100,
                  metadata={"description": f"最多返回多少条事件（1–{MAX_CHANGES}，默认 100）"})


class CertifiedShopsArgs(Schema):
    """A page of the full list of certified shops."""

    page = Whole(1, MAX_PAGE, "页码 page ", load_default=1, metadata={"description": "页码，从 1 开始"})
    per_page = Whole(1, MAX_SHOPS_PER_PAGE, "每页数量 per_page ", load_default=500,
                     metadata={"description": f"每页数量，最多 {MAX_SHOPS_PER_PAGE}，默认 500"})


def first_error(messages: dict, schema: Schema) -> str:
    """The message of the first bad field in ``schema``'s order (then a whole-schema message)."""
    for name in [*schema.fields, "_schema"]:
        if name in messages:
            found = messages[name]
            while not isinstance(found, str):
                found = found[0] if isinstance(found, list) else next(iter(found.values()))
            return found
    return "参数无效。"


# --------------------------------------------------------------------------- search
# ``/api/v1/search`` and ``/api/v1/suggest`` parse their own arguments (``views/search.py``,
# shared with the /search page); these schemas document them.

class SearchArgs(Schema):
    q = fields.String(validate=Length(max=256),
                      metadata={"description": "搜索词：中文、拼音、拼音首字母或繁体"})
    kind = fields.String(validate=OneOf(["enterprise", "shop", "product", "platform"]),
                         metadata={"description": "结果类型"})
    industry = fields.String(metadata={"maxLength": 80, "description": "行业"})
    city = fields.String(metadata={"maxLength": 80, "description": "城市"})
    region = fields.String(metadata={"maxLength": 80, "description": "区域"})
    platform = fields.String(metadata={"maxLength": 80, "description": "平台"})
    shop_type = fields.String(metadata={"maxLength": 80, "description": "店铺类型"})
    badge = fields.String(metadata={"maxLength": 80, "description": "荣誉标识"})
    sort = fields.String(metadata={"maxLength": 80, "description": "排序"})
    page = fields.Integer(validate=Range(1, MAX_PAGE), metadata={"description": "页码"})
    per_page = fields.Integer(validate=Range(1, MAX_PER_PAGE), metadata={"description": "每页数量，最多 100"})


class SuggestArgs(Schema):
    q = fields.String(validate=Length(max=256), metadata={"description": "前缀：汉字、拼音或首字母"})
