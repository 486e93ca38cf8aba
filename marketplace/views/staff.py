"""Campaign staff console (``/staff``): dashboard and the review queue.

Every route requires a logged-in staff or admin user: each view is decorated with
``@login_required`` + ``@role_required(STAFF, ADMIN)`` and, as a safety net for any route added
later, the blueprint's ``before_request`` applies the same rule. Other topics live in
``staff_listings``, ``staff_curation``, ``staff_complaints``, ``staff_stats``, ``staff_io``,
``staff_events`` and ``staff_admin``; they add their routes to this blueprint.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..extensions import db, login_manager
from ..models import (
    AppKind, Application, AppStatus, Certification, CertStatus, City, Complaint, ComplaintStatus, Enterprise,
    Industry, Role, Status,
)
from ..services import ServiceError, review
from ..services.review import send_notices
from .helpers import choice_arg, page_arg, role_required
from .staff_forms import EmptyForm, RejectForm

bp = Blueprint("staff", __name__, url_prefix="/staff")
STAFF_ROLES = (Role.STAFF, Role.ADMIN)


def staff_only(view):
    """``@login_required`` + ``@role_required(staff, admin)`` in one decorator."""
    return login_required(role_required(*STAFF_ROLES)(view))


@bp.before_request
def _guard():
    """Belt and braces: no /staff URL answers anyone but staff, whatever its decorators say."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in STAFF_ROLES:
        abort(403)


def commit_and_notify(notices) -> None:
    """Commit the request's changes, then send the mails they produced."""
    db.session.commit()
    send_notices(notices)


def int_arg(name: str) -> int | None:
    """A positive integer query argument, or None when missing or malformed."""
    raw = request.args.get(name, "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 and int(raw) > 0 else None


@bp.route("/")
@staff_only
def dashboard():
    """Console home: what waits for staff and the campaign's headline numbers."""
    pending = review.pending_count()
    by_kind = dict(db.session.execute(select(Application.kind, func.count()).where(
        Application.status == AppStatus.PENDING).group_by(Application.kind)).all())
    open_complaints = db.session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.status.in_((ComplaintStatus.NEW, ComplaintStatus.ASSIGNED)))) or 0
    certified = db.session.scalar(select(func.count()).select_from(Enterprise).where(
        Enterprise.status == Status.CERTIFIED)) or 0
    goal = current_app.config["ENTERPRISE_GOAL"]
    oldest = review.next_pending()
    today = review.china_today()
    expiring = db.session.scalars(select(Certification).join(Certification.enterprise).where(
        Certification.status == CertStatus.VALID, Enterprise.status == Status.CERTIFIED,
        Certification.valid_until <= today + timedelta(days=30)).order_by(Certification.valid_until).limit(10)).all()
    recent = db.session.scalars(select(Application).where(Application.decided_at.is_not(None))
                                .order_by(Application.decided_at.desc()).limit(8)).all()
    return render_template("staff/dashboard.html", pending=pending, by_kind=by_kind, kinds=AppKind.LABELS,
                           open_complaints=open_complaints, certified=certified, goal=goal, oldest=oldest,
                           expiring=expiring, recent=recent)


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
        "staff/application.html", a=app_row, ent=app_row.enterprise, diff=review.diff(app_row),
        uscc=review.uscc_check(app_row.enterprise), shops=review.shop_checks(app_row),
        warnings=review.duplicate_warnings(app_row), history=history, next_app=nxt, fargs=filter_args(filters),
        approve_form=EmptyForm(), reject_form=RejectForm(), position=position,
        remaining=db.session.scalar(select(func.count()).select_from(review.queue_query(**filters).subquery())),
    )


def _after_decision(filters: dict):
    nxt = review.next_pending(**filters)
    if nxt is None:
        flash("待审核队列已清空。", "success")
        return redirect(url_for("staff.queue", **filter_args(filters)))
    return redirect(url_for("staff.application", app_id=nxt.id, **filter_args(filters)))


@bp.route("/review/<int:app_id>/approve", methods=["POST"])
@staff_only
def approve(app_id: int):
    """Approve, notify the applicant, and go straight to the next pending application."""
    filters = queue_filters()
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        decided, notices = review.approve(app_id, current_user)
    except ServiceError as err:
        db.session.rollback()
        flash(str(err), "error")
        if str(err) == review.ALREADY_DECIDED:
            return _after_decision(filters)
        return redirect(url_for("staff.application", app_id=app_id, **filter_args(filters)))
    commit_and_notify(notices)
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
    try:
        decided, notices = review.reject(app_id, current_user, form.reason.data)
    except ServiceError as err:
        db.session.rollback()
        flash(str(err), "error")
        if str(err) == review.ALREADY_DECIDED:
            return _after_decision(filters)
        return redirect(url_for("staff.application", app_id=app_id, **filter_args(filters)))
    commit_and_notify(notices)
    flash(f"已驳回申请 #{decided.id}（{decided.kind_label}：{decided.enterprise.name}）。", "success")
    return _after_decision(filters)


# Topic modules add their routes to ``bp``; import them last so ``bp`` exists.
from . import staff_admin, staff_complaints, staff_curation, staff_events, staff_io, staff_listings, staff_stats  # noqa: E402,F401,E501
