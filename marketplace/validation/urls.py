"""Shop and website URLs, parsed the way browsers parse them.

``parse_web_url`` is the one place a URL typed by a person becomes a URL we store, check or
redirect to. It uses the WHATWG URL Standard's parser (``ada-url``, the parser of Node.js; the
standard is what browsers implement), takes the host and the serialisation from it, and refuses
everything on which a browser and a naive reading could disagree: backslashes, percent-encoded or
forbidden host characters, user info, IP-literal hosts, ports, trailing dots, and punycode or
mixed-script host names. Python's ``urlsplit`` reads ``https://evil.example\\.tmall.com/`` as a
``tmall.com`` host where a browser opens ``evil.example``: that is why nothing here uses it to
find a host.

On top of it: ``validate_shop_url`` (the host belongs to the shop's platform and the URL is not
the platform's home page) and ``shop_url_problem`` (the same check for a URL that is already
stored: review checks, ``/go/`` and ``flask check-urls``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode

from ada_url import HostType, idna_to_unicode, parse_url

from . import ValidationError

MAX_URL_LENGTH = 2000

# Query parameters that only track the visitor; they are dropped so one shop has one URL.
TRACKING_PARAMS = {
    "spm", "scm", "pvid", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "from", "share_from", "share_token", "sharer", "ut_sk", "sourcetype", "suid", "un", "share_crt_v",
    "sp_tk", "cpp", "shareurl", "short_name", "app", "bxsign", "tbsocial", "tk", "ttid", "_u",
    "clickid", "gclid", "fbclid", "refer_page_name", "refer_page_id", "page_from", "abbucket",
    "sku_properties", "xxc", "mm_sycmid", "wh_weex", "spm_id_from", "_wv", "ali_refid",
    "ali_trackid", "pdd_from", "refer_share_id", "refer_share_uid", "refer_share_channel",
    "share_uin", "sharer_uin", "sourcefrom", "u_code", "timestamp", "utm_id", "source",
}

# Sub-domains that are a platform's own services, not shops (``detail.tmall.com``, ``www.jd.com``).
SERVICE_LABELS = frozenset({
    "www", "m", "h5", "wap", "detail", "item", "items", "shop", "store", "list", "s", "search",
    "pages", "page", "login", "passport", "chaoshi", "market", "world", "buy", "cart", "trade",
    "i", "my", "home", "mall", "help", "service", "api", "img", "static", "pre-wormhole",
    "wormhole", "ai", "huodong", "pro", "sale", "re", "so", "global", "en", "mobile", "haohuo",
    "product", "goods", "offer", "dj", "npcitem", "jd", "ju", "fx", "aliexpress", "app",
    "main", "promotion", "activity", "act", "jinritemai", "winport", "air", "web", "live",
})
HOME_PATHS = ("/", "/index.html", "/index.htm", "/index.php")

_SCHEME_AND_AUTHORITY = re.compile(r"^[a-z][a-z0-9+.-]*:/*([^/?#]*)", re.IGNORECASE)
_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True)
class WebUrl:
    """A parsed http(s) URL: ``href`` is what we store and redirect to, ``host`` is the host a
    browser connects to (ASCII, lower case, punycode for IDN), ``path`` and ``query`` without
    their ``?``; the fragment and tracking parameters are gone."""

    href: str
    scheme: str
    host: str
    path: str
    query: str


def _refuse_raw(value: str, field: str) -> None:
    """Refusals on the typed text itself, before any parser sees it."""
    if not value:
        raise ValidationError(f"请填写{field}。")
    if len(value) > MAX_URL_LENGTH:
        raise ValidationError(f"{field}过长。")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp") for ch in value):
        raise ValidationError(f"{field}含有空格或不允许的字符。")
    if "\\" in value:
        raise ValidationError(f"{field}不能含有反斜杠“\\”：浏览器会把它当作“/”，打开的网站可能与看上去的不同。")
    authority = _SCHEME_AND_AUTHORITY.match(value)
    if authority and "@" in authority.group(1):
        raise ValidationError(f"{field}不能包含用户名或密码（“@”前面的部分）。")
    if authority and "%" in authority.group(1):
        raise ValidationError(f"{field}的域名不能含有百分号编码（%）。")


def _with_scheme(value: str) -> str:
    """``shop.tmall.com/...`` typed without a scheme means https."""
    head = value.split("/")[0]
    if "//" not in value and "." in head and ":" not in head:
        return "https://" + value
    return value


def _check_host(parts: dict, field: str) -> str:
    """The host a browser will use, if it is an ordinary domain name we accept."""
    if parts["username"] or parts["password"]:
        raise ValidationError(f"{field}不能包含用户名或密码（“@”前面的部分）。")
    if parts["host_type"] != HostType.DEFAULT:
        raise ValidationError(f"{field}不能使用 IP 地址，请填写域名。")
    if parts["port"]:
        raise ValidationError(f"{field}不能指定端口（:{parts['port']}）。")
    host = parts["hostname"]
    if host.endswith("."):
        raise ValidationError(f"{field}的域名 {host} 末尾多了一个点，请去掉。")
    labels = host.split(".")
    bad = sorted({ch for ch in host if not (ch.isascii() and (ch.isalnum() or ch in ".-"))})
    if bad:
        raise ValidationError(f"{field}的域名含有不允许的字符：{' '.join(bad)}")
    if len(labels) < 2 or not all(_LDH_LABEL.fullmatch(lb) for lb in labels) or labels[-1].isdigit():
        raise ValidationError(f"{field}的域名 {host} 无效。")
    _check_idn(host, field)
    return host


def _check_idn(host: str, field: str) -> None:
    """Punycode labels are accepted only when they decode to Chinese characters (中文域名):
    anything else (Cyrillic ``а`` in ``tmаll.com``, accented Latin) imitates an ASCII name."""
    if "xn--" not in host:
        return
    shown = idna_to_unicode(host)
    if any(label.startswith("xn--") for label in shown.split(".")):
        raise ValidationError(f"{field}的域名 {host} 无效。")
    foreign = [ch for ch in shown if not ch.isascii() and not unicodedata.name(ch, "").startswith("CJK ")]
    if foreign:
        raise ValidationError(
            f"{field}的域名“{shown}”（{host}）含有形似拉丁字母的外文字母“{''.join(dict.fromkeys(foreign))}”，"
            "这是仿冒网站的常见手法，本站不接受这样的网址。")


def _clean_query(search: str) -> str:
    """The query without tracking parameters, in the original order (it never decides the host)."""
    pairs = [(k, v) for k, v in parse_qsl(search.removeprefix("?"), keep_blank_values=True)
             if k.lower() not in TRACKING_PARAMS]
    return urlencode(pairs, doseq=True)


def parse_web_url(raw: str | None, *, field: str = "网址") -> WebUrl:
    """Parse and check an http(s) URL as a browser would; raise ``ValidationError`` (Chinese).

    The result is a fixed point: parsing ``result.href`` again gives the same ``WebUrl``.
    """
    value = _with_scheme((raw or "").strip())
    _refuse_raw(value, field)
    try:
        parts = parse_url(value)
    except ValueError:
        raise ValidationError(f"{field}不是有效的网址，请以 http:// 或 https:// 开头。") from None
    scheme = parts["protocol"].removesuffix(":")
    if scheme not in ("http", "https"):
        raise ValidationError(f"{field}只能以 http:// 或 https:// 开头。")
    host = _check_host(parts, field)
    query = _clean_query(parts["search"])
    href = f"{scheme}://{host}{parts['pathname']}" + (f"?{query}" if query else "")
    again = parse_url(href)
    if again["href"] != href or again["hostname"] != host:
        raise ValidationError(f"{field}无法规范化，请检查是否有多余的符号。")
    if len(href) > MAX_URL_LENGTH:
        raise ValidationError(f"{field}过长。")
    return WebUrl(href=href, scheme=scheme, host=host, path=parts["pathname"], query=query)


def normalize_url(raw: str | None, *, field: str = "网址") -> str:
    """The stored form of a URL (``parse_web_url(...).href``), for website fields."""
    return parse_web_url(raw, field=field).href


@lru_cache(maxsize=4096)
def checked_href(url: str | None) -> str | None:
    """The stored form of ``url`` when it passes today's rules, else None: pages link stored
    websites only through this, so one stored before a rule existed never becomes a link that
    leads somewhere else than it seems. The answer depends on the string alone, and an
    enterprise page asks it twice per shop: kept per process."""
    try:
        return parse_web_url(url).href
    except ValidationError:
        return None


def host_matches(host: str, allowed_hosts: list[str]) -> bool:
    """True when ``host`` (from ``parse_web_url``) is one of ``allowed_hosts`` or a sub-domain.

    ``tmall.com.evil.example`` and ``evil-tmall.com`` do not match ``tmall.com``.
    """
    host = host.lower()
    for allowed in allowed_hosts:
        allowed = allowed.lower().strip()
        if allowed and (host == allowed or host.endswith("." + allowed)):
            return True
    return False


def registrable_domain(host: str) -> str:
    """A rough registrable domain (last two labels, three for ``.com.cn``-style suffixes)."""
    labels = host.lower().split(".")
    if len(labels) >= 3 and labels[-2] in {"com", "net", "org", "gov", "edu"} and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def is_platform_page(url: WebUrl, platform_hosts: list[str]) -> bool:
    """True for a platform's own home page (``https://tmall.com/``, ``https://www.jd.com/``,
    ``https://detail.tmall.com/``): no shop lives there."""
    if url.query or url.path not in HOME_PATHS:
        return False
    for allowed in platform_hosts:
        if host_matches(url.host, [allowed]):
            front = url.host[: -len(allowed)].rstrip(".")
            return all(label in SERVICE_LABELS for label in front.split(".") if label)
    return False


def validate_shop_url(raw: str | None, platform_hosts: list[str], *, platform_name: str,
                      own_site_domain: str | None = None, field: str = "店铺网址") -> str:
    """Parse a shop URL and check that its host belongs to the platform; return the stored form.

    ``platform_hosts`` empty means the platform is an enterprise's own site: then the host must
    belong to ``own_site_domain`` (the enterprise's website) when one is known.
    """
    url = parse_web_url(raw, field=field)
    if platform_hosts:
        if not host_matches(url.host, platform_hosts):
            raise ValidationError(
                f"{field}的域名 {url.host} 不属于{platform_name}（应为 {'、'.join(platform_hosts)}）。")
        if is_platform_page(url, platform_hosts):
            raise ValidationError(
                f"{url.href} 是{platform_name}平台的页面，不是店铺的网址：请打开您的店铺首页，复制地址栏里的完整网址。")
    elif own_site_domain:
        own = registrable_domain(parse_web_url(own_site_domain, field="企业官网").host)
        if not host_matches(url.host, [own]):
            raise ValidationError(f"企业自建商城的网址应在企业官网的域名 {own} 下。")
    return url.href


def shop_url_problem(url: str, platform_hosts: list[str], *, platform_name: str,
                     website: str | None) -> str | None:
    """Why a stored shop URL would be refused today (a Chinese sentence), or None when it passes.

    The same rules as the shop forms and the importer; an own-site shop needs the website.
    """
    try:
        if not platform_hosts and not website:
            raise ValidationError("企业自建商城的网址须在企业官网的域名下，但企业没有填写官网。")
        validate_shop_url(url, platform_hosts, platform_name=platform_name, own_site_domain=website or None)
    except ValidationError as err:
        return str(err)
    return None


@dataclass(frozen=True)
class SiteBase:
    """The site's own canonical base (``SERVER_NAME_FOR_LINKS``): scheme, host and authority (``host[:port]``)."""

    scheme: str
    host: str
    authority: str


def parse_site_base(raw: str) -> SiteBase:
    """``scheme://host[:port]`` of the site itself, read by the same WHATWG parser as every other
    URL. Unlike a shop URL, a port and an IP host are fine here (a dev server on 127.0.0.1:5000);
    a path, query, fragment or user info is not. Raises ``ValidationError`` (in English: operators
    read it in the start-up log)."""
    try:
        parts = parse_url(raw)
    except ValueError:
        raise ValidationError(f"{raw!r} is not a URL") from None
    scheme = parts["protocol"].rstrip(":")
    if (scheme not in ("http", "https") or not parts["hostname"] or parts["pathname"] not in ("", "/")
            or parts["search"] or parts["hash"] or parts["username"] or parts["password"]):
        raise ValidationError(f"{raw!r} is not a base URL")
    return SiteBase(scheme=scheme, host=parts["hostname"], authority=parts["host"])


# Where a platform's URLs name the shop in the path or query (``mall.jd.com/index-<shop>.html``,
# ``product.suning.com/<shop>/<item>.html``): one pattern per platform slug, read from
# ``path?query``; the first group is the shop's key. Platforms whose shops live on their own
# sub-domain (``<shop>.tmall.com``, ``<shop>.1688.com``) need no entry: ``shop_host_label`` finds
# the shop in the host. A product URL that names a shop must name the product's shop.
SHOP_KEY_PATTERNS = {
    "jd": re.compile(r"^/index-(\d+)\.html"),
    "pinduoduo": re.compile(r"^/mall_page\.html\?(?:.*&)?mall_id=([^&]+)"),
    "douyin": re.compile(r"^/views/shop/index\?(?:.*&)?id=([^&]+)"),
    "kuaishou": re.compile(r"^/merchant/shop/detail\?(?:.*&)?id=([^&]+)"),
    "vip": re.compile(r"^/brand-(\d+)\.html"),
    "suning": re.compile(r"^/(\d+)/"),
    "aliexpress": re.compile(r"^/store/(\d+)"),
    "dewu": re.compile(r"^/brand/([^/?]+)"),
}


def shop_host_label(url: WebUrl, platform_hosts: list[str]) -> str | None:
    """The shop's own sub-domain in ``url`` (``jiaoyun`` of ``jiaoyun.tmall.com``, ``xigu.en`` of
    ``xigu.en.alibaba.com``), or None when the host is one of the platform's service hosts."""
    for allowed in platform_hosts:
        if host_matches(url.host, [allowed]):
            front = url.host[: -len(allowed)].rstrip(".")
            labels = [label for label in front.split(".") if label]
            return front if any(label not in SERVICE_LABELS for label in labels) else None
    return None


def shop_key(url: WebUrl, platform_slug: str) -> str | None:
    """The shop a URL names in its path or query on platforms listed in ``SHOP_KEY_PATTERNS``."""
    pattern = SHOP_KEY_PATTERNS.get(platform_slug)
    match = pattern.match(url.path + (f"?{url.query}" if url.query else "")) if pattern else None
    return match.group(1) if match else None


def validate_product_url(raw: str | None, *, shop_url: str, platform_slug: str, platform_hosts: list[str],
                         platform_name: str, website: str | None, field: str = "商品网址") -> str:
    """Check a product page URL against its shop and return the stored form.

    The shop URL rules apply (``validate_shop_url``: WHATWG parsing, the platform's hosts, no
    platform home page, an own site under the enterprise's website); on top of that a URL that
    shows a shop — in its host (``<shop>.tmall.com``) or its path (``SHOP_KEY_PATTERNS``) — must
    show this shop, and the shop's own home page is not a product page.
    """
    if not platform_hosts and not website:
        raise ValidationError("企业自建商城的商品网址须在企业官网的域名下，但企业没有填写官网。")
    href = validate_shop_url(raw, platform_hosts, platform_name=platform_name,
                             own_site_domain=website or None, field=field)
    url, shop = parse_web_url(href, field=field), parse_web_url(shop_url, field="店铺网址")
    wrong = f"{field} {href} 不是本店（{shop.href}）的页面：请在本店内打开商品页面，复制地址栏里的网址。"
    if platform_hosts:
        label = shop_host_label(url, platform_hosts)
        if label is not None and label != shop_host_label(shop, platform_hosts):
            raise ValidationError(wrong)
        key = shop_key(url, platform_slug)
        if key is not None and key != shop_key(shop, platform_slug):
            raise ValidationError(wrong)
    if href == shop.href or (url.host == shop.host and url.path in HOME_PATHS and not url.query):
        raise ValidationError(f"{field} {href} 是店铺首页，不是商品页面：请打开商品页面，复制地址栏里的网址。")
    return href


def product_url_problem(url: str, *, shop_url: str, platform_slug: str, platform_hosts: list[str],
                        platform_name: str, website: str | None) -> str | None:
    """Why a stored product URL would be refused today (a Chinese sentence), or None (``/go/``)."""
    try:
        validate_product_url(url, shop_url=shop_url, platform_slug=platform_slug, platform_hosts=platform_hosts,
                             platform_name=platform_name, website=website)
    except ValidationError as err:
        return str(err)
    return None
