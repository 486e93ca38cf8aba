"""Staff console: brand authorizations — check the letters distributors upload (the letter shown
beside what they typed), and withdraw an authorization when the brand owner disputes it."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ...models import PDF_MIME, AuthorizationStatus
from ...services import authorizations
from ...services.pdfs import page_count, render_pages
from ...unit_of_work import on_refusal
from ..helpers import choice_arg, private_file
from .blueprint import bp, staff_only
from .forms import AuthorizationDecisionForm, AuthorizationWithdrawForm


@bp.route("/authorizations")
@staff_only
def authorization_list():
    """Authorizations by status; letters waiting for a check first."""
    status = choice_arg("status", AuthorizationStatus.LABELS, AuthorizationStatus.PENDING)
    rows = authorizations.staff_queue(status)
    others = authorizations.names_by_code([a.distributor_uscc for a in rows] + [a.grantor_uscc for a in rows])
    return render_template("staff/authorizations.html", rows=rows, status=status, others=others,
                           statuses=AuthorizationStatus.LABELS)


@bp.route("/authorizations/<int:auth_id>")
@staff_only
def authorization(auth_id: int):
    """One authorization: what was typed, the letter, both sides, the shops that depend on it."""
    auth = authorizations.get_for_staff(auth_id)
    return render_template(
        "staff/authorization.html", auth=auth, distributor=authorizations.enterprise_with_code(auth.distributor_uscc),
        grantor=authorizations.enterprise_with_code(auth.grantor_uscc),
        decision_form=AuthorizationDecisionForm(version=auth.version),
        withdraw_form=AuthorizationWithdrawForm(version=auth.version),
        letter_pages=page_count(authorizations.letter_for_staff(auth.id).letter_data)
        if auth.letter_mime == PDF_MIME else 0)


@bp.route("/authorizations/<int:auth_id>/letter")
@staff_only
def authorization_letter(auth_id: int):
    """The letter's bytes (private, never cached)."""
    auth = authorizations.letter_for_staff(auth_id)
    return private_file(auth.letter_data, auth.letter_mime, f"authorization-{auth.id}.{auth.letter_mime.split('/')[-1]}")


@bp.route("/authorizations/<int:auth_id>/letter/pages/<int:page_no>")
@staff_only
def authorization_letter_page(auth_id: int, page_no: int):
    """One page of a PDF letter rendered to an image (the PDF itself is only a download)."""
    auth = authorizations.letter_for_staff(auth_id)
    pages = render_pages(auth.letter_data, only=page_no) if auth.letter_mime == PDF_MIME else []
    if not pages:
        abort(404)
    return private_file(pages[0].data, pages[0].mime, f"authorization-{auth.id}-p{page_no}.jpg")


@bp.route("/authorizations/<int:auth_id>/decide", methods=["POST"])
@staff_only
def authorization_decide(auth_id: int):
    """Accept the letter (the authorization takes effect) or refuse it with a reason."""
    back = url_for("staff.authorization", auth_id=auth_id)
    on_refusal(back)
    form = AuthorizationDecisionForm()
    if not form.validate_on_submit() or form.decision.data not in ("approve", "reject"):
        abort(400)
    auth = authorizations.decide_letter(current_user, auth_id, approve=form.decision.data == "approve",
                                        reason=form.reason.data or "", seen_version=form.version.data)
    flash(f"授权书 #{auth.id}「{auth.brand_name}」{'已核验通过' if auth.status == 'active' else '未通过'}。", "success")
    return redirect(url_for("staff.authorization_list"))


@bp.route("/authorizations/<int:auth_id>/withdraw", methods=["POST"])
@staff_only
def authorization_withdraw(auth_id: int):
    """Withdraw an authorization (the dependent shops are suspended, both sides mailed)."""
    back = url_for("staff.authorization", auth_id=auth_id)
    on_refusal(back)
    form = AuthorizationWithdrawForm()
    if not form.validate_on_submit():
        flash("请填写撤回理由（不超过 1000 字）。", "error")
        return redirect(back)
    suspended = authorizations.withdraw(current_user, auth_id, form.reason.data, seen_version=form.version.data)
    flash(f"授权已撤回，暂停依赖该授权的店铺 {len(suspended)} 家。", "success")
    return redirect(back)
