"""Shop and website URLs: scheme checks, normalisation and platform host matching."""
from __future__ import annotations

import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import ValidationError

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


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value)


def normalize_url(raw: str, *, field: str = "网址") -> str:
    """Validate an http(s) URL and return it normalised.

    Lower-cases scheme and host, drops the default port, user info is refused, tracking
    parameters and the fragment are removed, the remaining query is kept in order.
    """
    value = (raw or "").strip()
    if not value:
        raise ValidationError(f"请填写{field}。")
    if len(value) > 2000:
        raise ValidationError(f"{field}过长。")
    if _has_control(value) or " " in value:
        raise ValidationError(f"{field}含有空格或不允许的字符。")
    if "//" not in value and "." in value.split("/")[0] and ":" not in value.split("/")[0]:
        value = "https://" + value  # "shop.tmall.com/..." typed without a scheme
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValidationError(f"{field}只能以 http:// 或 https:// 开头。")
    if parts.username or parts.password or "@" in parts.netloc:
        raise ValidationError(f"{field}不能包含用户名或密码。")
    host = (parts.hostname or "").rstrip(".").lower()
    try:
        host = host.encode("idna").decode("ascii") if host and not host.isascii() else host
    except UnicodeError:
        raise ValidationError(f"{field}的域名无效。") from None
    if not host or "." not in host or host.startswith(".") or ".." in host:
        raise ValidationError(f"{field}的域名无效。")
    try:
        port = parts.port
    except ValueError:
        raise ValidationError(f"{field}的端口无效。") from None
    netloc = host
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in TRACKING_PARAMS]
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def url_host(url: str) -> str:
    """The lower-cased host of an already normalised URL."""
    return (urlsplit(url).hostname or "").lower()


def host_matches(host: str, allowed_hosts: list[str]) -> bool:
    """True when ``host`` is one of ``allowed_hosts`` or a subdomain of one.

    ``tmall.com.evil.example`` and ``evil-tmall.com`` do not match ``tmall.com``.
    """
    host = host.lower().rstrip(".")
    for allowed in allowed_hosts:
        allowed = allowed.lower().strip().rstrip(".")
        if allowed and (host == allowed or host.endswith("." + allowed)):
            return True
    return False


def registrable_domain(host: str) -> str:
    """A rough registrable domain (last two labels, three for ``.com.cn``-style suffixes)."""
    labels = host.lower().split(".")
    if len(labels) >= 3 and labels[-2] in {"com", "net", "org", "gov", "edu"} and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def validate_shop_url(raw: str, platform_hosts: list[str], *, platform_name: str,
                      own_site_domain: str | None = None) -> str:
    """Normalise a shop URL and check that its host belongs to the platform.

    ``platform_hosts`` empty means the platform is an enterprise's own site: then the host must
    belong to ``own_site_domain`` (the enterprise's website) when one is known.
    """
    url = normalize_url(raw, field="店铺网址")
    host = url_host(url)
    if platform_hosts:
        if not host_matches(host, platform_hosts):
            raise ValidationError(
                f"店铺网址的域名 {host} 不属于{platform_name}（应为 {'、'.join(platform_hosts)}）。"
            )
    elif own_site_domain:
        own = registrable_domain(url_host(normalize_url(own_site_domain, field="官网")))
        if not host_matches(host, [own]):
            raise ValidationError(f"企业自建商城的网址应在企业官网的域名 {own} 下。")
    return url
