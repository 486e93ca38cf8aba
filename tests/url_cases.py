"""URL-parser differentials (RELIABILITY.md "URLs a browser will follow"): inputs on which Python's
``urlsplit`` and a browser's WHATWG parser disagree about the host, or that imitate a platform's
host, or that are a platform's own page rather than a shop.

These are data, not tests. ``tests/test_security_urls.py`` runs every URL entry point of the site
(merchant forms, the importer, review checks, verify page and API, ``/go/``, ``check-urls``)
against them; a new form or route that accepts a URL adds itself to ``ENTRY_POINTS`` there and
gets every case here automatically.
"""
from __future__ import annotations

# (case id, URL) — a host a browser reads differently from how it looks, or no domain at all.
# Refused everywhere a URL is accepted (shop URL or website).
HOST_DIFFERENTIALS = [
    ("backslash", "https://evil.example\\.tmall.com/"),
    ("backslash-no-slashes", "https:evil.example\\.tmall.com"),
    ("backslash-userinfo", "https://evil.example\\@good.tmall.com/"),
    ("percent-dot", "https://evil%2eexample.tmall.com/"),
    ("percent-slash", "https://evil.example%2f.tmall.com/"),
    ("percent-backslash", "https://evil.example%5c.tmall.com/"),
    ("percent-at", "https://good.tmall.com%40evil.example/"),
    ("semicolon", "https://evil.example;.tmall.com/"),
    ("underscore", "https://evil_example.tmall.com/"),
    ("userinfo", "https://good.tmall.com@evil.example/"),
    ("userinfo-password", "https://user:pw@good.tmall.com/"),
    ("ipv4", "https://1.2.3.4/"),
    ("ipv4-hex", "https://0x7f000001/"),
    ("ipv4-short", "https://127.1/"),
    ("ipv6", "https://[::ffff:127.0.0.1]/"),
    ("port", "https://good.tmall.com:8443/"),
    ("trailing-dot", "https://good.tmall.com./"),
    ("punycode-cyrillic", "https://good.xn--tmll-63d.com/"),
    ("mixed-script-typed", "https://good.tm\u0430ll.com/"),  # Cyrillic а
    ("punycode-invalid", "https://xn--tmall-9k7d.com/"),
    ("tab-in-host", "https://evil.example\t.tmall.com/"),
    ("newline-in-host", "https://evil.example\n.tmall.com/"),
    ("nul", "https://good.tmall.com\x00.evil.example/"),
    ("zero-width", "https://good.tmall.com\u200b.evil.example/"),
    ("ideographic-space", "https://good.tmall.com\u3000.evil.example/"),
    ("scheme-relative", "//good.tmall.com/"),
    ("javascript", "javascript://good.tmall.com/%0aalert(1)"),
    ("data", "data:text/html,<script>alert(1)</script>"),
    ("single-label", "https://localhost/"),
]

# Real hosts that are not the platform's, or the platform's own pages: refused as a Tmall shop.
NOT_A_TMALL_SHOP = [
    ("query-host", "https://evil.example?.tmall.com/"),
    ("fragment-host", "https://evil.example#.tmall.com/"),
    ("suffix-lookalike", "https://tmall.com.evil.example/"),
    ("hyphen-lookalike", "https://evil-tmall.com/"),
    ("bare-home", "https://tmall.com/"),
    ("www-home", "https://www.tmall.com/"),
    ("mobile-home", "https://m.tmall.com/index.html"),
    ("service-page", "https://detail.tmall.com/"),
    ("home-with-tracking", "https://www.tmall.com/?spm=a1z10"),
]

SHOP_URL_CASES = HOST_DIFFERENTIALS + NOT_A_TMALL_SHOP

# Shop URLs typed the many harmless ways people type them: accepted, stored as the second item.
CLEAN_TMALL_SHOPS = [
    ("https://meihao.tmall.com/", "https://meihao.tmall.com/"),
    ("HTTPS://MeiHao.TMALL.com:443/?spm=a1z10#top", "https://meihao.tmall.com/"),
    ("meihao.tmall.com", "https://meihao.tmall.com/"),
    ("https://shop.m.tmall.com/shop/shop_index.htm?shop_id=5551234&spm=x",
     "https://shop.m.tmall.com/shop/shop_index.htm?shop_id=5551234"),
    ("https://meihao.tmall.com/a/../shop/view_shop.htm", "https://meihao.tmall.com/shop/view_shop.htm"),
    ("https://ｍｅｉｈａｏ.tmall.com/", "https://meihao.tmall.com/"),  # full-width letters map to ASCII
]
