"""Staff console: the complaint stages — accept, refuse, mediate, review objections — and the SLA
view (every open complaint by deadline, overdue first, plus objections waiting for review).

The rules and deadlines are in ``services.complaint_process``; these views only parse the form,
call one service function and go back to the complaint. A refusal (``StageChanged`` when someone
else moved the complaint on first) is flashed on the complaint's page and nothing is kept; the
merchant's mail goes out after the commit.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ...extensions import db
from ...models import Complaint
from ...services import complaint_process as process
from ...unit_of_work import on_refusal
from .blueprint import bp, staff_only
from .forms import EmptyForm, MediateForm, ObjectionReviewForm, RefuseForm


def _complaint(complaint_id: int) -> Complaint:
    """The complaint (404 if none); a refusal from here on goes back to its page."""
    c = db.get_or_404(Complaint, complaint_id)
    on_refusal(url_for("staff.complaint", complaint_id=c.id))
    return c


def _back(c: Complaint):
    return redirect(url_for("staff.complaint", complaint_id=c.id), code=303)


@bp.route("/complaints/<int:complaint_id>/accept", methods=["POST"])
@staff_only
def complaint_accept(complaint_id: int):
    """受理: the merchant has 10 working days to settle (or mediation starts at once)."""
    c = _complaint(complaint_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    process.accept(c, current_user)
    flash("已受理。", "success")
    return _back(c)


@bp.route("/complaints/<int:complaint_id>/refuse", methods=["POST"])
@staff_only
def complaint_refuse(complaint_id: int):
    """不予受理, with a reason the consumer reads."""
    c = _complaint(complaint_id)
    form = RefuseForm()
    if not form.validate_on_submit():
        flash("请填写不予受理的理由（不超过 2000 字）。", "error")
        return _back(c)
    process.refuse(c, current_user, form.reason.data)
    flash("已决定不予受理。", "success")
    return _back(c)


@bp.route("/complaints/<int:complaint_id>/mediate", methods=["POST"])
@staff_only
def complaint_mediate(complaint_id: int):
    """End the merchant negotiation early and start mediation (45 working days)."""
    c = _complaint(complaint_id)
    form = MediateForm()
    if not form.validate_on_submit():
        flash("说明不能超过 2000 字。", "error")
        return _back(c)
    process.start_mediation(c, current_user, form.mediate_note.data or "")
    flash("已转入调解。", "success")
    return _back(c)


@bp.route("/complaints/<int:complaint_id>/objection", methods=["POST"])
@staff_only
def complaint_objection(complaint_id: int):
    """Review the consumer's objection: mediate again, or keep the result with a note."""
    c = _complaint(complaint_id)
    form = ObjectionReviewForm()
    if not form.validate_on_submit():
        flash("请选择复核结果。", "error")
        return _back(c)
    reopen = form.decision.data == "reopen"
    process.review_objection(c, current_user, reopen, form.review_note.data or "")
    flash("已重新进入调解。" if reopen else "已维持办结结果。", "success")
    return _back(c)


@bp.route("/complaints/deadlines")
@staff_only
def complaint_deadlines():
    """The SLA view: open complaints by deadline (overdue in red first), then objections to review."""
    rows = db.session.scalars(process.sla_query().limit(500)).all()
    objections = db.session.scalars(process.objections_query().limit(200)).all()
    return render_template("staff/complaint_deadlines.html", rows=rows, objections=objections,
                           due_state=process.due_state, current_due=process.current_due)
