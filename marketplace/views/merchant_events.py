"""Merchant area: enroll certified shops in 网购节 with offers (``/merchant/events``).

Its routes are on the merchant blueprint (``views.merchant.bp``, whose guard admits logged-in
merchants only); the app factory imports this module before registering that blueprint. Ownership
of every shop and offer is checked by ``services.events.offers``: another merchant's id is a 404.
A refused offer form is shown again with what was typed (``catch_refusal``); the request commits
once after the view (``unit_of_work``).
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import clock
from ..models import OfferKind, OfferStatus
from ..services.events import offers
from ..services.listings.lookups import get_owned_shop
from ..unit_of_work import catch_refusal, on_refusal
from .helpers import show_errors
from .merchant import bp
from .merchant_forms import ConfirmForm, OfferForm


@bp.route("/events")
def events_overview():
    """Open events and the merchant's offers in each, with their review status."""
    now = clock.utc_now()
    events = offers.merchant_events(current_user, now)
    return render_template("merchant/events.html", events=events, now=now,
                           offers_by_event=offers.merchant_offers(current_user),
                           eligible={e.id: offers.eligible_shops(current_user, e) for e in events if e.ends_at > now},
                           editable=offers.EDITABLE, withdrawable=offers.WITHDRAWABLE, form=ConfirmForm(),
                           statuses=OfferStatus.LABELS)


def _offer_form(event, offer=None) -> OfferForm:
    form = OfferForm()
    if request.method == "GET" and offer is None:
        start = max(event.starts_at, clock.utc_now())
        form.starts_at.data = clock.china_wall_time(start).replace(second=0, microsecond=0)
        form.ends_at.data = clock.china_wall_time(event.ends_at)
    return form


@bp.route("/shops/<int:shop_id>/events/<int:event_id>/offers/new", methods=["GET", "POST"])
def offer_new(shop_id: int, event_id: int):
    """Enroll one of the merchant's certified shops in an event with an offer (staff review it)."""
    shop = get_owned_shop(current_user, shop_id)  # another merchant's shop: NotFound, 404
    on_refusal(url_for("merchant.events_overview"))  # an ended event or a shop that may not take part
    event = offers.get_enrollable_event(event_id)
    offers.check_shop(current_user, shop.id, event)
    form = _offer_form(event)
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            offers.submit_offer(current_user, shop.id, event.id, form.as_data())
            flash("优惠已提交，工作人员审核通过后显示在网购节页面上。", "success")
            return redirect(url_for("merchant.events_overview"))
        show_errors(form, refusal.error)
    return render_template("merchant/offer_form.html", form=form, event=event, shop=shop, offer=None,
                           kinds=OfferKind.LABELS)


@bp.route("/offers/<int:offer_id>/edit", methods=["GET", "POST"])
def offer_edit(offer_id: int):
    """Change a pending or rejected offer; it goes (back) to review."""
    offer = offers.get_own_offer(current_user, offer_id)
    if offer.status not in offers.EDITABLE or offer.event.hidden or offer.event.ends_at <= clock.utc_now():
        flash("这项优惠不能再修改。", "error")
        return redirect(url_for("merchant.events_overview"))
    form = _offer_form(offer.event, offer)
    if request.method == "GET":
        _prefill(form, offer)
    elif form.validate_on_submit():
        with catch_refusal() as refusal:
            offers.update_offer(current_user, offer.id, form.as_data())
            flash("修改已保存，优惠重新进入审核。", "success")
            return redirect(url_for("merchant.events_overview"))
        show_errors(form, refusal.error)
    return render_template("merchant/offer_form.html", form=form, event=offer.event, shop=offer.shop, offer=offer,
                           kinds=OfferKind.LABELS)


def _prefill(form: OfferForm, offer) -> None:
    form.kind.data = offer.kind
    form.threshold.data = f"{offer.threshold_fen / 100:g}" if offer.threshold_fen else ""
    form.amount.data = f"{offer.amount_fen / 100:g}" if offer.amount_fen else ""
    form.discount.data = f"{offer.discount_tenths / 10:g}" if offer.discount_tenths else ""
    form.gift.data, form.terms.data, form.coupon_code.data = offer.gift, offer.terms, offer.coupon_code
    form.starts_at.data = clock.china_wall_time(offer.starts_at)
    form.ends_at.data = clock.china_wall_time(offer.ends_at)


@bp.route("/offers/<int:offer_id>/withdraw", methods=["POST"])
def offer_withdraw(offer_id: int):
    """Take a pending or approved offer down at once."""
    offer = offers.get_own_offer(current_user, offer_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    back = url_for("merchant.events_overview")
    on_refusal(back)
    offers.withdraw_offer(current_user, offer.id)
    flash("优惠已撤下，网购节页面上不再显示。", "success")
    return redirect(back)
