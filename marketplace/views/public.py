"""Consumer pages: home, browse, enterprise, industry/city/platform pages, click-through."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select, update

from .. import page_cache
from ..page_cache import cacheable
from ..clock import china_today, utc_now
from ..extensions import db
from ..models import (
    ClickEvent, Enterprise, Platform, Product, ProductLink, Shop, ShopType, product_is_public,
    shop_is_public,
)
from ..services import authorizations, complaint_record, news
from ..services.catalog import aggregates, detail, featured_slots
from ..services.catalog.facets import browse_facets
from ..services.catalog.filters import (
    DEFAULT_SORT, FILTER_KEYS, SORTS, BrowseFilters, browse as browse_enterprises, parse_filters, reference_rows,
)
from ..services.events import listing as event_listing
from ..services.products import listing as product_listing
from ..services.reference_data import REGIONS
from ..validation.urls import checked_href, parse_web_url, product_url_problem, shop_url_problem
from .helpers import choice_arg, int_arg, page_arg, slug_or_404

bp = Blueprint("public", __name__)

HOME_NEWS = 5  # latest articles in the home page's news section
MAX_ID = 2**31 - 1  # ids are 32-bit integers; larger path values would overflow the database driver


def _id_or_404(value: int) -> int:
    if value > MAX_ID:
        abort(404)
    return value


def render_home(at: datetime, preview: bool = False) -> str:
    """Render the home page as it looks at ``at`` (naive UTC): featured slots live then.

    The staff console calls this with ``preview=True`` to show the home page at a chosen date;
    a preview is marked as such and kept out of search engines.
    """
    goal = current_app.config["ENTERPRISE_GOAL"]
    # the featured lists and the newest enterprises share one card load (see home_listings)
    featured, newest = featured_slots.home_listings(at, 8)
    return render_template(
        "public/home.html",
        at=at,
        preview=preview,
        counts=aggregates.counts(goal),
        featured=featured,
        industries=aggregates.industries_with_counts(),
        regions=aggregates.cities_by_region(),
        newest=newest,
        news=news.latest_headlines(HOME_NEWS, at, min_version=page_cache.request_head()),
        event=event_listing.featured_event(at),
    )


@bp.route("/")
@cacheable
def home():
    """The campaign's front page (featuring the live 网购节; cached no later than its next change)."""
    now = utc_now()
    page_cache.fresh_until(event_listing.next_change(now))
    return render_home(now)


def _browse_context(fixed: dict[str, str] | None = None):
    """Parse filters, sort and page from the query string (``fixed`` filters come from the URL
    path of an industry or city page and cannot be removed there)."""
    args = {k: request.args.get(k, "") for k in FILTER_KEYS}
    args.update(fixed or {})
    filters = parse_filters(args)
    sort = choice_arg("sort", SORTS, DEFAULT_SORT)
    page = page_arg()
    pagination = browse_enterprises(filters, sort, page, current_app.config["PER_PAGE"])
    facets = browse_facets(filters)
    return {
        "filters": filters,
        "fixed": set((fixed or {}).keys()),
        "sort": sort,
        "sorts": SORTS,
        "pagination": pagination,
        "facet_industries": facets.industries,
        "facet_regions": facets.regions,
        "facet_platforms": facets.platforms,
        "shop_types": ShopType.ALL,
        "badges": list(reference_rows("badge").values()),
        "regions": REGIONS,
    }


def _canonical(endpoint: str, filters: BrowseFilters, page: int, fixed=(), **values) -> str:
    args = {k: v for k, v in filters.as_args().items() if k not in fixed}
    if page > 1:
        args["page"] = page
    return url_for(endpoint, _external=True, **values, **args)


@bp.route("/enterprises")
@cacheable
def browse():
    """All certified enterprises, with combinable filters, sorts and pages."""
    ctx = _browse_context()
    ctx["canonical"] = _canonical("public.browse", ctx["filters"], ctx["pagination"].page)
    return render_template("public/browse.html", **ctx)


@bp.route("/industries/<slug>")
@cacheable
def industry(slug: str):
    """An industry's certified enterprises (the browse list with the industry fixed)."""
    ind = reference_rows("industry").get(slug_or_404(slug)) or abort(404)
    ctx = _browse_context({"industry": ind.slug})
    ctx["canonical"] = _canonical("public.industry", ctx["filters"], ctx["pagination"].page,
                                  fixed=ctx["fixed"], slug=ind.slug)
    return render_template("public/browse.html", industry=ind, **ctx)


@bp.route("/cities/<slug>")
@cacheable
def city(slug: str):
    """A city's certified enterprises (the browse list with the city fixed)."""
    c = reference_rows("city").get(slug_or_404(slug)) or abort(404)
    ctx = _browse_context({"city": c.slug})
    ctx["canonical"] = _canonical("public.city", ctx["filters"], ctx["pagination"].page,
                                  fixed=ctx["fixed"], slug=c.slug)
    return render_template("public/browse.html", city=c, **ctx)


def _can_see_unpublished(ent: Enterprise) -> bool:
    if not current_user.is_authenticated:
        return False
    return bool(current_user.is_staff or (ent.owner_id is not None and current_user.id == ent.owner_id))


@bp.route("/enterprises/<int:enterprise_id>")
@cacheable
def enterprise(enterprise_id: int):
    """An enterprise's page; listings that are not public are 404 except to their owner and staff."""
    today = china_today()
    page = detail.read_enterprise_page(_id_or_404(enterprise_id), today)
    ent = page.enterprise
    if ent is None:
        abort(404)
    unpublished = not ent.is_public
    if unpublished and not _can_see_unpublished(ent):
        abort(404)
    page_cache.only_shown()  # other listings' changes (even counts) leave this page as it is
    certified = page.certified_shops
    response = current_app.make_response(render_template(
        "public/enterprise.html",
        ent=ent,
        unpublished=unpublished,
        # the owner's / staff's preview of a listing that is not public shows every shop
        shop_groups=detail.shops_by_platform(page.shops if unpublished else certified),
        certified_shops=certified,
        certificate=ent.certificate,
        shop_authorizations=authorizations.shop_labels(certified),
        authorized_shops=authorizations.granted_shops(ent) if ent.is_public else [],
        complaint_record=(complaint_record.public_record(ent.id, today) if page.complaints_in_window
                          else complaint_record.empty_record(today)),
        products=product_listing.enterprise_products(ent) if ent.is_public else [],
    ))
    if unpublished:
        response.headers["X-Robots-Tag"] = "noindex"
        response.headers["Cache-Control"] = "private, no-store"
    return response


bp.add_app_template_global(checked_href, "checked_url")


@bp.route("/go/<int:shop_id>", methods=["GET"])
def go(shop_id: int):
    """Count a click-through and redirect to the shop's stored, certified URL (never elsewhere).

    The stored URL is checked again with the shop forms' rules (``shop_url_problem``) before every
    redirect: one that no longer passes (stored before a rule existed, or edited in the database)
    answers 404 and logs an alert for staff instead of sending the visitor off the platform.
    With ``?link=<id>`` the target is a public product's page on this shop instead, re-checked
    the same way with the product URL rules (``product_url_problem``).
    """
    row = db.session.execute(
        select(Shop.id, Shop.url, Shop.enterprise_id, Platform, Enterprise.website)
        .join(Enterprise, Enterprise.id == Shop.enterprise_id)
        .join(Platform, Platform.id == Shop.platform_id)
        .where(Shop.id == _id_or_404(shop_id), shop_is_public())
    ).first()
    if row is None:
        abort(404)
    problem = shop_url_problem(row.url, row.Platform.host_list, platform_name=row.Platform.name,
                               website=row.website)
    if problem is not None:
        current_app.logger.error("ALERT /go/%s: stored URL %r of a certified shop fails the URL check: %s",
                                 row.id, row.url, problem)
        abort(404)
    target = parse_web_url(row.url).href
    if "link" in request.args:
        target = _product_target(row, int_arg("link"))
    if request.method == "GET":  # HEAD (link checkers, previews) answers the same without counting
        _count_click(row.id, row.enterprise_id, event_listing.click_source(row.id, request.args.get("offer")))
    response = redirect(target, code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _product_target(row, link_id: int | None) -> str:
    """The stored URL of public product link ``link_id`` on the shop of ``row`` (404 unless it
    is public and still passes the product URL rules); counts the product's click on GET."""
    link = db.session.scalar(select(ProductLink).join(Product, Product.id == ProductLink.product_id)
                             .join(Enterprise, Enterprise.id == Product.enterprise_id)
                             .where(ProductLink.id == _id_or_404(link_id or 0),
                                    ProductLink.shop_id == row.id, product_is_public()))
    if link is None:
        abort(404)
    problem = product_url_problem(link.url, shop_url=row.url, platform_slug=row.Platform.slug,
                                  platform_hosts=row.Platform.host_list, platform_name=row.Platform.name,
                                  website=row.website)
    if problem is not None:
        current_app.logger.error("ALERT /go/%s?link=%s: stored product URL %r fails the URL check: %s",
                                 row.id, link.id, link.url, problem)
        abort(404)
    if request.method == "GET":
        db.session.execute(update(Product).where(Product.id == link.product_id)
                           .values(click_count=Product.click_count + 1).execution_options(synchronize_session=False))
    return parse_web_url(link.url).href


def _count_click(shop_id: int, enterprise_id: int, source: tuple[int, int] | None = None) -> None:
    """Atomic counter updates (no read-modify-write race between workers) plus a ClickEvent,
    which keeps the 网购节 and offer the click came from (``source``), if any."""
    db.session.execute(update(Shop).where(Shop.id == shop_id).values(click_count=Shop.click_count + 1)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Enterprise).where(Enterprise.id == enterprise_id)
                       .values(click_count=Enterprise.click_count + 1)
                       .execution_options(synchronize_session=False))
    event_id, offer_id = source or (None, None)
    db.session.add(ClickEvent(shop_id=shop_id, event_id=event_id, offer_id=offer_id))


@bp.route("/platforms")
@cacheable
def platforms():
    """The platforms directory: every active platform with its certified shops and enterprises."""
    return render_template("public/platforms.html", platforms=aggregates.platforms_with_counts())


@bp.route("/platforms/<slug>")
@cacheable
def platform(slug: str):
    """A platform's page: description, homepage and its certified shops, paginated."""
    plat = db.first_or_404(select(Platform).where(Platform.slug == slug_or_404(slug), Platform.active.is_(True)))
    shop_type = choice_arg("shop_type", ShopType.ALL, "")
    page = page_arg()
    pagination = detail.platform_shops(plat, shop_type or None, page, current_app.config["PER_PAGE"])
    args = {"shop_type": shop_type} if shop_type else {}
    if page > 1:
        args["page"] = page
    canonical = url_for("public.platform", slug=plat.slug, _external=True, **args)
    return render_template("public/platform.html", platform=plat, pagination=pagination,
                           shop_type=shop_type, shop_types=ShopType.ALL, canonical=canonical,
                           shop_authorizations=authorizations.shop_labels(pagination.items))


@bp.route("/about")
@cacheable
def about():
    """About the 广货网上行 campaign."""
    goal = current_app.config["ENTERPRISE_GOAL"]
    return render_template("public/about.html", counts=aggregates.counts(goal))


@bp.route("/privacy")
@cacheable
def privacy():
    """隐私政策: what the site collects, why, and the visitor's rights."""
    return render_template("public/privacy.html")


@bp.route("/terms")
@cacheable
def terms():
    """使用条款: what certification means and the rules for consumers, merchants and data users."""
    return render_template("public/terms.html")
