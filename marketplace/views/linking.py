"""Absolute links to the site's pages, for the API, feeds, sitemaps, QR codes and share tags.

Every link starts with the configured canonical base ``SERVER_NAME_FOR_LINKS``, in a request or
not: never with the request's Host header (a forged one must not reach a feed, a sitemap or an API
answer that a cache or a reader keeps). Pages owned by other blueprints are linked by
endpoint when registered, with the documented path as a fallback, so this module keeps working
while those blueprints change.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import current_app, has_request_context, url_for
from werkzeug.routing import BuildError

from ..models import Certification, City, Enterprise, Industry, Platform, Shop


def base_url() -> str:
    """``scheme://host`` of the site, without a trailing slash (``config.link_settings``)."""
    return current_app.config["SERVER_NAME_FOR_LINKS"]


def absolute(path: str) -> str:
    """Make a site path (``/enterprises/1``) absolute."""
    if path.startswith(("http://", "https://")):
        return path
    return base_url() + path


def path_for(endpoint: str, fallback: str, **values) -> str:
    """The path of ``endpoint`` built with ``values``, or ``fallback`` if it cannot be built."""
    if endpoint in current_app.view_functions:
        try:
            if has_request_context():
                return url_for(endpoint, **values)
            with current_app.test_request_context("/"):
                return url_for(endpoint, **values)
        except BuildError:
            pass
    return fallback


def url(endpoint: str, fallback: str, **values) -> str:
    """Absolute URL of ``endpoint`` (see ``path_for``)."""
    return absolute(path_for(endpoint, fallback, **values))


def enterprise_url(ent: Enterprise) -> str:
    return url("public.enterprise", f"/enterprises/{ent.id}", enterprise_id=ent.id)


def industry_url(ind: Industry) -> str:
    return url("public.industry", f"/industries/{quote(ind.slug)}", slug=ind.slug)


def city_url(city: City) -> str:
    return url("public.city", f"/cities/{quote(city.slug)}", slug=city.slug)


def platform_url(plat: Platform) -> str:
    return url("public.platform", f"/platforms/{quote(plat.slug)}", slug=plat.slug)


def go_url(shop: Shop) -> str:
    return url("public.go", f"/go/{shop.id}", shop_id=shop.id)


def certificate_url(cert: Certification) -> str:
    return url("trust.certificate", f"/certificates/{quote(cert.number)}", number=cert.number)


def badge_url(cert: Certification) -> str:
    return url("trust.badge", f"/badges/{quote(cert.number)}.svg", number=cert.number)


def logo_url(ent: Enterprise) -> str | None:
    if not ent.logo_sha256:
        return None
    return url("media.image", f"/media/{ent.logo_sha256}", sha256=ent.logo_sha256)


def complaint_url(ent: Enterprise | None = None, shop: Shop | None = None) -> str | None:
    """Where a consumer reports a public enterprise or shop (the complaints blueprint's form),
    or None when there is no public target or the blueprint is not registered."""
    if "complaints.new" not in current_app.view_functions:
        return None
    if shop is not None and shop.is_public:
        values = {"enterprise_id": shop.enterprise_id, "shop_id": shop.id}
    elif ent is not None and ent.status == "certified":
        values = {"enterprise_id": ent.id}
    else:
        return None
    try:
        return url("complaints.new", "/report", **values)
    except BuildError:
        return None
