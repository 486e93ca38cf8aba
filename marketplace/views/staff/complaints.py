"""Staff console: complaint triage — list with filters, flags and deadlines, assign, reply, 办结.

The stage changes (accept, refuse, mediate, objections) and the SLA view are in
``complaint_process``.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ...extensions import db
from ...models import Complaint, ComplaintKind, ComplaintStatus, Role, User
from ...services import complaint_process as process
from ...services import complaints as svc
from ...unit_of_work import on_refusal
from ..helpers import choice_arg, page_arg
from .blueprint import bp, staff_only
from .forms import AssignForm, CloseForm, EmptyForm, MediateForm, ObjectionReviewForm, RefuseForm, ReplyForm

STATUS_FILTERS = {"open": "未办结", **ComplaintStatus.LABELS}


def _staff_choices():
    users = db.session.scalars(select(User).where(User.role.in_((Role.STAFF, Role.ADMIN)), User.is_enabled.is_(True))
                               .order_by(User.email)).all()
    return [(u.id, u.display_name or u.email) for u in users]


@bp.route("/complaints")
@staff_only
def complaints():
    """Complaints newest first; filter by status / kind / repeated counterfeit reports."""
    status = choice_arg("status", STATUS_FILTERS, "open")
    if request.args.get("status") == "all":
        status = ""
    kind = choice_arg("kind", ComplaintKind.ALL)
    flagged = request.args.get("flagged") == "1"
    mine = request.args.get("mine") == "1"
    stmt = svc.triage_query(status=status, kind=kind, flagged=flagged,
                            assignee_id=current_user.id if mine else None)
    pagination = db.paginate(stmt, page=page_arg(), per_page=30, error_out=False)
    return render_template("staff/complaints.html", pagination=pagination, status=status, kind=kind,
                           flagged=flagged, mine=mine, statuses=STATUS_FILTERS, kinds=ComplaintKind.ALL,
                           flags=svc.flagged_shop_counts(), due_state=process.due_state,
                           current_due=process.current_due)


@bp.route("/complaints/<int:complaint_id>")
@staff_only
def complaint(complaint_id: int):
    """One complaint with its messages and the triage forms."""
    c = db.get_or_404(Complaint, complaint_id)
    assign_form = AssignForm(assignee_id=c.assignee_id or current_user.id)
    assign_form.assignee_id.choices = _staff_choices()
    flags = svc.flagged_shop_counts()
    related = db.session.scalars(select(Complaint).where(Complaint.enterprise_id == c.enterprise_id, Complaint.id != c.id)
                                 .order_by(Complaint.created_at.desc()).limit(10)).all()
    return render_template("staff/complaint.html", c=c, assign_form=assign_form, reply_form=ReplyForm(),
                           close_form=CloseForm(), accept_form=EmptyForm(), refuse_form=RefuseForm(),
                           mediate_form=MediateForm(), objection_form=ObjectionReviewForm(),
                           flag_count=flags.get(c.shop_id, 0) if c.shop_id else 0, related=related,
                           is_open=c.is_open, steps=process.timeline(c),
                           due=process.due_state(process.current_due(c)))


def _complaint_page(c) -> str:
    """The complaint's page: where its forms lead back to, after success and after a refusal."""
    url = url_for("staff.complaint", complaint_id=c.id)
    on_refusal(url)
    return url


@bp.route("/complaints/<int:complaint_id>/assign", methods=["POST"])
@staff_only
def complaint_assign(complaint_id: int):
    """Assign to a staff member."""
    c = db.get_or_404(Complaint, complaint_id)
    back = _complaint_page(c)
    form = AssignForm()
    form.assignee_id.choices = _staff_choices()
    if not form.validate_on_submit():
        flash("请选择工作人员。", "error")
        return redirect(back)
    svc.assign(c, db.session.get(User, form.assignee_id.data), current_user)
    flash("已指派。", "success")
    return redirect(back)


@bp.route("/complaints/<int:complaint_id>/reply", methods=["POST"])
@staff_only
def complaint_reply(complaint_id: int):
    """Post a public reply or an internal note."""
    c = db.get_or_404(Complaint, complaint_id)
    back = _complaint_page(c)
    form = ReplyForm()
    if not form.validate_on_submit():
        flash("请填写回复内容（不超过 2000 字）。", "error")
        return redirect(back)
    svc.staff_reply(c, form.body.data, current_user, public=bool(form.public.data))
    flash("回复已保存。", "success")
    return redirect(back)


@bp.route("/complaints/<int:complaint_id>/close", methods=["POST"])
@staff_only
def complaint_close(complaint_id: int):
    """办结 (resolved or not) with a public note and whether the complaint proved true."""
    c = db.get_or_404(Complaint, complaint_id)
    back = _complaint_page(c)
    form = CloseForm()
    if not form.validate_on_submit():
        flash("请选择办结结果并填写处理说明。", "error")
        return redirect(back)
    process.close(c, form.outcome.data, form.note.data, current_user, upheld=bool(form.upheld.data))
    flash(f"投诉 {c.reference} 已办结（{c.status_label}）。", "success")
    return redirect(back)


@bp.route("/complaints/<int:complaint_id>/evidence")
@staff_only
def complaint_evidence(complaint_id: int):
    """Redirect to the stored (re-encoded) evidence image."""
    c = db.get_or_404(Complaint, complaint_id)
    if not c.evidence_sha256:
        abort(404)
    return redirect(url_for("media.image", sha256=c.evidence_sha256))
