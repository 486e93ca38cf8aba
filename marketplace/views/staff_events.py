"""Staff console: 网购节 events (create, edit, hide), offer review and the event report.

Registered on the staff blueprint, whose guard admits only staff and admins. Views parse a form,
call one service function, commit, then send the mails the decision produced.
"""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import clock
from ..extensions import db
from ..models import EVENT_STATE_LABELS, OfferStatus
from ..services import NotFound, ServiceError, stats
from ..services.events import offer_review, report, schedule
from ..services.listings import active_industries
from .event_forms import EventForm, OfferDecisionForm, OfferRejectForm, VisibilityForm
from .helpers import page_arg
from .merchant import _apply_errors
from .staff import bp, commit_and_notify, int_arg, staff_only


def _event_or_404(event_id: int):
    try:
        return schedule.get_event(event_id)
    except NotFound:
        abort(404)


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
        try:
            event = schedule.create_event(current_user, form.as_data(), form.banner_bytes())
        except ServiceError as err:
            db.session.rollback()
            _apply_errors(form, err)
        else:
            db.session.commit()
            flash(f"已创建网购节：{event.name}。", "success")
            return redirect(url_for("staff.events"))
    return render_template("staff/event_form.html", form=form, event=None)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@staff_only
def event_edit(event_id: int):
    """Change an event; its window must keep every submitted offer inside it."""
    event = _event_or_404(event_id)
    form = _event_form()
    if request.method == "GET":
        form.name.data, form.slug.data, form.description.data = event.name, event.slug, event.description
        form.starts_at.data = clock.to_china(event.starts_at).replace(tzinfo=None)
        form.ends_at.data = clock.to_china(event.ends_at).replace(tzinfo=None)
        form.industry_ids.data = [i.id for i in event.industries]
    elif form.validate_on_submit():
        try:
            schedule.update_event(current_user, event.id, form.as_data(), form.banner_bytes())
        except ServiceError as err:
            db.session.rollback()
            _apply_errors(form, err)
        else:
            db.session.commit()
            flash("网购节已更新。", "success")
            return redirect(url_for("staff.events"))
    return render_template("staff/event_form.html", form=form, event=event)


@bp.route("/events/<int:event_id>/visibility", methods=["POST"])
@staff_only
def event_visibility(event_id: int):
    """Hide an event from the public site and from enrolment, or show it again."""
    event = _event_or_404(event_id)
    form = VisibilityForm()
    if not form.validate_on_submit() or form.action.data not in ("hide", "show"):
        abort(400)
    schedule.set_hidden(current_user, event.id, form.action.data == "hide")
    db.session.commit()
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
    try:
        offer = offer_review.get_offer(offer_id)
    except NotFound:
        abort(404)
    version = offer_review.version_of(offer)
    approve_form, reject_form = OfferDecisionForm(version=version), OfferRejectForm(version=version)
    return render_template("staff/offer.html", offer=offer, approve_form=approve_form, reject_form=reject_form,
                           warning=offer_review.shop_warning(offer), now=clock.utc_now(),
                           next_offer=offer_review.next_pending(offer, int_arg("event")), event_id=int_arg("event"))


def _after_decision(event_id: int | None):
    nxt = offer_review.next_pending(event_id=event_id)
    if nxt is None:
        flash("没有待审核的优惠了。", "success")
        return redirect(url_for("staff.offer_queue", event=event_id))
    return redirect(url_for("staff.offer_detail", offer_id=nxt.id, event=event_id))


def _decide(offer_id: int, decide):
    """Run one decision; on refusal go back to the offer (or on, when someone else decided)."""
    event_id = int_arg("event")
    try:
        offer, notices = decide()
    except NotFound:
        abort(404)
    except ServiceError as err:
        db.session.rollback()
        flash(str(err), "error")
        if str(err) == offer_review.ALREADY_DECIDED:
            return _after_decision(event_id)
        return redirect(url_for("staff.offer_detail", offer_id=offer_id, event=event_id))
    commit_and_notify(notices)
    flash(f"优惠 #{offer.id}（{offer.shop.name}：{offer.headline}）{offer.status_label}。", "success")
    return _after_decision(event_id)


@bp.route("/offers/<int:offer_id>/approve", methods=["POST"])
@staff_only
def offer_approve(offer_id: int):
    """Publish an offer and tell the merchant."""
    form = OfferDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    return _decide(offer_id, lambda: offer_review.approve_offer(offer_id, current_user, form.version.data))


@bp.route("/offers/<int:offer_id>/reject", methods=["POST"])
@staff_only
def offer_reject(offer_id: int):
    """Refuse an offer with a reason the merchant sees."""
    form = OfferRejectForm()
    if not form.validate_on_submit():
        flash("请填写驳回理由（不超过 1000 字）。", "error")
        return redirect(url_for("staff.offer_detail", offer_id=offer_id, event=int_arg("event")))
    return _decide(offer_id, lambda: offer_review.reject_offer(offer_id, current_user, form.reason.data,
                                                               form.version.data))


# ------------------------------------------------------------------ report


@bp.route("/events/<int:event_id>/report")
@staff_only
def event_report(event_id: int):
    """Participants, offers and clicks by day, as charts (staff-stats.js) with CSV downloads."""
    event = _event_or_404(event_id)
    tables = report.event_report(event)
    return render_template("staff/event_report.html", event=event, tables=tables,
                           data=[t.as_dict() for t in tables], summary=dict(tables[0].rows),
                           state=event.state(clock.utc_now()), state_labels=EVENT_STATE_LABELS)


@bp.route("/events/<int:event_id>/report/<name>.csv")
@staff_only
def event_report_csv(event_id: int, name: str):
    """One table of the report as CSV (UTF-8 with BOM, formula-safe cells)."""
    event = _event_or_404(event_id)
    if name not in report.TABLE_NAMES:
        abort(404)
    table = next(t for t in report.event_report(event) if t.name == name)
    return Response(stats.to_csv(table), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=gdws-event-{event.id}-{name}.csv",
        "Cache-Control": "no-store"})
