"""The lookups: a URL, a certificate number, a 统一社会信用代码 or a name is matched against the
stored listings and turned into a ``VerifyResult``; ``verify`` dispatches on the kind of query.

URLs are parsed by ``validation.urls.parse_web_url`` (the WHATWG parser browsers use), and only
hosts that belong to a platform get a platform identity, so look-alike hosts never match a
certified shop: they are answered as suspicious when they name one (``lookalike``).
"""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import bindparam, func, select

from ...clock import china_today
from ...extensions import db
from ...models import CertStatus, Certification, Enterprise, Platform, Shop
from ...validation import ValidationError
from ...validation.urls import WebUrl, parse_web_url, shop_url_problem
from ...validation.uscc import normalize_uscc
from .identity import extract_url, is_short_link, looks_like_link, platform_of, shop_identity, ShopIdentity
from .lookalike import imitated_listing, platform_warnings
from .names import brands_mentioned, verify_name
from .results import (
    ADVICE_NOT_FOUND, ADVICE_PRODUCT, ADVICE_SHORT_LINK, ADVICE_SUSPICIOUS, certificate_outcome,
    _listing_message, listing_outcome, Outcome, _validity, VerifyResult,
)

_CERT_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9-]{2,19}")


def _platforms() -> list[Platform]:
    return list(db.session.scalars(select(Platform).order_by(Platform.position, Platform.id)))


def _public_shops(ent: Enterprise) -> list[Shop]:
    return ent.public_shops if ent.is_public else []


def _candidate_shops(url: WebUrl, ident: ShopIdentity, platforms: list[Platform]) -> list[Shop]:
    """Shops whose stored URL may be the same shop: exact URL first, then by identity."""
    rest = url.href.split("://", 1)[1]
    exact = list(db.session.scalars(select(Shop).where(Shop.url.in_([f"https://{rest}", f"http://{rest}"]))))
    if ident.key is None or not ident.token:
        return exact
    like = "%" + ident.token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    # The pattern is written into the statement, not bound: psycopg prepares a statement after
    # five runs and PostgreSQL then plans a bound pattern generically, walking all 50,000 shops
    # (11-15 ms) instead of the trigram index (1.5-2 ms). A literal pattern is planned each time.
    pattern = bindparam("url_pattern", like, literal_execute=True)
    rows = db.session.scalars(
        select(Shop).where(Shop.url.like(pattern, escape="\\")).order_by(Shop.id).limit(5000)
    )
    matched = [s for s in rows if s not in exact and _stored_identity(s.url, platforms) == ident.key]
    return exact + matched


def _stored_identity(stored_url: str, platforms: list[Platform]) -> tuple[str, str] | None:
    try:
        return shop_identity(parse_web_url(stored_url), platforms).key
    except ValidationError:
        return None


def _best_listing(url: WebUrl, ident: ShopIdentity, platforms: list[Platform]) -> tuple[str, Shop] | None:
    """The best outcome among the (ever public) shops the link may be, with that shop.

    A shop whose stored URL fails today's rules (stored before them; ``flask check-urls``
    suspends it) is never vouched for: the link is answered as if it were unknown.
    """
    best: tuple[int, str, Shop] | None = None
    for shop in _candidate_shops(url, ident, platforms):
        outcome = listing_outcome(shop.enterprise, shop)
        if outcome is None or _stored_url_fails(shop):
            continue
        rank = Outcome.RANK[outcome]
        if best is None or rank < best[0]:
            best = (rank, outcome, shop)
    return None if best is None else (best[1], best[2])


def _stored_url_fails(shop: Shop) -> bool:
    plat = shop.platform
    return shop_url_problem(shop.url, plat.host_list, platform_name=plat.name,
                            website=shop.enterprise.website) is not None


def _listing_result(url: WebUrl, outcome: str, shop: Shop) -> VerifyResult:
    ent = shop.enterprise
    advice = [] if outcome == Outcome.CERTIFIED else list(ADVICE_NOT_FOUND[:1])
    return VerifyResult(
        "url", url.href, outcome, _listing_message(outcome, ent, shop), advice=advice,
        normalized_url=url.href, platform=shop.platform, enterprise=ent, shop=shop,
        certificate=ent.certificate, shops=_public_shops(ent),
    )


def _suspicious_result(url: WebUrl, ent: Enterprise, shop: Shop | None, platforms: list[Platform]) -> VerifyResult:
    real = f"真正的认证店铺是“{shop.name}”（{shop.platform.name}，{shop.url}）" if shop is not None \
        else f"“{ent.display_name}”的认证店铺列在本站的企业页面上"
    message = (f"这个链接的域名 {url.host} 模仿了 {ent.name} 的认证店铺，但它不在该店铺所在的电商平台上。"
               f"{real}。请不要在这个网站登录或付款。")
    return VerifyResult("url", url.href, Outcome.SUSPICIOUS, message, advice=list(ADVICE_SUSPICIOUS),
                        warnings=platform_warnings(url.host, platforms), normalized_url=url.href,
                        enterprise=ent, shop=shop, certificate=ent.certificate, shops=_public_shops(ent))


def _short_link_result(url: WebUrl, raw: str, platform: Platform | None) -> VerifyResult:
    return VerifyResult(
        "url", url.href, Outcome.SHORT_LINK,
        f"这是一个短链接（{url.host}），要联网打开后才知道它指向哪家店铺。为了您的安全，本站不会替您打开它，"
        "也无法据此判断真假。",
        advice=list(ADVICE_SHORT_LINK), normalized_url=url.href, platform=platform,
        mentioned=brands_mentioned(raw),
    )


def _unlisted_result(url: WebUrl, raw: str, ident: ShopIdentity, platform: Platform | None,
                     warnings: list[str]) -> VerifyResult:
    """A link that is no listing: a product page, or a shop not in the directory."""
    if ident.product_page:
        return VerifyResult(
            "url", url.href, Outcome.PRODUCT_PAGE,
            "这是一个商品详情页的链接，单凭链接看不出它属于哪家店铺，所以无法判断是否为认证店铺。",
            advice=list(ADVICE_PRODUCT), warnings=warnings, normalized_url=url.href, platform=platform,
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
    return VerifyResult("url", url.href, Outcome.NOT_FOUND, message, advice=advice,
                        warnings=warnings, normalized_url=url.href, platform=platform, mentioned=mentioned)


def verify_url(raw: str) -> VerifyResult:
    """Check a pasted shop link (or share text containing one). Raises ``ValidationError`` for
    input that is not a web address at all."""
    text = extract_url(raw)
    if len(text) > 2000:
        raise ValidationError("链接过长，请只粘贴店铺的网址。")
    url = parse_web_url(text, field="店铺链接")
    platforms = _platforms()
    found = platform_of(url.host, platforms)
    platform = found[0] if found is not None else None
    if is_short_link(url):
        return _short_link_result(url, raw, platform)
    ident = shop_identity(url, platforms)
    listing = _best_listing(url, ident, platforms)
    if listing is not None:
        return _listing_result(url, *listing)
    imitated = imitated_listing(url, platforms)
    if imitated is not None:
        return _suspicious_result(url, *imitated, platforms)
    return _unlisted_result(url, raw, ident, platform, platform_warnings(url.host, platforms))


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
            and cert.valid_until >= china_today():
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
    """Guess what a single search box holds: ``certificate``, ``uscc``, ``url`` (a link, or share
    text with one) or ``name`` (a brand or company name)."""
    value = "".join(unicodedata.normalize("NFKC", raw or "").split()).upper()
    if re.fullmatch(r"GDWS-?\d{4}-?\d{3,8}", value):
        return "certificate"
    if len(value) == 18 and re.fullmatch(r"[0-9A-Z]{18}", value) and "." not in value:
        return "uscc"
    return "url" if looks_like_link(raw) else "name"


LOOKUPS = {"url": verify_url, "certificate": verify_certificate, "uscc": verify_uscc, "name": verify_name}


def verify(kind: str, raw: str) -> VerifyResult:
    """Dispatch one lookup; ``kind`` is one of ``LOOKUPS`` or ``auto``."""
    if kind == "auto":
        kind = detect_kind(raw)
    return LOOKUPS.get(kind, verify_url)(raw)
