"""Staff console: the audit log (read-only) and, for admins, staff accounts."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ...extensions import db
from ...models import AuditLog, Enterprise, Role, User
from ...services import audit_view
from ...services.audit import record
from ...unit_of_work import catch_refusal
from ..helpers import int_arg, page_arg, role_required
from .blueprint import bp, staff_only
from .forms import EmptyForm, StaffAccountForm


@bp.route("/audit")
@staff_only
def audit():
    """Every staff decision and listing change, newest first; filter by enterprise, staff, action.

    There are deliberately no routes that edit or delete entries.
    """
    enterprise_id = int_arg("enterprise")
    actor_id = int_arg("actor")
    action = (request.args.get("action") or "").strip()[:40]
    stmt = select(AuditLog)
    if enterprise_id:
        stmt = stmt.where(AuditLog.enterprise_id == enterprise_id)
    if actor_id:
        stmt = stmt.where(AuditLog.actor_id == actor_id)
    if action:
        stmt = stmt.where(AuditLog.action.startswith(action, autoescape=True))
    pagination = db.paginate(stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc()), page=page_arg(), per_page=50,
                             error_out=False)
    staff = db.session.scalars(select(User).where(User.role.in_((Role.STAFF, Role.ADMIN))).order_by(User.email)).all()
    ent_ids = {e.enterprise_id for e in pagination.items if e.enterprise_id}
    names = {e.id: e.name for e in db.session.scalars(select(Enterprise).where(Enterprise.id.in_(ent_ids)))} if ent_ids else {}
    return render_template("staff/audit.html", pagination=pagination, staff=staff, enterprise_id=enterprise_id,
                           actor_id=actor_id, action=action, names=names, entries=audit_view.readable(pagination.items),
                           action_choices=audit_view.action_choices(),
                           enterprise=db.session.get(Enterprise, enterprise_id) if enterprise_id else None)


def admin_only(view):
    """Admins only (staff get 403)."""
    return login_required(role_required(Role.ADMIN)(view))


@bp.route("/accounts", methods=["GET", "POST"])
@admin_only
def accounts():
    """Admins create staff accounts and see every staff/admin account."""
    from ...services.accounts import create_user

    form = StaffAccountForm()
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            user = create_user(form.email.data, form.password.data, form.role.data, form.display_name.data or "")
            record("account.create", actor=current_user, entity_kind="user", entity_id=user.id,
                   after={"email": user.email, "role": user.role})
            flash(f"已创建{user.role_label}账号 {user.email}。", "success")
            return redirect(url_for("staff.accounts"))
        form.email.errors = list(form.email.errors) + [refusal.message]
    users = db.session.scalars(select(User).where(User.role.in_((Role.STAFF, Role.ADMIN)))
                               .order_by(User.role, User.email)).all()
    return render_template("staff/accounts.html", form=form, users=users, action_form=EmptyForm())


@bp.route("/accounts/<int:user_id>/enabled", methods=["POST"])
@admin_only
def account_enabled(user_id: int):
    """Deactivate or re-activate a staff account (logs it out everywhere)."""
    from ...services.accounts import set_enabled

    user = db.get_or_404(User, user_id)
    if user.role not in (Role.STAFF, Role.ADMIN):
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    enable = request.form.get("enable") == "1"
    if user.id == current_user.id and not enable:
        flash("不能停用自己的账号。", "error")
        return redirect(url_for("staff.accounts"))
    set_enabled(user, enable)
    record("account.enable" if enable else "account.disable", actor=current_user, entity_kind="user",
           entity_id=user.id, after={"email": user.email, "enabled": enable})
    flash(f"账号 {user.email} 已{'启用' if enable else '停用'}。", "success")
    return redirect(url_for("staff.accounts"))
