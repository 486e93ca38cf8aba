"""Look-alike hosts: a link whose host is on no platform but names a certified shop or brand
(``cihai.tmall.com.shop-evil.example``, ``cihai-tmall.com``) imitates that shop.

The host is cut into its words (labels split on ``.`` and ``-``). A word that is a certified
shop's own sub-domain (``cihai`` of ``cihai.tmall.com``, ``brand`` of an own-site shop at
``shop.brand.com``) or a certified brand's Latin name (``midea``) points at the real listing;
platform words (``tmall``, ``jd``), service words (``shop``, ``www``) and top-level domains never
do. A host inside the enterprise's own website domain is the enterprise itself, not a copy.
"""
from __future__ import annotations

import re

from sqlalchemy import or_, select

from ...extensions import db
from ...models import Brand, Enterprise, Platform, Shop, Status
from ...validation import ValidationError
from ...validation.urls import SERVICE_LABELS, WebUrl, host_matches, parse_web_url, registrable_domain
from .identity import platform_of, shop_identity

_COMMON_WORDS = frozenset({
    "com", "cn", "net", "org", "hk", "tw", "top", "xyz", "shop", "store", "online", "site", "vip",
    "official", "flagship", "example", "gov", "edu", "info", "club", "http", "https",
})
MIN_WORD = 3


def host_words(host: str, platforms: list[Platform]) -> list[str]:
    """The words of ``host`` that may name a shop or brand (see the module doc)."""
    platform_words = {h.split(".")[0] for p in platforms for h in p.host_list}
    words = []
    for word in re.split(r"[.-]", host.lower()):
        if (len(word) >= MIN_WORD and not word.isdigit() and word not in SERVICE_LABELS
                and word not in _COMMON_WORDS and word not in platform_words and word not in words):
            words.append(word)
    return words[:8]


def _own_domains(ent: Enterprise) -> list[str]:
    """The registrable domains of the enterprise's website and own-site shops."""
    out = []
    for url in [ent.website] + [s.url for s in ent.shops if s.platform.is_own_site]:
        try:
            host = parse_web_url(url).host
        except ValidationError:
            continue
        out.append(registrable_domain(host))
    return out


def _shop_word(shop: Shop, platforms: list[Platform]) -> str | None:
    """The word a certified shop's URL is known by: its sub-domain label or own-site domain."""
    try:
        url = parse_web_url(shop.url)
    except ValidationError:
        return None
    if shop.platform.is_own_site:
        return registrable_domain(url.host).split(".")[0]
    key = shop_identity(url, platforms).key
    return key[1] if key is not None and key[0].startswith("sub:") else None


def _names(host: str, word: str | None) -> bool:
    """True when ``word`` (a shop label, possibly hyphenated) is a whole run of ``host``'s words."""
    return bool(word) and re.search(rf"(?:^|[.-]){re.escape(word)}(?:$|[.-])", host) is not None


def _shops_named(host: str, words: list[str], platforms: list[Platform]) -> list[Shop]:
    """Public shops whose sub-domain label (or own-site domain) the host spells out."""
    likes = [Shop.url.like(f"%{sep}{w}{end}%") for w in words for sep in ("://", ".") for end in (".", "-")]
    rows = db.session.scalars(
        select(Shop).join(Enterprise, Enterprise.id == Shop.enterprise_id)
        .where(Shop.status == Status.CERTIFIED, Enterprise.status == Status.CERTIFIED, or_(*likes))
        .order_by(Shop.id).limit(200))
    return [s for s in rows if _names(host, _shop_word(s, platforms))]


def _brands_named(words: list[str]) -> list[Enterprise]:
    """Certified enterprises with a brand whose name (casefolded) is one of ``words``."""
    return list(db.session.scalars(
        select(Enterprise).join(Brand, Brand.enterprise_id == Enterprise.id)
        .where(Enterprise.status == Status.CERTIFIED, Brand.name_key.in_(words))
        .order_by(Enterprise.id).limit(10)).unique())


def imitated_listing(url: WebUrl, platforms: list[Platform]) -> tuple[Enterprise, Shop | None] | None:
    """The certified enterprise (and shop) a link on no platform imitates, or None."""
    if platform_of(url.host, platforms) is not None:
        return None
    words = host_words(url.host, platforms)
    if not words:
        return None
    shops = _shops_named(url.host, words, platforms)
    candidates = [(s.enterprise, s) for s in shops] + [(e, None) for e in _brands_named(words)]
    for ent, shop in candidates:
        if not host_matches(url.host, _own_domains(ent)):
            return ent, shop or (ent.public_shops[0] if ent.public_shops else None)
    return None


def platform_warnings(host: str, platforms: list[Platform]) -> list[str]:
    """Warn about hosts that look like a platform's but are not (``evil-tmall.com``)."""
    if platform_of(host, platforms) is not None:
        return []
    for p in platforms:
        for allowed in p.host_list:
            brand = allowed.split(".")[0]
            if len(brand) >= 2 and brand in host:
                return [f"注意：网址的域名是 {host}，它含有“{brand}”字样，但并不是{p.name}的官方域名（{allowed}）。"
                        "这是仿冒网站的常见手法，请不要在该网站登录或付款。"]
    return []


def enterprises_named_by_host(url: WebUrl, platforms: list[Platform]) -> list[Enterprise]:
    """Certified enterprises whose shop sub-domain, own-site domain or Latin brand name the host
    spells, on a platform or not (the impersonation watch: ``lingyuan-outlet.tmall.com`` names
    the brand whose shop is ``lingyuan.tmall.com``). The enterprise's own domains are not copies."""
    words = host_words(url.host, platforms)
    if not words:
        return []
    found: list[Enterprise] = []
    for ent in [s.enterprise for s in _shops_named(url.host, words, platforms)] + _brands_named(words):
        if ent not in found and not host_matches(url.host, _own_domains(ent)):
            found.append(ent)
    return found
