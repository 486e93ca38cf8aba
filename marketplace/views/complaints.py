"""Complaints (投诉举报): the public report form and status page, and the merchant's view.

The report form is rate-limited per address; the evidence image goes through the same Pillow
pipeline as logos (``services.images.store_image``: re-encoded, metadata stripped). The status
page shows the status, the public replies and the resolution — never the reporter's contact.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..extensions import db, limiter
from ..models import ComplaintKind, Role
from ..services import complaints as svc
from ..services.listings.common import FieldErrors
from ..unit_of_work import catch_refusal
from ..validation import ValidationError
from .helpers import page_arg, positive_int, role_required

bp = Blueprint("complaints", __name__)

REPORT_LIMIT = "5 per hour;20 per day"
LOOKUP_LIMIT = "30 per minute"


class ReportForm(FlaskForm):
    kind = SelectField("投诉类型", choices=[(k, k) for k in ComplaintKind.ALL],
                       validators=[InputRequired("请选择投诉类型。")])
    description = TextAreaField("问题描述", validators=[
        DataRequired("请填写问题描述。"), Length(min=10, max=2000, message="问题描述需要 10 到 2000 个字。")])
    evidence = FileField("证据图片（可选，PNG/JPEG/WebP，不超过 5 MB）")
    contact = StringField("联系方式（可选，仅工作人员可见）", validators=[Optional(), Length(max=120, message="联系方式不能超过 120 个字符。")])


class ResponseForm(FlaskForm):
    body = TextAreaField("回复内容", validators=[DataRequired("请填写回复内容。"),
                                             Length(max=2000, message="回复不能超过 2000 个字。")])


@bp.route("/report", methods=["GET", "POST"])
@limiter.limit(REPORT_LIMIT, methods=["POST"])
def new():
    """Report an enterprise (or one of its shops): type, description, evidence, contact."""
    ent, shop = svc.reportable_target(positive_int(request.values.get("enterprise_id")),
                                         positive_int(request.values.get("shop_id")))
    form = ReportForm()
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            complaint = svc.create_complaint(
                enterprise=ent, shop=shop, kind=form.kind.data, description=form.description.data,
                contact=form.contact.data or "", evidence_sha256=_store_evidence(form.evidence.data))
            return render_template("complaints/submitted.html", complaint=complaint)
        fields = refusal.error.errors if isinstance(refusal.error, FieldErrors) else {"description": refusal.message}
        for name, message in fields.items():
            getattr(form, name).errors = list(getattr(form, name).errors) + [message]
    return render_template("complaints/new.html", form=form, ent=ent, shop=shop)


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
        from ..services.images import store_image

        return store_image(data).sha256
    except ValidationError as err:
        raise FieldErrors({"evidence": str(err)}) from None


@bp.route("/complaints/lookup")
@limiter.limit(LOOKUP_LIMIT)
def lookup():
    """Public status page: look a complaint up by its reference number."""
    ref = (request.args.get("ref") or "").strip()[:40]
    complaint = svc.lookup(ref) if ref else None
    return render_template("complaints/lookup.html", ref=ref, complaint=complaint,
                           messages=svc.public_messages(complaint) if complaint else [])


@bp.route("/merchant/complaints")
@login_required
@role_required(Role.MERCHANT)
def merchant_list():
    """The merchant's complaints about enterprises they own."""
    pagination = db.paginate(svc.owner_complaints_query(current_user), page=page_arg(), per_page=20, error_out=False)
    return render_template("complaints/merchant_list.html", pagination=pagination)


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
            return redirect(url_for("complaints.merchant_view", complaint_id=complaint.id))
        form.body.errors = list(form.body.errors) + [refusal.message]
    return render_template("complaints/merchant_view.html", c=complaint, form=form,
                           messages=svc.merchant_messages(complaint), is_open=complaint.status in svc.OPEN)
