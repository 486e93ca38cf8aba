"""Staff console: annual confirmations (年度确认) — check what owners confirmed; accepting one
reinstates an enterprise the lapse suspended, returning it asks the owner again."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ...models import ConfirmationStatus
from ...services import annual_confirmation
from ...unit_of_work import on_refusal
from ..helpers import choice_arg
from .blueprint import bp, staff_only
from .forms import AnnualCheckForm


@bp.route("/annual-confirmations")
@staff_only
def annual_list():
    """Confirmations by status: submitted ones (to check) first."""
    status = choice_arg("status", ConfirmationStatus.LABELS, ConfirmationStatus.SUBMITTED)
    return render_template("staff/annual_confirmations.html", rows=annual_confirmation.staff_list(status),
                           status=status, statuses=ConfirmationStatus.LABELS, form_for=lambda row: AnnualCheckForm(
                               version=row.version))


@bp.route("/annual-confirmations/<int:row_id>/check", methods=["POST"])
@staff_only
def annual_check(row_id: int):
    """Accept (and reinstate when the lapse suspended the enterprise) or return to the owner."""
    on_refusal(url_for("staff.annual_list"))
    form = AnnualCheckForm()
    if not form.validate_on_submit() or form.decision.data not in ("accept", "return"):
        abort(400)
    row = annual_confirmation.check(current_user, row_id, accept=form.decision.data == "accept",
                                    note=form.note.data or "", seen_version=form.version.data)
    flash(f"「{row.enterprise.name}」的年度确认{'已核实' if row.status == 'confirmed' else '已退回商家'}。", "success")
    return redirect(url_for("staff.annual_list"))
