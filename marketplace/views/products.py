"""Consumer pages of 名优广货: ``/products`` (browse by industry, city and platform) and
``/products/<id>`` (one product, with 进店 links through ``/go/``).

Only public products are ever shown (``services/products/listing.py``); a product that is not
public is a 404 like an unknown id. Both pages are page-cached: every product change writes a
search-outbox row, which moves the version the cache keys on.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for

from ..extensions import db
from ..page_cache import cacheable
from ..services.products import listing
from .helpers import page_arg
from .public import MAX_ID

bp = Blueprint("products", __name__)

FACET_LABELS = {"industry": "行业", "city": "城市", "platform": "平台"}
MAX_SLUG = 60


def _filters() -> listing.ProductFilters:
    """Filter slugs from the query string; a bad or unknown one just matches nothing."""
    values = {}
    for key in FACET_LABELS:
        raw = (request.args.get(key) or "").strip()
        values[key] = raw if len(raw) <= MAX_SLUG and raw.isprintable() else "!invalid"
    return listing.ProductFilters(**values)


@bp.route("/products")
@cacheable
def browse():
    """Approved products, newest first, with facet counts and an empty state."""
    f = _filters()
    pagination = db.paginate(listing.browse_query(f), page=page_arg(),
                                     per_page=current_app.config["PER_PAGE"], error_out=False)
    facets = listing.facets(f)
    names = {key: next((row.name for row, _n in facets[key] if row.slug == getattr(f, key)), getattr(f, key))
             for key in FACET_LABELS}
    return render_template("products/index.html", pagination=pagination, filters=f, facets=facets,
                           facet_labels=FACET_LABELS, names=names,
                           canonical=url_for("products.browse", _external=True,
                                             **{k: getattr(f, k) for k in FACET_LABELS if getattr(f, k)}))


@bp.route("/products/<int:product_id>")
@cacheable
def detail(product_id: int):
    """One public product: photos, price range, description, its shops (进店 via /go/)."""
    if product_id > MAX_ID:
        abort(404)
    product = listing.get_public_product(product_id)
    if product is None:
        abort(404)
    more = [p for p in listing.enterprise_products(product.enterprise, limit=7) if p.id != product.id][:6]
    return render_template("products/detail.html", product=product, links=product.public_links, more=more)
