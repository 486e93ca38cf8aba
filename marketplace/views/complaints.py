"""Complaints (投诉举报): the public report form, receipt and status page, and the merchant's view.

The report form is a one-time form with POST-redirect-GET: a reload or a double click never files
twice (``views.once``: the token is spent in the same transaction as the filing), and only a
complaint actually filed — committed — counts toward the per-address limit; a refused submission
(or one over the limit) comes back with everything typed. The evidence image goes through the
same Pillow pipeline as logos (re-encoded, metadata stripped). The status page shows the stages
with their dates and the public replies — never the contact, phone or order details.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from ..extensions import db, limiter
from ..models import Role
from ..services import NotFound
from ..services import complaint_process as process
from ..services import complaints as svc
from ..services.images import store_image
from ..services.listings.common import FieldErrors
from ..unit_of_work import after_commit, catch_refusal, on_refusal
from ..validation import ValidationError
from .complaint_forms import DeclineForm, FeedbackForm, ReferralForm, ReportForm, ResponseForm, SettleForm
from .helpers import page_arg, positive_int, role_required, show_errors
from .once import earlier_result, record_result, spend_token

bp = Blueprint("complaints", __name__)

REPORT_LIMIT = "5 per hour;20 per day"
LOOKUP_LIMIT = "30 per minute"
FEEDBACK_LIMIT = "20 per hour"  # the feedback code is 8 characters: guessing it is hopeless at this rate
RECEIPT_KEY = "complaint_receipt"


def _target():
    """The enterprise (and shop) being reported; ``NotFound`` (404) unless it is public."""
    return svc.reportable_target(positive_int(request.values.get("enterprise_id")),
                                 positive_int(request.values.get("shop_id")))


def _store_evidence(upload) -> str | None:
    """Store an uploaded evidence image (re-encoded, size-capped); its hash, or None without one.
    A refused image is reported on the evidence field."""
    if upload is None or not getattr(upload, "filename", ""):
        return None
    data = upload.read(current_app.config["MAX_IMAGE_BYTES"] + 1)
    if not data:
        return None
    try:
        if len(data) > current_app.config["MAX_IMAGE_BYTES"]:
            raise ValidationError("证据图片不能超过 5 MB。")
        return store_image(data).sha256
    except ValidationError as err:
        raise FieldErrors({"evidence": str(err)}) from None


def _complaint_input(form: ReportForm) -> svc.ComplaintInput:
    return svc.ComplaintInput(
        kind=form.kind.data, description=form.description.data or "", contact=form.contact.data or "",
        order_number=form.order_number.data or "", purchase_date=form.purchase_date.data,
        amount=form.amount.data, desired_outcome=form.desired_outcome.data or "", phone=form.phone.data or "")


def _render_form(form, ent, shop, status: int = 200):
    chose_file = bool(request.files.get("evidence") and request.files["evidence"].filename)
    return render_template("complaints/new.html", form=form, ent=ent, shop=shop, chose_file=chose_file), status


def _filed(response) -> bool:
    """Only a complaint actually filed (and committed) uses up the address's quota."""
    return bool(g.get("complaint_filed"))


def _over_limit(limit):
    """Over the filing limit: the form comes back with everything typed and the reason (429)."""
    ent, shop = _target()
    form = ReportForm()
    form.description.errors = ["提交过于频繁：同一网络每小时最多提交 5 次投诉。您填写的内容已保留，请稍后再提交。"]
    html, status = _render_form(form, ent, shop, status=429)
    return current_app.response_class(html, status=status, mimetype="text/html")


def _already_filed(reference: str):
    """This very form was filed already (reload, double click, back button): its receipt."""
    flash(f"此表单已提交过，受理编号 {reference}；如需投诉其他问题，请重新打开投诉页面。", "warning")
    if (session.get(RECEIPT_KEY) or {}).get("ref") == reference:
        return redirect(url_for("complaints.submitted"), code=303)
    return redirect(url_for("complaints.lookup", ref=reference), code=303)


def _after_filing(reference: str, code: str) -> None:
    """Once the complaint is committed: the receipt for the next page, and one hit on the limit."""
    def done():
        g.complaint_filed = True
        session[RECEIPT_KEY] = {"ref": reference, "code": code}

    after_commit(done)


@bp.route("/report", methods=["GET", "POST"])
@limiter.limit(REPORT_LIMIT, methods=["POST"], deduct_when=_filed, on_breach=_over_limit)
def new():
    """Report an enterprise (or one of its shops): what 12315 asks, evidence, contact."""
    ent, shop = _target()
    form = ReportForm()
    done = earlier_result(form)
    if done:
        return _already_filed(done)
    if not form.validate_on_submit():
        if form.is_submitted():  # name every bad field at once, not one round trip per field
            for name, message in svc.input_errors(_complaint_input(form)).items():
                field = getattr(form, name)
                field.errors = list(field.errors) or [message]
        return _render_form(form, ent, shop)
    with catch_refusal() as refusal:
        winner = spend_token(form)
        if winner is not None:  # a simultaneous submission of this form filed it
            return _already_filed(winner)
        complaint, code = svc.create_complaint(enterprise=ent, shop=shop, data=_complaint_input(form),
                                               evidence_sha256=_store_evidence(form.evidence.data))
        record_result(form, complaint.reference)
        _after_filing(complaint.reference, code)
        return redirect(url_for("complaints.submitted"), code=303)
    show_errors(form, refusal.error)
    return _render_form(form, ent, shop)


@bp.route("/report/submitted")
def submitted():
    """The receipt (the GET after the POST): reference number, feedback code, when to expect an answer."""
    receipt = session.get(RECEIPT_KEY)
    complaint = svc.lookup(receipt["ref"]) if isinstance(receipt, dict) and receipt.get("ref") else None
    if complaint is None:
        return redirect(url_for("complaints.lookup"))
    response = current_app.make_response(render_template(
        "complaints/submitted.html", complaint=complaint, code=receipt.get("code", ""),
        answer_by=process.expected_answer(complaint)))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/complaints/lookup")
@limiter.limit(LOOKUP_LIMIT)
def lookup():
    """Public status page: the stages with their dates, public replies and the outcome."""
    ref = (request.args.get("ref") or "").strip()[:40]
    complaint = svc.lookup(ref) if ref else None
    if complaint is None:
        return render_template("complaints/lookup.html", ref=ref, complaint=None)
    return render_template("complaints/lookup.html", ref=ref, complaint=complaint,
                           messages=svc.public_messages(complaint), steps=process.timeline(complaint),
                           feedback_open=process.feedback_open(complaint), feedback_form=FeedbackForm(),
                           referral_form=ReferralForm())


def _by_reference(reference: str):
    """The complaint (404 if none); a refusal from here on goes back to its status page."""
    complaint = svc.lookup(reference)
    if complaint is None:
        raise NotFound("投诉不存在。")
    on_refusal(_lookup_url(complaint))
    return complaint


def _lookup_url(complaint) -> str:
    return url_for("complaints.lookup", ref=complaint.reference)


@bp.route("/complaints/<reference>/feedback", methods=["POST"])
@limiter.limit(FEEDBACK_LIMIT)
def feedback(reference: str):
    """After 办结: the consumer confirms or objects, once, proving it with the feedback code."""
    complaint = _by_reference(reference)
    form = FeedbackForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(_lookup_url(complaint), code=303)
    if not svc.code_matches(complaint, form.code.data):
        flash("反馈码不正确：请填写提交投诉时页面上显示的 8 位反馈码。", "error")
        return redirect(_lookup_url(complaint), code=303)
    process.consumer_feedback(complaint, form.answer.data == "satisfied", form.note.data or "")
    flash("感谢您的确认。" if complaint.feedback == "satisfied" else "您的异议已提交，工作人员会复核并回复。", "success")
    return redirect(_lookup_url(complaint), code=303)


@bp.route("/complaints/<reference>/referral", methods=["POST"])
@limiter.limit(FEEDBACK_LIMIT)
def referral(reference: str):
    """Download the pre-filled 12315 referral text of an unresolved complaint (feedback code needed)."""
    complaint = _by_reference(reference)
    form = ReferralForm()
    if not form.validate_on_submit() or not svc.code_matches(complaint, form.code.data):
        flash("反馈码不正确：请填写提交投诉时页面上显示的 8 位反馈码。", "error")
        return redirect(_lookup_url(complaint), code=303)
    text = svc.referral_text(complaint)
    return Response("\ufeff" + text, mimetype="text/plain; charset=utf-8", headers={
        "Content-Disposition": f"attachment; filename=12315-{complaint.reference}.txt",
        "Cache-Control": "private, no-store"})


# ------------------------------------------------------------------ merchant


@bp.route("/merchant/complaints")
@login_required
@role_required(Role.MERCHANT)
def merchant_list():
    """The merchant's complaints about enterprises they own, with the deadlines that concern them."""
    pagination = db.paginate(svc.owner_complaints_query(current_user), page=page_arg(), per_page=20, error_out=False)
    return render_template("complaints/merchant_list.html", pagination=pagination, due_state=process.due_state,
                           current_due=process.current_due)


def _merchant_page(complaint, form=None, settle_form=None, decline_form=None):
    return render_template("complaints/merchant_view.html", c=complaint, form=form or ResponseForm(),
                           settle_form=settle_form or SettleForm(), decline_form=decline_form or DeclineForm(),
                           messages=svc.merchant_messages(complaint), is_open=complaint.is_open,
                           steps=process.timeline(complaint), due=process.due_state(process.current_due(complaint)))


def _field_refused(field, refusal) -> None:
    """Put a caught refusal's message under ``field`` (the form is shown again)."""
    if refusal.error is not None:
        field.errors = list(field.errors) + [refusal.message]


@bp.route("/merchant/complaints/<int:complaint_id>", methods=["GET", "POST"])
@login_required
@role_required(Role.MERCHANT)
def merchant_view(complaint_id: int):
    """The owning merchant reads a complaint about its enterprise and responds (404 for others)."""
    complaint = svc.for_merchant(complaint_id, current_user)
    form = ResponseForm()
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            svc.merchant_respond(complaint, current_user, form.body.data)
            flash("您的回复已提交。", "success")
            return redirect(url_for("complaints.merchant_view", complaint_id=complaint.id), code=303)
        _field_refused(form.body, refusal)
    return _merchant_page(complaint, form=form)


@bp.route("/merchant/complaints/<int:complaint_id>/settle", methods=["POST"])
@login_required
@role_required(Role.MERCHANT)
def merchant_settle(complaint_id: int):
    """商家协商: report the settlement reached with the consumer (办结·已解决)."""
    complaint = svc.for_merchant(complaint_id, current_user)
    form = SettleForm()
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            process.merchant_settle(complaint, current_user, form.outcome.data)
            flash("和解结果已提交，投诉已办结。消费者可在 10 个工作日内确认或提出异议。", "success")
            return redirect(url_for("complaints.merchant_view", complaint_id=complaint.id), code=303)
        _field_refused(form.outcome, refusal)
    return _merchant_page(complaint, settle_form=form)


@bp.route("/merchant/complaints/<int:complaint_id>/decline", methods=["POST"])
@login_required
@role_required(Role.MERCHANT)
def merchant_decline(complaint_id: int):
    """商家协商: the merchant cannot settle; the complaint goes to staff mediation."""
    complaint = svc.for_merchant(complaint_id, current_user)
    form = DeclineForm()
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            process.merchant_decline(complaint, current_user, form.reason.data)
            flash("已转入工作人员调解。", "success")
            return redirect(url_for("complaints.merchant_view", complaint_id=complaint.id), code=303)
        _field_refused(form.reason, refusal)
    return _merchant_page(complaint, decline_form=form)
