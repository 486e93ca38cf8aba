"""Staff console: the review queue, one application with everything needed to decide it, and the
approve / reject decisions (each followed straight by the next pending application)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ...extensions import db
from ...models import AppKind, Application, AppStatus, City, Industry
from ...services import AlreadyDecided, authorizations, evidence, review, review_checks, shop_codes
from ...unit_of_work import on_refusal
from ..helpers import choice_arg, int_arg, page_arg, private_file
from .blueprint import bp, staff_only
from .forms import ApproveForm, RejectForm


# ------------------------------------------------------------------ review queue

def queue_filters() -> dict:
    """The queue filters in the query string (kind, city, industry), validated."""
    return {"kind": choice_arg("kind", AppKind.LABELS), "city_id": int_arg("city"), "industry_id": int_arg("industry")}


def filter_args(filters: dict) -> dict:
    """Filters back as query-string arguments (for links and redirects)."""
    return {k: v for k, v in {"kind": filters["kind"], "city": filters["city_id"],
                              "industry": filters["industry_id"]}.items() if v}


@bp.route("/review")
@staff_only
def queue():
    """Pending applications, oldest first, filterable by kind / city / industry."""
    filters = queue_filters()
    pagination = db.paginate(review.queue_query(**filters), page=page_arg(), per_page=review.PER_PAGE,
                             error_out=False)
    cities = db.session.scalars(select(City).order_by(City.position)).all()
    industries = db.session.scalars(select(Industry).order_by(Industry.position)).all()
    return render_template("staff/queue.html", pagination=pagination, filters=filters, kinds=AppKind.LABELS,
                           cities=cities, industries=industries, fargs=filter_args(filters),
                           first=pagination.items[0] if pagination.items else None)


@bp.route("/review/next")
@staff_only
def queue_next():
    """Jump to the oldest pending application matching the filters (or back to the queue)."""
    filters = queue_filters()
    nxt = review.next_pending(**filters)
    if nxt is None:
        flash("待审核队列已清空。", "success")
        return redirect(url_for("staff.queue", **filter_args(filters)))
    return redirect(url_for("staff.application", app_id=nxt.id, **filter_args(filters)))


@bp.route("/review/<int:app_id>")
@staff_only
def application(app_id: int):
    """One application with everything needed to decide it, and the approve / reject forms."""
    app_row = db.get_or_404(Application, app_id)
    filters = queue_filters()
    nxt = review.next_pending(app_row, **filters) if app_row.status == AppStatus.PENDING else review.next_pending(**filters)
    history = db.session.scalars(select(Application).where(Application.enterprise_id == app_row.enterprise_id,
                                                           Application.id != app_row.id)
                                 .order_by(Application.submitted_at.desc()).limit(8)).all()
    position = None
    if app_row.status == AppStatus.PENDING:
        position = db.session.scalar(select(func.count()).select_from(
            review.queue_query(**filters).where(Application.submitted_at <= app_row.submitted_at).subquery()))
    return render_template(
        "staff/application.html", a=app_row, ent=app_row.enterprise, diff=review_checks.diff(app_row),
        uscc=review_checks.uscc_check(app_row.enterprise), shops=review_checks.shop_checks(app_row),
        warnings=review_checks.duplicate_warnings(app_row), claim_warnings=review_checks.claim_warnings(app_row), history=history,
        next_app=nxt, fargs=filter_args(filters), approve_form=ApproveForm(version=app_row.version),
        reject_form=RejectForm(version=app_row.version), position=position,
        remaining=db.session.scalar(select(func.count()).select_from(review.queue_query(**filters).subquery())),
        brand_authorizations=authorizations.review_summary(app_row.enterprise),
        ev=app_row.evidence, applicant_history=evidence.applicant_history(app_row),
        previous_ev=evidence.approved_evidence(app_row.enterprise_id, before_app_id=app_row.id),
        code_shops=shop_codes.shops_to_check(app_row) if app_row.status == AppStatus.PENDING else [],
    )


def _shop_checks_from_form() -> dict[int, shop_codes.ShopCheck]:
    """The reviewer's per-shop marks on the approve form: ``shop_check_<id>`` (verified /
    waived) and ``shop_waive_<id>`` (the waiver's reason); anything else is ignored."""
    checks: dict[int, shop_codes.ShopCheck] = {}
    for key, value in request.form.items():
        if not key.startswith("shop_check_") or value not in (shop_codes.VERIFIED, shop_codes.WAIVED):
            continue
        try:
            shop_id = int(key.removeprefix("shop_check_"))
        except ValueError:
            continue
        checks[shop_id] = shop_codes.ShopCheck(value, request.form.get(f"shop_waive_{shop_id}", "")[:1000])
    return checks


@bp.route("/evidence/<int:evidence_id>/licence")
@staff_only
def evidence_licence(evidence_id: int):
    """An applicant's licence: an image inline, a PDF only as a download (never cached)."""
    row = evidence.for_staff(evidence_id)
    return private_file(row.licence_data, row.licence_mime, evidence.licence_filename(row))


@bp.route("/evidence/<int:evidence_id>/pages/<int:page_no>")
@staff_only
def evidence_page(evidence_id: int, page_no: int):
    """One page of a PDF licence rendered to an image, for reading it beside the entered data."""
    page = evidence.page_of(evidence.for_staff(evidence_id), page_no)
    return private_file(page.data, page.mime, f"licence-{evidence_id}-p{page_no}.{page.mime.split('/')[-1]}")


def _after_decision(filters: dict):
    nxt = review.next_pending(**filters)
    if nxt is None:
        flash("待审核队列已清空。", "success")
        return redirect(url_for("staff.queue", **filter_args(filters)))
    return redirect(url_for("staff.application", app_id=nxt.id, **filter_args(filters)))


def _refused_decision(app_id: int, filters: dict):
    """Where a refused decision goes: on to the next application when someone else already
    decided this one, else back to it (the message is flashed either way)."""
    def respond(err):
        if isinstance(err, AlreadyDecided):
            return _after_decision(filters)
        return redirect(url_for("staff.application", app_id=app_id, **filter_args(filters)))
    return respond


@bp.route("/review/<int:app_id>/approve", methods=["POST"])
@staff_only
def approve(app_id: int):
    """Approve, notify the applicant, and go straight to the next pending application."""
    filters = queue_filters()
    form = ApproveForm()
    if not form.validate_on_submit():
        abort(400)
    on_refusal(_refused_decision(app_id, filters))
    decided = review.approve(app_id, current_user, seen_version=form.version.data,
                             shop_checks=_shop_checks_from_form())
    flash(f"已通过申请 #{decided.id}（{decided.kind_label}：{decided.enterprise.name}）。", "success")
    return _after_decision(filters)


@bp.route("/review/<int:app_id>/reject", methods=["POST"])
@staff_only
def reject(app_id: int):
    """Reject with a reason, notify the applicant, go to the next pending application."""
    filters = queue_filters()
    form = RejectForm()
    if not form.validate_on_submit():
        flash("请填写驳回理由（不超过 1000 字）。", "error")
        return redirect(url_for("staff.application", app_id=app_id, **filter_args(filters)))
    on_refusal(_refused_decision(app_id, filters))
    decided = review.reject(app_id, current_user, form.reason.data, seen_version=form.version.data)
    flash(f"已驳回申请 #{decided.id}（{decided.kind_label}：{decided.enterprise.name}）。", "success")
    return _after_decision(filters)
