"""Reducing a pasted link to a *shop identity* (platform family + shop id / seller id / shop
sub-domain), per platform, without any network access; spotting short links and pulling the URL
out of a share text.

Pure string work, no database: the lookup compares the identity of the query with the identity
of each stored shop URL, so every URL form of the same shop matches.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from ...validation.urls import host_matches


# Hosts whose links only redirect elsewhere; resolving them needs a network fetch.
SHORT_LINK_HOSTS = (
    "tb.cn", "u.jd.com", "3.cn", "url.cn", "v.douyin.com", "v.kuaishou.com", "s.click.taobao.com",
    "union-click.jd.com", "p.pinduoduo.com", "t.cn", "dwz.cn", "suo.im", "qr.alibaba.com",
    "qr.1688.com", "xhslink.com", "b23.tv", "bit.ly", "t.co", "tinyurl.com", "sourl.cn",
)

_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'「」【】《》（）()，。！、；]+", re.IGNORECASE)
_BARE_URL_IN_TEXT = re.compile(
    r"(?<![\w.-])((?:[a-z0-9-]+\.)+(?:com|cn|hk|net)(?:/[^\s<>\"'「」【】《》（）()，。！、；]*)?)",
    re.IGNORECASE,
)
_CERT_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9-]{2,19}")
_DIGITS = re.compile(r"\d{1,20}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,80}")

# Sub-domains that are platform services, not shops (``detail.tmall.com`` is not a shop).
_GENERIC_LABELS = {
    "www", "m", "h5", "wap", "detail", "item", "items", "shop", "store", "list", "s", "search",
    "pages", "page", "login", "passport", "chaoshi", "market", "world", "buy", "cart", "trade",
    "i", "my", "home", "mall", "help", "service", "api", "img", "static", "pre-wormhole",
    "wormhole", "ai", "huodong", "pro", "sale", "re", "so", "global", "en", "mobile", "haohuo",
    "product", "goods", "offer", "dj", "npcitem", "jd", "ju", "fx", "aliexpress", "app",
    "main", "promotion", "activity", "act", "jinritemai", "winport", "air", "web", "live",
}


@dataclass
class ShopIdentity:
    """What a link says about a shop without fetching it.

    ``key`` is comparable across desktop/mobile/share forms; ``token`` is a substring every
    stored URL of that shop is likely to contain (used to narrow the database search).
    """

    key: tuple[str, str] | None
    token: str
    product_page: bool = False


def _params(query: str) -> dict[str, str]:
    """Query parameters with lower-cased names (the first value wins)."""
    out: dict[str, str] = {}
    for k, v in parse_qsl(query, keep_blank_values=False):
        out.setdefault(k.lower().replace("-", "_"), v.strip())
    return out


def _first_param(params: dict[str, str], names: tuple[str, ...], pattern=_DIGITS) -> str | None:
    for name in names:
        value = params.get(name)
        if value and pattern.fullmatch(value):
            return value
    return None


def _shop_label(host: str, suffix: str) -> str | None:
    """The shop's own label of ``<shop>.<suffix>`` or ``<shop>.m.<suffix>``, if there is one."""
    if host == suffix or not host.endswith("." + suffix):
        return None
    labels = host[: -len(suffix) - 1].split(".")
    labels = [lb for lb in labels if lb not in ("m", "wap", "h5", "www")] or []
    if len(labels) != 1:
        return None
    label = labels[0]
    if label in _GENERIC_LABELS or not _TOKEN.fullmatch(label):
        return None
    return label


def shop_identity(url: str) -> ShopIdentity:
    """Reduce a normalised URL to the identity of the shop it shows (see the module doc)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path or "/"
    params = _params(parts.query)

    # Alibaba retail: Tmall, Taobao, Tmall Global share shop and seller ids.
    if host_matches(host, ["tmall.com", "tmall.hk", "taobao.com", "tb.cn", "liangxinyao.com"]):
        shop_id = _first_param(params, ("shop_id", "shopid"))
        if shop_id:
            return ShopIdentity(("ali-shop", shop_id), shop_id)
        m = re.fullmatch(r"shop(\d+)(?:\.m|\.wap)?\.taobao\.com", host)
        if m:
            return ShopIdentity(("ali-shop", m.group(1)), m.group(1))
        seller = _first_param(params, ("user_number_id", "usernumberid", "seller_id", "sellerid",
                                       "user_id", "userid"))
        if seller:
            return ShopIdentity(("ali-seller", seller), seller)
        for suffix, family in (("tmall.com", "tmall-sub"), ("tmall.hk", "tmallhk-sub"),
                               ("taobao.com", "taobao-sub")):
            label = _shop_label(host, suffix)
            if label:
                return ShopIdentity((family, label), label)
        item = _first_param(params, ("id", "item_id", "itemid"))
        if item and ("item" in path or "detail" in path or host.startswith(("detail.", "item."))):
            return ShopIdentity(None, item, product_page=True)

    elif host_matches(host, ["jd.com", "jd.hk"]):
        shop_id = _first_param(params, ("shopid", "shop_id"))
        if shop_id:
            return ShopIdentity(("jd-shop", shop_id), shop_id)
        m = re.search(r"/index-(\d+)\.html?$", path)
        if m and host.startswith("mall."):
            return ShopIdentity(("jd-shop", m.group(1)), m.group(1))
        vender = _first_param(params, ("venderid", "vender_id", "vendorid", "vendor_id"))
        if vender:
            return ShopIdentity(("jd-vender", vender), vender)
        if host.startswith(("item.", "item.m.", "npcitem.")) or re.search(r"/product/\d+\.html?$", path):
            return ShopIdentity(None, "", product_page=True)
        for suffix in ("jd.com", "jd.hk"):
            label = _shop_label(host, suffix)
            if label:
                return ShopIdentity(("jd-sub", label), label)

    elif host_matches(host, ["pinduoduo.com", "yangkeduo.com"]):
        mall = _first_param(params, ("mall_id", "mallid"))
        if mall:
            return ShopIdentity(("pdd-mall", mall), mall)
        if "goods" in path or _first_param(params, ("goods_id", "goodsid")):
            return ShopIdentity(None, "", product_page=True)

    elif host_matches(host, ["jinritemai.com", "douyin.com"]):
        shop = _first_param(params, ("shop_id", "shopid"), _TOKEN)
        if not shop and "/shop" in path:
            shop = _first_param(params, ("id",), _TOKEN)
        if shop:
            return ShopIdentity(("douyin-shop", shop), shop)
        if "/product" in path or "/goods" in path:
            return ShopIdentity(None, "", product_page=True)

    elif host_matches(host, ["kuaishou.com", "kwaixiaodian.com"]):
        shop = _first_param(params, ("shopid", "shop_id", "sellerid", "seller_id"), _TOKEN)
        if not shop and "/shop" in path:
            shop = _first_param(params, ("id",), _TOKEN)
        if shop:
            return ShopIdentity(("ks-shop", shop), shop)

    elif host_matches(host, ["1688.com"]):
        member = _first_param(params, ("memberid", "member_id"), _TOKEN)
        m = re.search(r"/winport/([A-Za-z0-9_-]+)\.html?$", path)
        if not member and m:
            member = m.group(1)
        if member:
            return ShopIdentity(("1688-member", member), member)
        if "/offer/" in path:
            return ShopIdentity(None, "", product_page=True)
        label = _shop_label(host, "1688.com")
        if label:
            family = "1688-member" if label.startswith("b2b-") else "1688-sub"
            return ShopIdentity((family, label), label)

    elif host_matches(host, ["suning.com"]):
        m = re.search(r"(?:^|/)(\d{6,12})(?:/|\.html?|$)", path)
        if m and host.startswith(("shop.", "shop.m.", "m.")):
            return ShopIdentity(("suning-shop", m.group(1)), m.group(1))
        if host.startswith("product."):
            return ShopIdentity(None, "", product_page=True)

    elif host_matches(host, ["aliexpress.com", "aliexpress.us"]):
        store = _first_param(params, ("storeid", "store_id", "selleradminseq"))
        m = re.search(r"/store/(?:[a-z]+/)?(\d+)", path)
        if not store and m:
            store = m.group(1)
        if store:
            return ShopIdentity(("ae-store", store), store)
        if "/item/" in path:
            return ShopIdentity(None, "", product_page=True)

    elif host_matches(host, ["alibaba.com"]):
        labels = [lb for lb in host[: -len("alibaba.com") - 1].split(".") if lb not in ("m", "en", "www")] \
            if host.endswith(".alibaba.com") else []
        if len(labels) == 1 and labels[0] not in _GENERIC_LABELS:
            return ShopIdentity(("alibaba-sub", labels[0]), labels[0])
        if "/product-detail/" in path:
            return ShopIdentity(None, "", product_page=True)

    # Anything else (own sites, platforms without special forms): host without the mobile or
    # www prefix, path without a trailing slash or index page, and the remaining query.
    generic_host = re.sub(r"^(?:www|m|wap|h5|mobile)\.", "", host)
    generic_path = re.sub(r"/(?:index\.(?:html?|php|aspx?))?$", "", path) or ""
    query = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return ShopIdentity(("url", f"{generic_host}{generic_path}?{query}"), generic_host)


def is_short_link(url: str) -> bool:
    """True for a link shortener or share redirect host (its target needs a network fetch)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    for entry in SHORT_LINK_HOSTS:
        entry_host, _, entry_path = entry.partition("/")
        if host_matches(host, [entry_host]) and (not entry_path or parts.path.startswith("/" + entry_path)):
            return True
    return False


def extract_url(text: str) -> str:
    """The first link in pasted share text, or the text itself when it is just a link."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if not text:
        return ""
    if not any(ch.isspace() for ch in text) and not _has_cjk(text):
        return text
    m = _URL_IN_TEXT.search(text)
    if m:
        return m.group(0).rstrip(".,;:!?")
    m = _BARE_URL_IN_TEXT.search(text)
    if m:
        return m.group(1).rstrip(".,;:!?")
    return text


def _has_cjk(text: str) -> bool:
    return any("\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in text)
