"""Staff console: 网购节 events (create, edit, hide), offer review and the event report.

On the staff blueprint, whose guard admits only staff and admins. Views parse a form, call one
service function and redirect; the request commits once after the view (``unit_of_work``) and the
merchant's decision mail goes out after that commit. A refused event form is shown again with
what was typed; a refused decision is flashed on the offer's page — or, when someone else decided
first (``AlreadyDecided``), the reviewer moves on to the next offer.
"""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ... import clock
from ...extensions import db
from ...models import EVENT_STATE_LABELS, OfferStatus
from ...services import AlreadyDecided, stats
from ...services.events import offer_review, report, schedule
from ...services.listings.lookups import active_industries
from ...unit_of_work import catch_refusal, on_refusal
from ..helpers import int_arg, page_arg, show_errors
from .blueprint import bp, staff_only
from .forms import EventForm, OfferDecisionForm, OfferRejectForm, VisibilityForm


def _event_form() -> EventForm:
    form = EventForm()
    form.industry_ids.choices = [(i.id, i.name) for i in active_industries()]
    return form


@bp.route("/events")
@staff_only
def events():
    """Every event with its state and its offers by status; links to review and report."""
    return render_template("staff/events.html", rows=schedule.staff_events(), now=clock.utc_now(),
                           state_labels=EVENT_STATE_LABELS, statuses=OfferStatus.LABELS,
                           pending=offer_review.pending_count(), form=VisibilityForm())


@bp.route("/events/new", methods=["GET", "POST"])
@staff_only
def event_new():
    """Create a 网购节 (times in China time, optional banner through the image pipeline)."""
    form = _event_form()
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            event = schedule.create_event(current_user, form.as_data(), form.banner_bytes())
            flash(f"已创建网购节：{event.name}。", "success")
            return redirect(url_for("staff.events"))
        show_errors(form, refusal.error)
    return render_template("staff/event_form.html", form=form, event=None)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@staff_only
def event_edit(event_id: int):
    """Change an event; its window must keep every submitted offer inside it."""
    event = schedule.get_event(event_id)  # NotFound: 404
    form = _event_form()
    if request.method == "GET":
        form.name.data, form.slug.data, form.description.data = event.name, event.slug, event.description
        form.starts_at.data = clock.china_wall_time(event.starts_at)
        form.ends_at.data = clock.china_wall_time(event.ends_at)
        form.industry_ids.data = [i.id for i in event.industries]
        form.version.data = str(event.version)
    elif form.validate_on_submit():
        with catch_refusal() as refusal:
            schedule.update_event(current_user, event.id, form.as_data(), form.banner_bytes(),
                                  seen_version=form.version.data)
            flash("网购节已更新。", "success")
            return redirect(url_for("staff.events"))
        show_errors(form, refusal.error)
    return render_template("staff/event_form.html", form=form, event=event)


@bp.route("/events/<int:event_id>/visibility", methods=["POST"])
@staff_only
def event_visibility(event_id: int):
    """Hide an event from the public site and from enrolment, or show it again."""
    event = schedule.get_event(event_id)
    form = VisibilityForm()
    if not form.validate_on_submit() or form.action.data not in ("hide", "show"):
        abort(400)
    schedule.set_hidden(current_user, event.id, form.action.data == "hide")
    flash(f"「{event.name}」已{'下线' if event.hidden else '重新上线'}。", "success")
    return redirect(url_for("staff.events"))


# ------------------------------------------------------------------ offer review


@bp.route("/offers")
@staff_only
def offer_queue():
    """Offers waiting for review, oldest first (optionally of one event)."""
    event_id = int_arg("event")
    pagination = db.paginate(offer_review.queue_query(event_id), page=page_arg(), per_page=20, error_out=False)
    return render_template("staff/offers.html", pagination=pagination, event_id=event_id,
                           events=schedule.staff_events(), warning=offer_review.shop_warning)


@bp.route("/offers/<int:offer_id>")
@staff_only
def offer_detail(offer_id: int):
    """One offer with its shop, event and terms, and the approve / reject forms."""
    offer = offer_review.get_offer(offer_id)  # NotFound: 404
    version = offer_review.version_of(offer)
    approve_form, reject_form = OfferDecisionForm(version=version), OfferRejectForm(version=version)
    return render_template("staff/offer.html", offer=offer, approve_form=approve_form, reject_form=reject_form,
                           warning=offer_review.shop_warning(offer), now=clock.utc_now(),
                           next_offer=offer_review.next_pending(offer, int_arg("event")), event_id=int_arg("event"))


def _after_decision(event_id: int | None):
    """The next offer to review (or the queue when none is left)."""
    nxt = offer_review.next_pending(event_id=event_id)
    if nxt is None:
        flash("没有待审核的优惠了。", "success")
        return redirect(url_for("staff.offer_queue", event=event_id))
    return redirect(url_for("staff.offer_detail", offer_id=nxt.id, event=event_id))


def _refused_decision(offer_id: int, event_id: int | None):
    """Where a refused decision goes: on to the next offer when someone else decided this one
    first, else back to the offer."""
    def respond(err):
        if isinstance(err, AlreadyDecided):
            return _after_decision(event_id)
        return redirect(url_for("staff.offer_detail", offer_id=offer_id, event=event_id))

    return respond


def _decided(offer):
    flash(f"优惠 #{offer.id}（{offer.shop.name}：{offer.headline}）{offer.status_label}。", "success")
    return _after_decision(int_arg("event"))


@bp.route("/offers/<int:offer_id>/approve", methods=["POST"])
@staff_only
def offer_approve(offer_id: int):
    """Publish an offer and tell the merchant."""
    form = OfferDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    on_refusal(_refused_decision(offer_id, int_arg("event")))
    return _decided(offer_review.approve_offer(offer_id, current_user, form.version.data))


@bp.route("/offers/<int:offer_id>/reject", methods=["POST"])
@staff_only
def offer_reject(offer_id: int):
    """Refuse an offer with a reason the merchant sees."""
    form = OfferRejectForm()
    if not form.validate_on_submit():
        flash("请填写驳回理由（不超过 1000 字）。", "error")
        return redirect(url_for("staff.offer_detail", offer_id=offer_id, event=int_arg("event")))
    on_refusal(_refused_decision(offer_id, int_arg("event")))
    return _decided(offer_review.reject_offer(offer_id, current_user, form.reason.data, form.version.data))


# ------------------------------------------------------------------ report


@bp.route("/events/<int:event_id>/report")
@staff_only
def event_report(event_id: int):
    """Participants, offers and clicks by day, as charts (staff-stats.js) with CSV downloads."""
    event = schedule.get_event(event_id)
    tables = report.event_report(event)
    return render_template("staff/event_report.html", event=event, tables=tables,
                           data=[t.as_dict() for t in tables], summary=dict(tables[0].rows),
                           state=event.state(clock.utc_now()), state_labels=EVENT_STATE_LABELS)


@bp.route("/events/<int:event_id>/report/<name>.csv")
@staff_only
def event_report_csv(event_id: int, name: str):
    """One table of the report as CSV (UTF-8 with BOM, formula-safe cells)."""
    event = schedule.get_event(event_id)
    if name not in report.TABLE_NAMES:
        abort(404)
    table = next(t for t in report.event_report(event) if t.name == name)
    return Response(stats.to_csv(table), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=gdws-event-{event.id}-{name}.csv",
        "Cache-Control": "no-store"})
