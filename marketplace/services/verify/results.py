"""What a verification answers: the ``Outcome`` vocabulary, the ``VerifyResult`` shared by the
/verify page and ``GET /api/v1/verify``, the advice texts, and the rules that turn a listing's
and its certificate's status into an outcome and a message.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ...clock import china_today
from ...models import CertStatus, Certification, Enterprise, Platform, Shop, Status


class Outcome:
    """What a lookup found. The first four name a listing; the rest explain why none was found."""

    CERTIFIED = "certified"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOT_FOUND = "not_found"
    SHORT_LINK = "short_link"
    PRODUCT_PAGE = "product_page"
    SUSPICIOUS = "suspicious"  # the link's host imitates a certified shop but is not on its platform
    NAME_MATCH = "name_match"  # a brand or company name matched certified enterprises
    IN_NOTICE = "in_notice"  # approved, on 公示 (services.gongshi): not certified yet
    ALL = (CERTIFIED, SUSPENDED, REVOKED, EXPIRED, NOT_FOUND, SHORT_LINK, PRODUCT_PAGE, SUSPICIOUS, NAME_MATCH,
           IN_NOTICE)
    LABELS = {
        CERTIFIED: "认证有效",
        SUSPENDED: "认证已暂停",
        REVOKED: "认证已撤销",
        EXPIRED: "认证已过期",
        NOT_FOUND: "不在认证名录中",
        SHORT_LINK: "短链接，未打开",
        PRODUCT_PAGE: "商品页链接，无法判断店铺",
        SUSPICIOUS: "疑似仿冒",
        NAME_MATCH: "找到认证企业",
        IN_NOTICE: "公示中",
    }
    # Best first: when several listings match, the best outcome is reported.
    RANK = {CERTIFIED: 0, IN_NOTICE: 1, SUSPENDED: 2, EXPIRED: 3, REVOKED: 4}


@dataclass
class VerifyResult:
    """The answer to one lookup, shared by the /verify page and ``GET /api/v1/verify``."""

    query_type: str  # url / certificate / uscc / name
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
    # A name lookup: the certified enterprises whose name or brand matches.
    matches: list[Enterprise] = field(default_factory=list)

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

    @property
    def names_listing(self) -> bool:
        """True when the answer names a listing: a found one, or the real shop a link imitates."""
        return self.found_listing or self.outcome == Outcome.SUSPICIOUS


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
ADVICE_SUSPICIOUS = [
    "不要在这个网站登录、填写手机号或付款：它不在真正店铺所在的电商平台上。",
    "请从本站企业页面上的店铺链接进入真正的认证店铺。",
    "如果有人向您发送这个链接，请向本站举报，我们会通知品牌方。",
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
    today = today or china_today()
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
    if not ent.is_public:
        return Outcome.SUSPENDED
    return Outcome.CERTIFIED


def was_ever_public(listing: Enterprise | Shop) -> bool:
    """True for a listing that is or once was certified (``certified_at`` is set on approval and
    import and kept when it is suspended, revoked or expired)."""
    return listing.status == Status.CERTIFIED or listing.certified_at is not None


def on_notice(ent: Enterprise, shop: Shop | None = None) -> bool:
    """True while the listing is approved but on 公示 (not certified until the notice ends)."""
    if shop is None:
        return ent.status == Status.NOTICE
    return shop.status == Status.NOTICE and ent.status in (Status.NOTICE, Status.CERTIFIED)


def listing_outcome(ent: Enterprise, shop: Shop | None = None) -> str | None:
    """The outcome for an enterprise (and one of its shops), or None when the listing was never
    public (draft / pending / rejected, or a shop that was only ever pending when its enterprise
    was later revoked): those get exactly the answer an unknown listing gets. A listing approved
    and on 公示 answers ``in_notice``."""
    if on_notice(ent, shop):
        return Outcome.IN_NOTICE
    if not was_ever_public(ent) or (shop is not None and not was_ever_public(shop)):
        return None
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
    if outcome == Outcome.IN_NOTICE:
        return (f"{subject}已通过审核，正在公示中{owner}，公示期满且无异议后认证生效。"
                "公示期间它还不是认证店铺；如您对其有异议，可在“公示”页面提出。")
    if outcome == Outcome.SUSPENDED:
        return (f"{subject}的认证已暂停{owner}。暂停期间它不是认证店铺，请暂缓在此下单，"
                "或选择该品牌其他认证有效的店铺。")
    if outcome == Outcome.REVOKED:
        return (f"{subject}的认证已被撤销{owner}。它不再是广货网上行认证的店铺，请不要把它当作官方店铺购买。")
    until = f"（有效期至 {cert.valid_until:%Y-%m-%d}）" if cert else ""
    return f"{subject}的认证已过期{until}{owner}。目前它不是认证有效的店铺。"
