"""Absolute links to the site's pages, for the API, feeds, sitemaps, QR codes and share tags.

Every link starts with the configured canonical base ``SERVER_NAME_FOR_LINKS``, in a request or
not: never with the request's Host header (a forged one must not reach a feed, a sitemap or an API
answer that a cache or a reader keeps). Every link is built by ``url_for`` from an endpoint, which
fails loudly on a typo or a missing route.
"""
from __future__ import annotations

from flask import current_app, has_request_context, url_for

from ..models import Certification, City, Enterprise, Industry, Platform, Shop
from ..templating import memo_url_for


def base_url() -> str:
    """``scheme://host`` of the site, without a trailing slash (``config.link_settings``)."""
    return current_app.config["SERVER_NAME_FOR_LINKS"]


def absolute(path: str) -> str:
    """Make a site path (``/enterprises/1``) absolute."""
    if path.startswith(("http://", "https://")):
        return path
    return base_url() + path


def url(endpoint: str, **values) -> str:
    """Absolute URL of ``endpoint`` built by ``url_for`` (outside a request, on the canonical base)."""
    if has_request_context():
        return absolute(memo_url_for(endpoint, **values))
    with current_app.test_request_context("/"):
        path = url_for(endpoint, **values)
    return absolute(path)


def enterprise_url(ent: Enterprise) -> str:
    return url("public.enterprise", enterprise_id=ent.id)


def industry_url(ind: Industry) -> str:
    return url("public.industry", slug=ind.slug)


def city_url(city: City) -> str:
    return url("public.city", slug=city.slug)


def platform_url(plat: Platform) -> str:
    return url("public.platform", slug=plat.slug)


def go_url(shop: Shop) -> str:
    return url("public.go", shop_id=shop.id)


def certificate_url(cert: Certification) -> str:
    return url("trust.certificate", number=cert.number)


def badge_url(cert: Certification) -> str:
    return url("trust.badge", number=cert.number)


def logo_url(ent: Enterprise) -> str | None:
    if not ent.logo_sha256:
        return None
    return url("media.image", sha256=ent.logo_sha256)


def complaint_url(ent: Enterprise | None = None, shop: Shop | None = None) -> str | None:
    """Where a consumer reports a public enterprise or shop, or None when there is no public target."""
    if shop is not None and shop.is_public:
        return url("complaints.new", enterprise_id=shop.enterprise_id, shop_id=shop.id)
    if ent is not None and ent.is_public:
        return url("complaints.new", enterprise_id=ent.id)
    return None
