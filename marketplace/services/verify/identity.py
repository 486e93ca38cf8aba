"""Reducing a link to a *shop identity* (a family + the shop id, seller id or shop sub-domain),
per platform, without any network access; spotting short links and pulling the URL out of a
share text.

Pure string work, no database. Which platform a host belongs to comes from the reference data
(``Platform.host_list``, loaded from ``data/platforms.csv``); how each platform writes a shop
into its links is the table ``RULES`` below, keyed by platform slug. The lookup compares the
identity of the query with the identity of each stored shop URL, so every URL form of the same
shop matches (``midea.tmall.com`` and ``midea.m.tmall.com``; ``mall.jd.com/index-1000.html`` and
``shop.m.jd.com/?shopId=1000``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl

from ...validation.urls import SERVICE_LABELS, WebUrl, host_matches

# Hosts whose links only redirect elsewhere; resolving them needs a network fetch.
SHORT_LINK_HOSTS = (
    "tb.cn", "u.jd.com", "3.cn", "url.cn", "v.douyin.com", "v.kuaishou.com", "s.click.taobao.com",
    "union-click.jd.com", "p.pinduoduo.com", "t.cn", "dwz.cn", "suo.im", "qr.alibaba.com",
    "qr.1688.com", "xhslink.com", "b23.tv", "bit.ly", "t.co", "tinyurl.com", "sourl.cn",
)

URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'「」【】《》（）()，。！、；]+", re.IGNORECASE)
_BARE_URL_IN_TEXT = re.compile(
    r"(?<![\w.-])((?:[a-z0-9-]+\.)+(?:com|cn|hk|net)(?:/[^\s<>\"'「」【】《》（）()，。！、；]*)?)",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d{1,20}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,80}")
_MOBILE_LABELS = ("m", "wap", "h5", "www", "en")


@dataclass
class ShopIdentity:
    """What a link says about a shop without fetching it.

    ``key`` is comparable across desktop/mobile/share forms; ``token`` is a substring every
    stored URL of that shop is likely to contain (used to narrow the database search).
    """

    key: tuple[str, str] | None
    token: str
    product_page: bool = False


@dataclass(frozen=True)
class IdForm:
    """One way a platform's links name a shop (or a product): a query parameter, or a regex over
    ``host + path`` whose first group is the id. ``where`` (a regex over ``host + path``) limits
    the form to the links it matches."""

    params: tuple[str, ...] = ()
    regex: str = ""
    family: str = ""
    token: bool = False  # ids are letters/digits/-/_ rather than digits only
    where: str = ""


@dataclass(frozen=True)
class PlatformRule:
    """How one platform writes a shop into its links: id forms tried in order, then the shop's
    own sub-domain (``<shop>.tmall.com``), then the forms of a product page (no shop in it)."""

    ids: tuple[IdForm, ...] = ()
    sub_domains: bool = False
    products: tuple[IdForm, ...] = ()


# Tmall and Taobao share shop and seller ids (a Taobao shop also lives at ``shop<id>.taobao.com``).
_ALI_SHOP = IdForm(("shop_id", "shopid"), family="ali-shop")
_ALI_SELLER = IdForm(("user_number_id", "usernumberid", "seller_id", "sellerid", "user_id", "userid"),
                     family="ali-seller")
_ALI_ITEM = IdForm(("id", "item_id", "itemid"), where=r"^(?:detail|item)\.|/.*(?:item|detail)")

# Platform slug (``data/platforms.csv``) -> how its links name a shop. Platforms not listed here
# (唯品会, 得物, own sites) compare by host and path.
RULES: dict[str, PlatformRule] = {
    "tmall": PlatformRule(ids=(_ALI_SHOP, _ALI_SELLER), sub_domains=True, products=(_ALI_ITEM,)),
    "taobao": PlatformRule(
        ids=(_ALI_SHOP, IdForm(regex=r"^shop(\d+)\.", family="ali-shop"), _ALI_SELLER),
        sub_domains=True, products=(_ALI_ITEM,)),
    "jd": PlatformRule(
        ids=(IdForm(("shopid", "shop_id"), family="jd-shop"),
             IdForm(regex=r"^mall\.[^/]*/(?:.*/)?index-(\d+)\.html?$", family="jd-shop"),
             IdForm(("venderid", "vender_id", "vendorid", "vendor_id"), family="jd-vender")),
        sub_domains=True,
        products=(IdForm(regex=r"^((?:item|npcitem)\.)"), IdForm(regex=r"/product/(\d+)\.html?$"))),
    "pinduoduo": PlatformRule(
        ids=(IdForm(("mall_id", "mallid"), family="pdd-mall"),),
        products=(IdForm(("goods_id", "goodsid")), IdForm(regex=r"/.*(goods)"))),
    "douyin": PlatformRule(
        ids=(IdForm(("shop_id", "shopid"), family="douyin-shop", token=True),
             IdForm(("id",), family="douyin-shop", token=True, where="/shop")),
        products=(IdForm(regex=r"(/product|/goods)"),)),
    "kuaishou": PlatformRule(
        ids=(IdForm(("shopid", "shop_id", "sellerid", "seller_id"), family="ks-shop", token=True),
             IdForm(("id",), family="ks-shop", token=True, where="/shop"))),
    "alibaba1688": PlatformRule(
        ids=(IdForm(("memberid", "member_id"), family="1688-member", token=True),
             IdForm(regex=r"/winport/([A-Za-z0-9_-]+)\.html?$", family="1688-member"),
             IdForm(regex=r"^(b2b-[a-z0-9_-]+)\.", family="1688-member")),
        sub_domains=True, products=(IdForm(regex=r"(/offer/)"),)),
    "suning": PlatformRule(
        ids=(IdForm(regex=r"^(?:shop\.|m\.)[^/]*/(?:.*?/)?(\d{6,12})(?:/|\.html?|$)", family="suning-shop"),),
        products=(IdForm(regex=r"^(product)\."),)),
    "aliexpress": PlatformRule(
        ids=(IdForm(("storeid", "store_id", "selleradminseq"), family="ae-store"),
             IdForm(regex=r"/store/(?:[a-z]+/)?(\d+)", family="ae-store")),
        products=(IdForm(regex=r"(/item/)"),)),
    "alibaba": PlatformRule(sub_domains=True, products=(IdForm(regex=r"(/product-detail/)"),)),
}


class PlatformHosts(Protocol):
    """What identity needs of a platform: its slug and its hosts (a ``Platform`` row)."""

    slug: str
    host_list: list[str]


def params_of(query: str) -> dict[str, str]:
    """Query parameters with lower-cased names (the first value wins)."""
    out: dict[str, str] = {}
    for k, v in parse_qsl(query, keep_blank_values=False):
        out.setdefault(k.lower().replace("-", "_"), v.strip())
    return out


def shop_label(host: str, suffix: str) -> str | None:
    """The shop's own label of ``<shop>.<suffix>`` or ``<shop>.m.<suffix>``, if there is one."""
    if not host.endswith("." + suffix):
        return None
    labels = [lb for lb in host[: -len(suffix) - 1].split(".") if lb not in _MOBILE_LABELS]
    if len(labels) != 1 or labels[0] in SERVICE_LABELS or not _TOKEN.fullmatch(labels[0]):
        return None
    return labels[0]


def _find_id(form: IdForm, url: WebUrl, params: dict[str, str]) -> str | None:
    """The id ``form`` reads from the URL, or None."""
    where = url.host + url.path
    if form.where and not re.search(form.where, where):
        return None
    pattern = _TOKEN if form.token else _DIGITS
    for name in form.params:
        value = params.get(name)
        if value and pattern.fullmatch(value):
            return value
    if form.regex:
        m = re.search(form.regex, where)
        return m.group(1) if m else None
    return None


def _platform_identity(rule: PlatformRule, suffix: str, url: WebUrl) -> ShopIdentity | None:
    """Apply one platform's rule to a URL on one of its hosts (``suffix``)."""
    params = params_of(url.query)
    for form in rule.ids:
        value = _find_id(form, url, params)
        if value:
            return ShopIdentity((form.family, value), value)
    if rule.sub_domains:
        label = shop_label(url.host, suffix)
        if label:
            return ShopIdentity((f"sub:{suffix}", label), label)
    if any(_find_id(form, url, params) for form in rule.products):
        return ShopIdentity(None, "", product_page=True)
    return None


def platform_of(host: str, platforms: list[PlatformHosts]) -> tuple[PlatformHosts, str] | None:
    """The platform whose hosts include ``host``, with the matching host."""
    for p in platforms:
        for allowed in p.host_list:
            if host_matches(host, [allowed]):
                return p, allowed
    return None


def shop_identity(url: WebUrl, platforms: list[PlatformHosts]) -> ShopIdentity:
    """Reduce a parsed URL to the identity of the shop it shows (see the module doc).

    Hosts on no platform, and platforms without a rule, compare by host without the mobile or
    www prefix, path without a trailing slash or index page, and the remaining query. Their
    token is that host and path: every stored URL of the shop contains it (links carry no port
    or user info), and the host alone matched every shop of a platform (1,500 shops loaded and
    parsed for one check of a list.vip.com link).
    """
    found = platform_of(url.host, platforms)
    if found is not None and found[0].slug in RULES:
        ident = _platform_identity(RULES[found[0].slug], found[1], url)
        if ident is not None:
            return ident
    generic_host = re.sub(r"^(?:www|m|wap|h5|mobile)\.", "", url.host)
    generic_path = re.sub(r"/(?:index\.(?:html?|php|aspx?))?$", "", url.path)
    query = "&".join(f"{k}={v}" for k, v in sorted(params_of(url.query).items()))
    return ShopIdentity(("url", f"{generic_host}{generic_path}?{query}"), f"{generic_host}{generic_path}")


def is_short_link(url: WebUrl) -> bool:
    """True for a link shortener or share redirect host (its target needs a network fetch)."""
    return host_matches(url.host, list(SHORT_LINK_HOSTS))


def extract_url(text: str) -> str:
    """The first link in pasted share text, or the text itself when it is just a link."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if not text:
        return ""
    if not any(ch.isspace() for ch in text) and not has_cjk(text):
        return text
    m = URL_IN_TEXT.search(text)
    if m:
        return m.group(0).rstrip(".,;:!?")
    m = _BARE_URL_IN_TEXT.search(text)
    if m:
        return m.group(1).rstrip(".,;:!?")
    return text


def looks_like_link(text: str) -> bool:
    """True when pasted text holds a web address (or is one): else it is a name to look up."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if URL_IN_TEXT.search(text) or _BARE_URL_IN_TEXT.search(text):
        return True
    return not has_cjk(text) and not any(ch.isspace() for ch in text) and any(ch in text for ch in ".:/")


def has_cjk(text: str) -> bool:
    return any("\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in text)
