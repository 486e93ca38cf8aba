"""The lookups: a URL, a certificate number or a 统一社会信用代码 is matched against the stored
listings and turned into a ``VerifyResult``; ``verify`` dispatches on the kind of query.

Only hosts that belong to a platform get a platform identity, so look-alike hosts never match.
"""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from sqlalchemy import func, literal, or_, select

from ...clock import china_today
from ...extensions import db
from ...models import Brand, CertStatus, Certification, Enterprise, Platform, Shop, enterprise_is_public
from ...validation import ValidationError
from ...validation.urls import host_matches, normalize_url
from ...validation.uscc import normalize_uscc
from .identity import (
    _CERT_NUMBER, extract_url, _has_cjk, is_short_link, shop_identity, ShopIdentity, _URL_IN_TEXT,
)
from .results import (
    ADVICE_NOT_FOUND, ADVICE_PRODUCT, ADVICE_SHORT_LINK, certificate_outcome, _listing_message,
    listing_outcome, Outcome, _validity, VerifyResult,
)


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
    return ent.public_shops if ent.is_public else []


def brands_mentioned(text: str, limit: int = 3) -> list[Enterprise]:
    """Certified enterprises whose brand (2+ characters) appears in ``text`` — share texts name
    the shop (「某某官方旗舰店」), which tells the consumer whose official shops to compare with."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(_URL_IN_TEXT.sub(" ", text)[:500].casefold().split())
    if not _has_cjk(text) and not re.search(r"[a-z]{3}", text):
        return []
    rows = db.session.scalars(
        select(Enterprise).join(Brand, Brand.enterprise_id == Enterprise.id)
        .where(enterprise_is_public(), func.length(Brand.name_key) >= 2,
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
