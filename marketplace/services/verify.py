"""Verify a shop: is this link, certificate number or 统一社会信用代码 a certified listing?

Consumers paste whatever their phone gave them: a desktop URL, a mobile or share URL full of
tracking parameters, or the whole share text ("【淘宝】https://m.tb.cn/... 「某某旗舰店」").
Every platform writes the same shop in several forms (``midea.tmall.com`` and
``midea.m.tmall.com``; ``mall.jd.com/index-1000.html`` and ``shop.m.jd.com/?shopId=1000``), so a
link is reduced to a *shop identity* — the platform family plus the shop id, seller id or shop
sub-domain — that can be derived without any network access. Stored shop URLs are reduced the
same way and compared. Short links (``m.tb.cn``, ``u.jd.com``, ``v.douyin.com`` …) only say where
they lead after a network fetch, which we never make: the consumer is told so.

Only hosts that belong to a platform (``host_matches``) get a platform identity: a look-alike host
such as ``tmall.com.evil.example`` or ``evil-tmall.com`` can never match a certified shop.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import func, literal, or_, select

from ..extensions import db
from ..models import Brand, CertStatus, Certification, Enterprise, Platform, Shop, Status
from ..validation import ValidationError
from ..validation.urls import host_matches, normalize_url
from ..validation.uscc import normalize_uscc


class Outcome:
    """What a lookup found. The first four name a listing; the rest explain why none was found."""

    CERTIFIED = "certified"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOT_FOUND = "not_found"
    SHORT_LINK = "short_link"
    PRODUCT_PAGE = "product_page"
    ALL = (CERTIFIED, SUSPENDED, REVOKED, EXPIRED, NOT_FOUND, SHORT_LINK, PRODUCT_PAGE)
    LABELS = {
        CERTIFIED: "认证有效",
        SUSPENDED: "认证已暂停",
        REVOKED: "认证已撤销",
        EXPIRED: "认证已过期",
        NOT_FOUND: "不在认证名录中",
        SHORT_LINK: "短链接，未打开",
        PRODUCT_PAGE: "商品页链接，无法判断店铺",
    }
    # Worst first: when several listings match, the best outcome is reported.
    RANK = {CERTIFIED: 0, SUSPENDED: 1, EXPIRED: 2, REVOKED: 3}


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


# ---------------------------------------------------------------------------------------------
# Results


@dataclass
class VerifyResult:
    """The answer to one lookup, shared by the /verify page and ``GET /api/v1/verify``."""

    query_type: str  # url / certificate / uscc
    query: str  # what was looked up, normalised when possible
    outcome: str
    message: str
    advice: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    normalized_url: str | None = None
    platform: Platform | None = None
    enterprise: Enterprise | None = None
    shop: Shop | None = None
    certificate: Certification | None = None
    shops: list[Shop] = field(default_factory=list)  # the enterprise's certified shops
    # Certified enterprises whose brand the pasted text names (a shop may be impersonating them).
    mentioned: list[Enterprise] = field(default_factory=list)

    @property
    def label(self) -> str:
        return Outcome.LABELS[self.outcome]

    @property
    def is_certified(self) -> bool:
        return self.outcome == Outcome.CERTIFIED

    @property
    def found_listing(self) -> bool:
        """True when a (formerly) certified listing was found: the page names the enterprise."""
        return self.outcome in Outcome.RANK


ADVICE_NOT_FOUND = [
    "认准企业页面上列出的官方网店：在本站搜索品牌名称，从企业页面的店铺链接进入购买。",
    "店铺名称里的“旗舰店”“官方”字样可以被模仿，请以平台上的企业资质信息和本站名录为准。",
    "不要通过私聊、二维码或陌生链接向个人账户付款；遇到可疑店铺，请向平台和本站举报。",
]
ADVICE_SHORT_LINK = [
    "在手机上打开这个链接，进入店铺首页后点“分享”→“复制链接”，把完整的网址粘贴到这里。",
    "或在浏览器地址栏复制完整网址（以 https:// 开头、包含平台域名，如 tmall.com、jd.com）。",
    "也可以直接在本站搜索品牌名称，从企业页面的官方店铺链接进入。",
]
ADVICE_PRODUCT = [
    "在商品页点击店铺名称进入店铺首页，复制店铺首页的链接后再来验证。",
    "也可以在本站搜索品牌名称，查看该品牌经认证的官方网店。",
]


def certificate_outcome(cert: Certification, today: date | None = None) -> str:
    """Whether a certificate is valid now, said as an ``Outcome``.

    Combines the certificate's own status and date, the enterprise's status and whether a newer
    certificate superseded it.
    """
    today = today or date.today()
    ent = cert.enterprise
    if cert.status == CertStatus.REVOKED or ent.status == Status.REVOKED:
        return Outcome.REVOKED
    if cert.status == CertStatus.SUSPENDED or ent.status == Status.SUSPENDED:
        return Outcome.SUSPENDED
    if cert.status == CertStatus.EXPIRED or cert.valid_until < today or ent.status == Status.EXPIRED:
        return Outcome.EXPIRED
    latest = ent.certificate
    if latest is not None and latest.id != cert.id:
        return Outcome.EXPIRED  # superseded by a newer certificate
    if ent.status != Status.CERTIFIED:
        return Outcome.SUSPENDED
    return Outcome.CERTIFIED


def is_certificate_valid(cert: Certification) -> bool:
    """True when the certificate (and its enterprise) is valid today: what the badge shows."""
    return certificate_outcome(cert) == Outcome.CERTIFIED


def listing_outcome(ent: Enterprise, shop: Shop | None = None) -> str | None:
    """The outcome for an enterprise (and one of its shops), or None when the listing was never
    public (draft / pending / rejected): those are not revealed to consumers."""
    statuses = [ent.status] + ([shop.status] if shop is not None else [])
    for status in (Status.REVOKED, Status.SUSPENDED, Status.EXPIRED):
        if status in statuses:
            return status
    if any(s != Status.CERTIFIED for s in statuses):
        return None
    cert = ent.certificate
    if cert is None:
        return Outcome.CERTIFIED  # imported as certified before certificates were issued
    return certificate_outcome(cert)


def _validity(cert: Certification | None) -> str:
    if cert is None:
        return ""
    return f"证书编号 {cert.number}，有效期 {cert.issued_on:%Y-%m-%d} 至 {cert.valid_until:%Y-%m-%d}"


def _listing_message(outcome: str, ent: Enterprise, shop: Shop | None) -> str:
    """A plain-language sentence for a found listing."""
    cert = ent.certificate
    subject = f"店铺“{shop.name}”（{shop.platform.name}）" if shop is not None else f"企业“{ent.name}”"
    owner = f"，属于 {ent.name}" if shop is not None else ""
    if outcome == Outcome.CERTIFIED:
        detail = f"；{_validity(cert)}" if cert else ""
        return f"{subject}是广货网上行认证店铺{owner}{detail}。" if shop is not None else \
            f"{subject}是广货网上行认证企业{detail}。"
    if outcome == Outcome.SUSPENDED:
        return (f"{subject}的认证已暂停{owner}。暂停期间它不是认证店铺，请暂缓在此下单，"
                "或选择该品牌其他认证有效的店铺。")
    if outcome == Outcome.REVOKED:
        return (f"{subject}的认证已被撤销{owner}。它不再是广货网上行认证的店铺，请不要把它当作官方店铺购买。")
    until = f"（有效期至 {cert.valid_until:%Y-%m-%d}）" if cert else ""
    return f"{subject}的认证已过期{until}{owner}。目前它不是认证有效的店铺。"


def _host_warnings(host: str, platforms: list[Platform]) -> list[str]:
    """Warn about hosts that look like a platform's but are not (``evil-tmall.com``)."""
    if any(host_matches(host, p.host_list) for p in platforms if p.host_list):
        return []
    for p in platforms:
        for allowed in p.host_list:
            brand = allowed.split(".")[0]
            if len(brand) >= 2 and brand in host:
                return [f"注意：网址的域名是 {host}，它含有“{brand}”字样，但并不是{p.name}的官方域名（{allowed}）。"
                        "这是仿冒网站的常见手法，请不要在该网站登录或付款。"]
    return []


def _platform_for(host: str, platforms: list[Platform]) -> Platform | None:
    for p in platforms:
        if p.host_list and host_matches(host, p.host_list):
            return p
    return None


def _public_shops(ent: Enterprise) -> list[Shop]:
    return [s for s in ent.shops if s.status == Status.CERTIFIED] if ent.status == Status.CERTIFIED else []


def brands_mentioned(text: str, limit: int = 3) -> list[Enterprise]:
    """Certified enterprises whose brand (2+ characters) appears in ``text`` — share texts name
    the shop (「某某官方旗舰店」), which tells the consumer whose official shops to compare with."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(_URL_IN_TEXT.sub(" ", text)[:500].casefold().split())
    if not _has_cjk(text) and not re.search(r"[a-z]{3}", text):
        return []
    rows = db.session.scalars(
        select(Enterprise).join(Brand, Brand.enterprise_id == Enterprise.id)
        .where(Enterprise.status == Status.CERTIFIED, func.length(Brand.name_key) >= 2,
               literal(text).contains(Brand.name_key))
        .order_by(func.length(Brand.name_key).desc(), Enterprise.id).limit(limit * 3)
    )
    out: list[Enterprise] = []
    for ent in rows:
        if ent not in out:
            out.append(ent)
    return out[:limit]


def _candidate_shops(url: str, ident: ShopIdentity) -> list[Shop]:
    """Shops whose stored URL may be the same shop: exact URL first, then by identity."""
    variants = {url}
    if url.startswith("http://"):
        variants.add("https://" + url[len("http://"):])
    elif url.startswith("https://"):
        variants.add("http://" + url[len("https://"):])
    exact = list(db.session.scalars(select(Shop).where(Shop.url.in_(variants))))
    if ident.key is None or not ident.token:
        return exact
    like = "%" + ident.token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = db.session.scalars(
        select(Shop).where(or_(Shop.url.like(like, escape="\\"))).order_by(Shop.id).limit(5000)
    )
    matched = [s for s in rows if s not in exact and _stored_identity(s.url) == ident.key]
    return exact + matched


def _stored_identity(stored_url: str) -> tuple[str, str] | None:
    try:
        return shop_identity(normalize_url(stored_url)).key
    except ValidationError:
        return None


def verify_url(raw: str) -> VerifyResult:
    """Check a pasted shop link (or share text containing one). Raises ``ValidationError`` for
    input that is not a web address at all."""
    text = extract_url(raw)
    if len(text) > 2000:
        raise ValidationError("链接过长，请只粘贴店铺的网址。")
    url = normalize_url(text, field="店铺链接")
    host = (urlsplit(url).hostname or "").lower()
    platforms = list(db.session.scalars(select(Platform).order_by(Platform.position, Platform.id)))
    platform = _platform_for(host, platforms)

    if is_short_link(url):
        return VerifyResult(
            "url", url, Outcome.SHORT_LINK,
            f"这是一个短链接（{host}），要联网打开后才知道它指向哪家店铺。为了您的安全，本站不会替您打开它，"
            "也无法据此判断真假。",
            advice=list(ADVICE_SHORT_LINK), normalized_url=url, platform=platform,
            mentioned=brands_mentioned(raw),
        )

    ident = shop_identity(url)
    best: tuple[int, str, Shop] | None = None
    for shop in _candidate_shops(url, ident):
        outcome = listing_outcome(shop.enterprise, shop)
        if outcome is None:
            continue
        rank = Outcome.RANK[outcome]
        if best is None or rank < best[0]:
            best = (rank, outcome, shop)
    if best is not None:
        _, outcome, shop = best
        ent = shop.enterprise
        advice = [] if outcome == Outcome.CERTIFIED else list(ADVICE_NOT_FOUND[:1])
        return VerifyResult(
            "url", url, outcome, _listing_message(outcome, ent, shop), advice=advice,
            normalized_url=url, platform=shop.platform, enterprise=ent, shop=shop,
            certificate=ent.certificate, shops=_public_shops(ent),
        )

    warnings = _host_warnings(host, platforms)
    if ident.product_page:
        return VerifyResult(
            "url", url, Outcome.PRODUCT_PAGE,
            "这是一个商品详情页的链接，单凭链接看不出它属于哪家店铺，所以无法判断是否为认证店铺。",
            advice=list(ADVICE_PRODUCT), warnings=warnings, normalized_url=url, platform=platform,
            mentioned=brands_mentioned(raw),
        )
    if platform is not None:
        message = (f"这个链接属于{platform.name}，但该店铺不在广货网上行认证名录中。"
                   "这不一定说明它是假店，但它不是经过本站认证的店铺。")
    else:
        message = "未在广货网上行认证名录中找到这个网址，它也不属于本站收录的任何电商平台。"
    advice = list(ADVICE_NOT_FOUND)
    if platform is not None and ident.key is not None and ident.key[0] != "url":
        advice.insert(0, f"同一家店铺在{platform.name}上可能有几种链接（店铺域名、店铺 ID、卖家 ID），本站只能比对链接里写明的那一种。"
                         "如果您认为这是某个品牌的官方店，请在本站搜索该品牌，核对其企业页面列出的认证店铺。")
    mentioned = brands_mentioned(raw)
    if mentioned:
        names = "、".join(e.display_name for e in mentioned)
        message += f"您粘贴的内容提到了“{names}”：请对照该品牌在本站列出的认证店铺；如果这家店冒充该品牌，请举报。"
    return VerifyResult("url", url, Outcome.NOT_FOUND, message, advice=advice,
                        warnings=warnings, normalized_url=url, platform=platform, mentioned=mentioned)


def normalize_certificate_number(raw: str) -> str:
    """Upper-case, full-width to half-width, no spaces; raise ``ValidationError`` when the text
    cannot be a certificate number."""
    value = "".join(unicodedata.normalize("NFKC", raw or "").split()).upper()
    value = value.replace("—", "-").replace("–", "-").replace("－", "-")
    if not value:
        raise ValidationError("请填写证书编号。")
    if not _CERT_NUMBER.fullmatch(value):
        raise ValidationError("证书编号格式不正确，应类似 GDWS-2025-000123。")
    return value


def verify_certificate(raw: str) -> VerifyResult:
    """Look a certificate up by its number."""
    number = normalize_certificate_number(raw)
    cert = db.session.scalar(select(Certification).where(func.upper(Certification.number) == number))
    if cert is None:
        return VerifyResult(
            "certificate", number, Outcome.NOT_FOUND,
            f"没有编号为 {number} 的广货网上行证书。请核对编号；如果有人向您出示这个编号，它可能是伪造的。",
            advice=list(ADVICE_NOT_FOUND),
        )
    return _certificate_result("certificate", number, cert)


def _certificate_result(query_type: str, query: str, cert: Certification) -> VerifyResult:
    ent = cert.enterprise
    outcome = certificate_outcome(cert)
    latest = ent.certificate
    if outcome == Outcome.CERTIFIED:
        message = f"证书 {cert.number} 有效：{ent.name} 是广货网上行认证企业，{_validity(cert)}。"
    elif latest is not None and latest.id != cert.id and cert.status == CertStatus.VALID \
            and cert.valid_until >= date.today():
        message = f"证书 {cert.number} 已被新证书 {latest.number} 取代，本证书已失效。"
    elif outcome == Outcome.SUSPENDED:
        message = f"证书 {cert.number}（{ent.name}）的认证已暂停，暂停期间不是有效的认证。"
    elif outcome == Outcome.REVOKED:
        message = f"证书 {cert.number}（{ent.name}）已被撤销，不再有效。"
    else:
        message = f"证书 {cert.number}（{ent.name}）已过期（有效期至 {cert.valid_until:%Y-%m-%d}），不再有效。"
    return VerifyResult(query_type, query, outcome, message, enterprise=ent, certificate=cert,
                        shops=_public_shops(ent))


def verify_uscc(raw: str) -> VerifyResult:
    """Look an enterprise up by its 统一社会信用代码 (validated first)."""
    code = normalize_uscc(raw)
    ent = db.session.scalar(select(Enterprise).where(Enterprise.uscc == code))
    outcome = listing_outcome(ent) if ent is not None else None
    if ent is None or outcome is None:
        return VerifyResult(
            "uscc", code, Outcome.NOT_FOUND,
            f"统一社会信用代码 {code} 对应的企业不在广货网上行认证名录中。",
            advice=list(ADVICE_NOT_FOUND),
        )
    return VerifyResult("uscc", code, outcome, _listing_message(outcome, ent, None), enterprise=ent,
                        certificate=ent.certificate, shops=_public_shops(ent))


def detect_kind(raw: str) -> str:
    """Guess what a single search box holds: ``certificate``, ``uscc`` or ``url``."""
    value = "".join(unicodedata.normalize("NFKC", raw or "").split()).upper()
    if re.fullmatch(r"GDWS-?\d{4}-?\d{3,8}", value):
        return "certificate"
    if len(value) == 18 and re.fullmatch(r"[0-9A-Z]{18}", value) and "." not in value:
        return "uscc"
    return "url"


def verify(kind: str, raw: str) -> VerifyResult:
    """Dispatch one lookup; ``kind`` is ``url``, ``certificate``, ``uscc`` or ``auto``."""
    if kind == "auto":
        kind = detect_kind(raw)
    if kind == "certificate":
        return verify_certificate(raw)
    if kind == "uscc":
        return verify_uscc(raw)
    return verify_url(raw)
