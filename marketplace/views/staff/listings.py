"""Staff console: listings — find an enterprise, suspend / revoke / reinstate it or one shop,
grant and remove badges."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Application, AuditLog, Badge, Brand, City, Complaint, Enterprise, Shop, Status
from ...services import authorizations, curation, lifecycle
from ...unit_of_work import on_refusal
from ...validation.text import normalize_key
from ..helpers import choice_arg, int_arg, page_arg
from .blueprint import bp, staff_only
from .forms import BadgeForm, ReinstateForm, StatusChangeForm


@bp.route("/enterprises")
@staff_only
def enterprises():
    """All enterprises (any status), searchable by name / brand / USCC, filterable by status and city."""
    q = (request.args.get("q") or "").strip()[:60]
    status = choice_arg("status", Status.LABELS)
    city_id = int_arg("city")
    stmt = select(Enterprise)
    if q:
        key = normalize_key(q).replace("%", "").replace("_", "")
        pattern = f"%{key}%"
        stmt = stmt.where(or_(Enterprise.name_key.like(pattern), Enterprise.uscc == q.upper(),
                              Enterprise.id.in_(select(Brand.enterprise_id).where(Brand.name_key.like(pattern)))))
    if status:
        stmt = stmt.where(Enterprise.status == status)
    if city_id:
        stmt = stmt.where(Enterprise.city_id == city_id)
    stmt = stmt.options(selectinload(Enterprise.brands), selectinload(Enterprise.shops))
    pagination = db.paginate(stmt.order_by(Enterprise.updated_at.desc(), Enterprise.id.desc()), page=page_arg(),
                             per_page=30, error_out=False)
    cities = db.session.scalars(select(City).order_by(City.position)).all()
    return render_template("staff/enterprises.html", pagination=pagination, q=q, status=status, city_id=city_id,
                           statuses=Status.LABELS, cities=cities)


@bp.route("/enterprises/<int:ent_id>")
@staff_only
def enterprise(ent_id: int):
    """One enterprise: status, certificate, shops with their actions, badges, history."""
    ent = db.get_or_404(Enterprise, ent_id)
    badge_form = BadgeForm()
    badge_form.badge_id.choices = [(b.id, b.name) for b in db.session.scalars(select(Badge).order_by(Badge.position))]
    applications = db.session.scalars(select(Application).where(Application.enterprise_id == ent.id)
                                      .order_by(Application.submitted_at.desc()).limit(20)).all()
    complaints = db.session.scalars(select(Complaint).where(Complaint.enterprise_id == ent.id)
                                    .order_by(Complaint.created_at.desc()).limit(20)).all()
    audit = db.session.scalars(select(AuditLog).where(AuditLog.enterprise_id == ent.id)
                               .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(15)).all()
    return render_template("staff/enterprise.html", ent=ent, status_form=StatusChangeForm(),
                           reinstate_form=ReinstateForm(), badge_form=badge_form, applications=applications,
                           complaints=complaints, audit=audit, Status=Status,
                           brand_authorizations=authorizations.for_enterprise(ent))


@bp.route("/enterprises/<int:ent_id>/status", methods=["POST"])
@staff_only
def enterprise_status(ent_id: int):
    """Suspend or revoke a certified enterprise with a reason (gone from public pages at once)."""
    ent = db.get_or_404(Enterprise, ent_id)
    back = url_for("staff.enterprise", ent_id=ent.id)
    on_refusal(back)
    form = StatusChangeForm()
    if not form.validate_on_submit():
        flash("请选择操作并填写理由。", "error")
        return redirect(back)
    lifecycle.set_enterprise_status(ent, form.action.data, current_user, form.reason.data)
    flash(f"企业「{ent.name}」已{lifecycle.ACTIONS[form.action.data]}。", "success")
    return redirect(back)


@bp.route("/enterprises/<int:ent_id>/reinstate", methods=["POST"])
@staff_only
def enterprise_reinstate(ent_id: int):
    """Reinstate a suspended or revoked enterprise."""
    ent = db.get_or_404(Enterprise, ent_id)
    back = url_for("staff.enterprise", ent_id=ent.id)
    on_refusal(back)
    form = ReinstateForm()
    if not form.validate_on_submit():
        flash("备注过长。", "error")
        return redirect(back)
    lifecycle.reinstate_enterprise(ent, current_user, form.note.data or "")
    flash(f"企业「{ent.name}」已恢复认证。", "success")
    return redirect(back)


@bp.route("/shops/<int:shop_id>/status", methods=["POST"])
@staff_only
def shop_status(shop_id: int):
    """Suspend or revoke one shop with a reason; its /go/ link stops right away."""
    shop = db.get_or_404(Shop, shop_id)
    back = url_for("staff.enterprise", ent_id=shop.enterprise_id)
    on_refusal(back)
    form = StatusChangeForm()
    if not form.validate_on_submit():
        flash("请选择操作并填写理由。", "error")
        return redirect(back)
    lifecycle.set_shop_status(shop, form.action.data, current_user, form.reason.data)
    flash(f"店铺「{shop.name}」已{lifecycle.ACTIONS[form.action.data]}。", "success")
    return redirect(back)


@bp.route("/shops/<int:shop_id>/reinstate", methods=["POST"])
@staff_only
def shop_reinstate(shop_id: int):
    """Reinstate a suspended or revoked shop."""
    shop = db.get_or_404(Shop, shop_id)
    back = url_for("staff.enterprise", ent_id=shop.enterprise_id)
    on_refusal(back)
    form = ReinstateForm()
    if not form.validate_on_submit():
        flash("备注过长。", "error")
        return redirect(back)
    lifecycle.reinstate_shop(shop, current_user, form.note.data or "")
    flash(f"店铺「{shop.name}」已恢复。", "success")
    return redirect(back)


@bp.route("/enterprises/<int:ent_id>/badges", methods=["POST"])
@staff_only
def enterprise_badge(ent_id: int):
    """Grant or remove one badge (中华老字号, 省电子商务示范企业 ...)."""
    ent = db.get_or_404(Enterprise, ent_id)
    back = url_for("staff.enterprise", ent_id=ent.id)
    on_refusal(back)
    form = BadgeForm()
    form.badge_id.choices = [(b.id, b.name) for b in db.session.scalars(select(Badge))]
    if not form.validate_on_submit():
        flash("请选择标识和操作。", "error")
        return redirect(back)
    badge = curation.set_badge(ent, form.badge_id.data, form.action.data == "grant", current_user)
    flash(f"已{'授予' if form.action.data == 'grant' else '移除'}标识「{badge.name}」。", "success")
    return redirect(back)
