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

Package layout (imports flow identity, results -> lookup):

* ``identity`` — link -> shop identity per platform, short links, URL in share text (no database);
* ``results``  — ``Outcome``, ``VerifyResult``, advice texts, certificate/listing outcome rules;
* ``lookup``   — ``verify_url``, ``verify_certificate``, ``verify_uscc``, ``detect_kind``, ``verify``.

Every name the single-module ``verify.py`` had is re-exported here, so
``from marketplace.services.verify import verify, Outcome`` etc. keep working.
"""
from __future__ import annotations

from .identity import (  # noqa: F401
    extract_url, is_short_link, shop_identity, ShopIdentity, SHORT_LINK_HOSTS, _BARE_URL_IN_TEXT,
    _CERT_NUMBER, _DIGITS, _first_param, _GENERIC_LABELS, _has_cjk, _params, _shop_label, _TOKEN,
    _URL_IN_TEXT,
)
from .results import (  # noqa: F401
    ADVICE_NOT_FOUND, ADVICE_PRODUCT, ADVICE_SHORT_LINK, certificate_outcome,
    listing_outcome, Outcome, VerifyResult, _listing_message, _validity,
)
from .lookup import (  # noqa: F401
    brands_mentioned, detect_kind, normalize_certificate_number, verify, verify_certificate,
    verify_url, verify_uscc, _candidate_shops, _certificate_result, _host_warnings, _platform_for,
    _public_shops, _stored_identity,
)
