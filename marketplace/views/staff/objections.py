"""Staff console: objections (异议) filed on 公示 entries — read one beside the entry, see its
evidence image (private, never cached), and uphold it (the application returns to review, the
merchant is told why) or dismiss it (the objector is told). ``services.gongshi`` decides with a
conditional UPDATE, so two staff deciding at once cannot both win."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ...extensions import db
from ...models import ObjectionStatus
from ...services import gongshi
from ...unit_of_work import catch_refusal
from ..helpers import choice_arg, page_arg, private_file, show_errors
from .blueprint import bp, staff_only
from .forms import ObjectionDecisionForm

STATUSES = {**ObjectionStatus.LABELS, "all": "全部"}


@bp.route("/objections")
@staff_only
def objections():
    """Objections by status; open ones oldest first."""
    status = choice_arg("status", STATUSES, ObjectionStatus.OPEN)
    pagination = db.paginate(gongshi.staff_query(status), page=page_arg(), per_page=30, error_out=False)
    return render_template("staff/objections.html", pagination=pagination, status=status, statuses=STATUSES)


def _page(objection, form=None, status: int = 200):
    return render_template("staff/objection.html", o=objection, notice=objection.notice,
                           form=form or ObjectionDecisionForm()), status


@bp.route("/objections/<int:objection_id>")
@staff_only
def objection(objection_id: int):
    """One objection beside its 公示 entry, with the decision form while it is open."""
    return _page(gongshi.get_objection(objection_id))


@bp.route("/objections/<int:objection_id>/evidence")
@staff_only
def objection_evidence(objection_id: int):
    """The evidence image's bytes (private, never cached)."""
    o = gongshi.get_objection(objection_id)
    if not o.has_evidence:
        abort(404)
    return private_file(o.evidence_data, o.evidence_mime, f"objection-{o.id}.{o.evidence_mime.split('/')[-1]}")


@bp.route("/objections/<int:objection_id>/uphold", methods=["POST"])
@staff_only
def objection_uphold(objection_id: int):
    """Uphold: the application returns to review and the merchant is told why."""
    return _decide(objection_id, gongshi.uphold)


@bp.route("/objections/<int:objection_id>/dismiss", methods=["POST"])
@staff_only
def objection_dismiss(objection_id: int):
    """Dismiss: the notice runs on and the objector is told."""
    return _decide(objection_id, gongshi.dismiss)


def _decide(objection_id: int, act):
    """Decide with a written reason; the form comes back with the reason kept on error."""
    form = ObjectionDecisionForm()
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            o = act(objection_id, current_user, form.reason.data)
            flash(f"异议 {o.reference} 已处理：{o.status_label}。", "success")
            return redirect(url_for("staff.objections"), code=303)
        show_errors(form, refusal.error)
    return _page(gongshi.get_objection(objection_id), form, status=400)
