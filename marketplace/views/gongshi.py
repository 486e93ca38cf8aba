"""公示 (public notice): the list of approved first certifications on notice, one entry with the
objection (异议) form, the objection receipt and the Atom feed (``services.gongshi``).

The objection form is a one-time form with POST-redirect-GET (``views.once``): a reload or a
double click never files twice, and only an objection actually filed — committed — counts
toward the per-address limit; a refused submission (or one over the limit) comes back with
everything typed. The evidence image goes through the image pipeline (re-encoded, metadata
stripped) and is kept on the objection row: only staff can see it.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_wtf.file import FileField
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..extensions import db, limiter
from ..page_cache import cacheable
from ..services import gongshi as svc
from ..services.listings.common import FieldErrors
from ..unit_of_work import after_commit, catch_refusal
from . import linking
from .atom import AtomEntry, atom_response
from .helpers import choice_arg, page_arg, show_errors
from .once import OneTimeForm, earlier_result, record_result, spend_token

bp = Blueprint("gongshi", __name__)

OBJECTION_LIMIT = "5 per hour;20 per day"
RECEIPT_KEY = "objection_receipt"
PER_PAGE = 20


class ObjectionForm(OneTimeForm):
    purpose = "objection"
    reason = TextAreaField("异议理由", validators=[
        DataRequired("请填写异议理由。"), Length(max=2000, message="异议理由不能超过 2000 个字。")])
    evidence = FileField("证据图片（可选，PNG/JPEG/WebP，不超过 5 MB）")
    contact_name = StringField("联系人姓名", validators=[
        DataRequired("请填写联系人姓名。"), Length(max=60, message="姓名不能超过 60 个字。")])
    contact_phone = StringField("手机号", validators=[Optional(), Length(max=30, message="手机号不能超过 20 位。")])
    contact_email = EmailField("邮箱", validators=[Optional(), Length(max=254, message="邮箱过长。")])


@bp.route("/gongshi")
@cacheable
def index():
    """Entries on notice (ending soonest first) or ended ones, paginated."""
    state = choice_arg("state", svc.STATES, "open")
    pagination = db.paginate(svc.public_query(state), page=page_arg(), per_page=PER_PAGE, error_out=False)
    return render_template("gongshi/index.html", pagination=pagination, state=state, states=svc.STATES,
                           days=svc.working_days())


def _objection_input(form: ObjectionForm) -> svc.ObjectionInput:
    return svc.ObjectionInput(reason=form.reason.data or "", contact_name=form.contact_name.data or "",
                              contact_phone=form.contact_phone.data or "", contact_email=form.contact_email.data or "")


def _evidence(form: ObjectionForm):
    upload = form.evidence.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    data = upload.read(current_app.config["MAX_IMAGE_BYTES"] + 1)
    if len(data) > current_app.config["MAX_IMAGE_BYTES"]:
        raise FieldErrors({"evidence": "证据图片不能超过 5 MB。"})
    return svc.evidence_image(data)


def _render_entry(notice, form, status: int = 200):
    chose_file = bool(request.files.get("evidence") and request.files["evidence"].filename)
    return render_template("gongshi/entry.html", notice=notice, form=form, chose_file=chose_file,
                           days=svc.working_days()), status


def _filed(response) -> bool:
    """Only an objection actually filed (and committed) uses up the address's quota."""
    return bool(g.get("objection_filed"))


def _over_limit(limit):
    """Over the filing limit: the form comes back with everything typed and the reason (429)."""
    notice = svc.get_notice(request.view_args["notice_id"])
    form = ObjectionForm()
    form.reason.errors = ["提交过于频繁：同一网络每小时最多提交 5 次异议。您填写的内容已保留，请稍后再提交。"]
    html, status = _render_entry(notice, form, status=429)
    return current_app.response_class(html, status=status, mimetype="text/html")


def _already_filed(reference: str):
    flash(f"此异议已提交过，受理编号 {reference}。", "warning")
    if (session.get(RECEIPT_KEY) or {}).get("ref") == reference:
        return redirect(url_for("gongshi.received"), code=303)
    return redirect(url_for("gongshi.index"), code=303)


def _after_filing(reference: str) -> None:
    def done():
        g.objection_filed = True
        session[RECEIPT_KEY] = {"ref": reference}

    after_commit(done)


@bp.route("/gongshi/<int:notice_id>", methods=["GET", "POST"])
@limiter.limit(OBJECTION_LIMIT, methods=["POST"], deduct_when=_filed, on_breach=_over_limit)
def entry(notice_id: int):
    """One entry: what is on notice, its dates, and (while it runs) the objection form."""
    notice = svc.get_notice(notice_id)
    form = ObjectionForm()
    done = earlier_result(form)
    if done:
        return _already_filed(done)
    if request.method == "POST" and not notice.accepts_objections:
        flash("该公示已结束，不再受理异议。", "error")
        return redirect(url_for("gongshi.entry", notice_id=notice.id), code=303)
    if not form.validate_on_submit():
        if form.is_submitted():  # name every bad field at once
            for name, message in svc.input_errors(_objection_input(form)).items():
                field = getattr(form, name)
                field.errors = list(field.errors) or [message]
        return _render_entry(notice, form)
    with catch_refusal() as refusal:
        winner = spend_token(form)
        if winner is not None:
            return _already_filed(winner)
        objection = svc.file_objection(notice.id, _objection_input(form), _evidence(form))
        record_result(form, objection.reference)
        _after_filing(objection.reference)
        return redirect(url_for("gongshi.received"), code=303)
    show_errors(form, refusal.error)
    return _render_entry(notice, form)


@bp.route("/gongshi/objection/received")
def received():
    """The receipt (the GET after the POST): reference number and what happens next."""
    receipt = session.get(RECEIPT_KEY)
    objection = svc.lookup(receipt["ref"]) if isinstance(receipt, dict) and receipt.get("ref") else None
    if objection is None:
        return redirect(url_for("gongshi.index"))
    response = current_app.make_response(render_template("gongshi/received.html", objection=objection))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/gongshi.atom")
def feed():
    """The newest 公示 entries (published, ended or withdrawn) as an Atom feed."""
    entries = []
    for notice in svc.recent_notices():
        shops = "、".join(f"{s['name']}（{s['platform']}）" for s in notice.shops)
        summary = (f"统一社会信用代码 {notice.uscc}；公示期 {notice.starts_on:%Y-%m-%d} 至 {notice.ends_on:%Y-%m-%d}；"
                   f"状态：{notice.status_label}。" + (f"店铺：{shops}。" if shops else ""))
        entries.append(AtomEntry(title=f"公示：{notice.name}", url=linking.url("gongshi.entry", notice_id=notice.id),
                                 published=notice.created_at, updated=notice.closed_at or notice.created_at,
                                 summary=summary))
    return atom_response(title="广货网上行 · 认证公示", subtitle="通过审核、正在公示或公示已结束的认证",
                         self_url=linking.url("gongshi.feed"), alt_url=linking.url("gongshi.index"),
                         base_url=linking.url("public.home"), entries=entries)
