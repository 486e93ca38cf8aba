"""Consumer pages of the 网购节: ``/events`` and ``/events/<slug>``.

Public and cacheable (``@cacheable``) like the other public pages (``page_cache``). Each page tells the cache
when it next changes by itself (an offer or event starting or ending), so a cached copy never
shows an offer after its end; withdrawals, decisions and revocations go through the search
outbox and drop the cached pages at once.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for

from .. import clock, page_cache
from ..models import EVENT_STATE_LABELS, OfferKind
from ..page_cache import cacheable
from ..services.events import listing
from .helpers import page_arg, slug_or_404

bp = Blueprint("events", __name__)


@bp.route("/events")
@cacheable
def index():
    """Live, upcoming and recently ended events."""
    now = clock.utc_now()
    groups = listing.public_events(now)
    page_cache.fresh_until(listing.next_change(now))
    return render_template("events/index.html", groups=groups, now=now, state_labels=EVENT_STATE_LABELS)


@bp.route("/events/<slug>")
@cacheable
def detail(slug: str):
    """One event: its participating shops with their offers, filters and a countdown."""
    now = clock.utc_now()
    event = listing.get_public_event(slug_or_404(slug))  # NotFound: 404
    state = event.state(now)
    filters = listing.parse_event_filters(request.args)
    page = page_arg()
    context = {"event": event, "state": state, "state_labels": EVENT_STATE_LABELS, "filters": filters,
               "kinds": OfferKind.LABELS, "now": now}
    if state == "ended":
        context["participants"] = listing.participants(event)
    else:
        context["pagination"] = listing.event_shops(event, filters, page, current_app.config["PER_PAGE"], now)
        context["facets"] = listing.event_facets(event, filters, now)
    args = filters.as_args() if state != "ended" else {}
    if page > 1:
        args["page"] = page
    context["canonical"] = url_for("events.detail", slug=event.slug, _external=True, **args)
    page_cache.fresh_until(listing.event_next_change(event, now))
    return render_template("events/detail.html", **context)
