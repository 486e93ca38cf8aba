"""Merchant area (商家中心): enterprises, claims, logo, shops, certification applications.

Every route needs a logged-in merchant (staff use the console instead). Ownership of every
object is checked by ``marketplace.services.listings``; another merchant's id gets a 404 and
nothing changes. Views are thin: parse a form, call one service function, commit, redirect.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..models import AppKind, AppStatus, Enterprise, Role, Status
from ..services import NotFound, ServiceError
from ..services import listings
from ..services.listings import FieldErrors
from .helpers import role_required
from .merchant_forms import ClaimForm, ConfirmForm, EnterpriseForm, LogoForm, ShopForm

bp = Blueprint("merchant", __name__, url_prefix="/merchant")

MAX_DASHBOARD_ENTERPRISES = 20


@bp.before_request
@login_required
@role_required(Role.MERCHANT)
def _merchant_only():
    """Every merchant route: login first, then the merchant role (403 for staff)."""
    return None


def _get_or_404(fn, *args):
    try:
        return fn(*args)
    except NotFound:
        abort(404)


def _apply_errors(form, err: ServiceError) -> None:
    """Show a service refusal under the right fields (or as a flash when it has none)."""
    if isinstance(err, FieldErrors):
        for name, message in err.errors.items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = list(field.errors or []) + [message]
            else:
                flash(message, "error")
    else:
        flash(str(err), "error")


def _enterprise_choices(form: EnterpriseForm) -> None:
    cities = listings.all_cities()
    form.city_id.choices = [(0, "请选择城市")] + [(c.id, c.full_name) for c in cities]
    form.industry_ids.choices = [(i.id, i.name) for i in listings.active_industries()]
    form.city_codes = {c.id: c.code for c in cities}


def _shop_choices(form: ShopForm) -> None:
    form.platform_id.choices = [(0, "请选择平台")] + [(p.id, p.name) for p in listings.active_platforms()]


# --------------------------------------------------------------------------- dashboard


def _enterprise_panel(ent):
    """Everything the merchant sees about one enterprise, for the dashboard and its page."""
    pending = listings.pending_changes(ent)
    apps = [a for a in listings.user_applications(current_user) if a.enterprise_id == ent.id]
    open_apps = [a for a in apps if a.status == AppStatus.PENDING]
    last_rejection = next((a for a in apps if a.status == AppStatus.REJECTED), None)
    clicks = listings.clicks_by_day([s.id for s in ent.shops])
    return {
        "ent": ent,
        "pending_edit": pending["enterprise"],
        "pending_edit_rows": listings.describe_enterprise_change(ent, pending["enterprise"].payload)
        if pending["enterprise"] else [],
        "shop_edits": {sid: (app_, listings.describe_shop_change(app_.shop, app_.payload))
                       for sid, app_ in pending["shops"].items() if app_.shop is not None},
        "open_apps": [(a, listings.queue_position(a)) for a in open_apps],
        "last_rejection": last_rejection,
        "clicks": clicks,
        "clicks_max": max([c for series in clicks.values() for _, c in series] or [0]),
        "clicks_total": {sid: sum(c for _, c in series) for sid, series in clicks.items()},
    }


@bp.route("/")
def dashboard():
    """The merchant's home: checklist, enterprises and shops, applications, complaints."""
    enterprises = listings.owned_enterprises(current_user)
    panels = [_enterprise_panel(e) for e in enterprises[:MAX_DASHBOARD_ENTERPRISES]]
    applications = listings.user_applications(current_user)
    claims = [(a, listings.queue_position(a)) for a in applications
              if a.kind == AppKind.CLAIM and a.status == AppStatus.PENDING]
    return render_template(
        "merchant/dashboard.html", panels=panels, enterprises=enterprises, applications=applications,
        claims=claims, complaints=listings.merchant_complaints(current_user),
        steps=listings.next_steps(enterprises), form=ConfirmForm(),
    )


# --------------------------------------------------------------------------- enterprises


@bp.route("/enterprises/new", methods=["GET", "POST"])
def enterprise_new():
    """Create a draft enterprise; the city is suggested from the USCC's area code."""
    form = EnterpriseForm()
    _enterprise_choices(form)
    suggested = None
    if form.validate_on_submit():
        try:
            ent = listings.create_enterprise(current_user, form.as_data())
        except ServiceError as err:
            db.session.rollback()
            _apply_errors(form, err)
        else:
            db.session.commit()
            flash("企业资料已保存为草稿。下一步：添加网店。", "success")
            return redirect(url_for("merchant.shop_new", enterprise_id=ent.id))
    if form.uscc.data:
        suggested = listings.suggest_city(form.uscc.data)
    return render_template("merchant/enterprise_form.html", form=form, ent=None, suggested=suggested)


@bp.route("/enterprises/<int:enterprise_id>")
def enterprise_view(enterprise_id: int):
    """One enterprise as its merchant sees it: status, shops, pending changes, history."""
    ent = _get_or_404(listings.get_owned_enterprise, current_user, enterprise_id)
    applications = [a for a in listings.user_applications(current_user) if a.enterprise_id == ent.id]
    return render_template("merchant/enterprise.html", p=_enterprise_panel(ent), ent=ent,
                           applications=applications, form=ConfirmForm())


def _prefill(form, values: dict, pending: dict) -> None:
    """Fill an edit form with the live values, overlaid by a pending change awaiting review (so
    the merchant edits what they last submitted, not what is public)."""
    values = dict(values)
    values.update({k: v for k, v in pending.items() if k in values and v is not None})
    for key, value in values.items():
        getattr(form, key).data = value


def _submit_edit(form, update, enterprise_id: int, messages: tuple[str, str, str]):
    """Save a validated edit form through ``update(data)`` (a listings service call) and say what
    happened: ``messages`` = (saved at once, sent for review, pending change withdrawn).
    Returns the redirect, or None with the service's errors put on the form (nothing saved)."""
    saved, submitted, reverted = messages
    try:
        result = update(form.as_data())
    except ServiceError as err:
        db.session.rollback()
        _apply_errors(form, err)
        return None
    db.session.commit()
    if result.applied:
        flash(saved if result.changed else "没有需要保存的修改。", "success")
    elif result.application is not None and result.application.status == AppStatus.PENDING:
        flash(submitted, "success")
    elif result.application is not None:
        flash(reverted, "success")
    else:
        flash("没有需要提交的修改。", "success")
    return redirect(url_for("merchant.enterprise_view", enterprise_id=enterprise_id))


@bp.route("/enterprises/<int:enterprise_id>/edit", methods=["GET", "POST"])
def enterprise_edit(enterprise_id: int):
    """Edit directly while unpublished; for a certified enterprise the change goes to review."""
    ent = _get_or_404(listings.get_owned_enterprise, current_user, enterprise_id)
    form = EnterpriseForm()
    _enterprise_choices(form)
    if request.method == "GET":
        pending = listings.pending_application(ent, AppKind.ENTERPRISE_EDIT)
        values = {
            "name": ent.name, "brands": "；".join(ent.brand_names), "city_id": ent.city_id,
            "industry_ids": [i.id for i in ent.industries], "description": ent.description,
            "website": ent.website, "founded_year": ent.founded_year or "",
        }
        payload = dict(pending.payload or {}) if pending is not None else {}
        if "brands" in payload:
            payload["brands"] = "；".join(payload["brands"])
        _prefill(form, values, payload)
    elif form.validate_on_submit():
        done = _submit_edit(form, lambda data: listings.update_enterprise(current_user, ent.id, data), ent.id, (
            "企业资料已保存。",
            "修改已提交审核。审核通过前，公开页面仍显示已认证的内容。",
            "修改已恢复为已认证的内容，待审核的变更已撤回。"))
        if done is not None:
            return done
    return render_template("merchant/enterprise_form.html", form=form, ent=ent,
                           suggested=listings.suggest_city(ent.uscc))


@bp.route("/enterprises/<int:enterprise_id>/logo", methods=["GET", "POST"])
def enterprise_logo(enterprise_id: int):
    """Upload a logo (re-encoded by the image pipeline; 5 MB cap)."""
    ent = _get_or_404(listings.get_owned_enterprise, current_user, enterprise_id)
    form = LogoForm()
    if form.validate_on_submit():
        try:
            result = listings.set_logo(current_user, ent.id, form.logo.data.read())
        except ServiceError as err:
            db.session.rollback()
            _apply_errors(form, err)
        else:
            db.session.commit()
            flash("企业标志已更新。" if result.applied else "新标志已提交审核，通过后公开显示。", "success")
            return redirect(url_for("merchant.enterprise_view", enterprise_id=ent.id))
    return render_template("merchant/logo_form.html", form=form, ent=ent)


@bp.route("/enterprises/<int:enterprise_id>/submit", methods=["GET", "POST"])
def enterprise_submit(enterprise_id: int):
    """Confirm, then submit the enterprise with its shops for certification."""
    ent = _get_or_404(listings.get_owned_enterprise, current_user, enterprise_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            app_ = listings.submit_for_certification(current_user, ent.id)
        except ServiceError as err:
            db.session.rollback()
            flash(str(err), "error")
            return redirect(url_for("merchant.enterprise_view", enterprise_id=ent.id))
        db.session.commit()
        flash(f"认证申请已提交，当前排在审核队列第 {listings.queue_position(app_)} 位。", "success")
        return redirect(url_for("merchant.application_view", application_id=app_.id))
    if request.method == "POST":
        abort(400)
    return render_template("merchant/submit_confirm.html", ent=ent, form=form)


# --------------------------------------------------------------------------- claims


@bp.route("/claim")
def claim_search():
    """Search imported, unowned enterprises by USCC or name."""
    q = (request.args.get("q") or "")[:120]
    results = listings.find_claimable(q) if q.strip() else []
    return render_template("merchant/claim_search.html", q=q, results=results)


@bp.route("/claim/<int:enterprise_id>", methods=["GET", "POST"])
def claim(enterprise_id: int):
    """Ask staff for control of an imported enterprise."""
    ent = db.get_or_404(Enterprise, enterprise_id)
    if ent.owner_id is not None and ent.owner_id != current_user.id:
        abort(404)  # owned listings are not claimable here; do not reveal details
    form = ClaimForm()
    if form.validate_on_submit():
        try:
            app_ = listings.claim_enterprise(current_user, ent.id, form.note.data or "")
        except ServiceError as err:
            db.session.rollback()
            _apply_errors(form, err)
        else:
            db.session.commit()
            flash("认领申请已提交，工作人员核实后您即可管理该企业。", "success")
            return redirect(url_for("merchant.application_view", application_id=app_.id))
    return render_template("merchant/claim_form.html", ent=ent, form=form)


# --------------------------------------------------------------------------- shops


@bp.route("/enterprises/<int:enterprise_id>/shops/new", methods=["GET", "POST"])
def shop_new(enterprise_id: int):
    """Add a shop; to a certified enterprise it goes to review first."""
    ent = _get_or_404(listings.get_owned_enterprise, current_user, enterprise_id)
    form = ShopForm()
    _shop_choices(form)
    if form.validate_on_submit():
        try:
            shop = listings.add_shop(current_user, ent.id, form.as_data())
        except ServiceError as err:
            db.session.rollback()
            _apply_errors(form, err)
        else:
            db.session.commit()
            if shop.status == Status.PENDING:
                flash("店铺已添加并提交审核，审核通过后公开显示。", "success")
            else:
                flash("店铺已添加。可以继续添加，或提交认证申请。", "success")
            return redirect(url_for("merchant.enterprise_view", enterprise_id=ent.id))
    return render_template("merchant/shop_form.html", form=form, ent=ent, shop=None)


@bp.route("/shops/<int:shop_id>/edit", methods=["GET", "POST"])
def shop_edit(shop_id: int):
    """Edit a shop; a certified shop's change waits for review (the live URL stays)."""
    shop = _get_or_404(listings.get_owned_shop, current_user, shop_id)
    ent = shop.enterprise
    form = ShopForm()
    _shop_choices(form)
    if request.method == "GET":
        values = {"platform_id": shop.platform_id, "name": shop.name, "url": shop.url,
                  "shop_type": shop.shop_type}
        pending = listings.pending_application(ent, AppKind.SHOP_EDIT, shop)
        _prefill(form, values, (pending.payload or {}) if pending is not None else {})
    elif form.validate_on_submit():
        done = _submit_edit(form, lambda data: listings.update_shop(current_user, shop.id, data), ent.id, (
            "店铺资料已保存。",
            "店铺修改已提交审核。审核通过前，消费者看到和跳转的仍是已认证的网址。",
            "店铺资料已恢复为已认证的内容，待审核的变更已撤回。"))
        if done is not None:
            return done
    return render_template("merchant/shop_form.html", form=form, ent=ent, shop=shop)


@bp.route("/shops/<int:shop_id>/delete", methods=["GET", "POST"])
def shop_delete(shop_id: int):
    """Confirm, then remove a shop (takes effect at once)."""
    shop = _get_or_404(listings.get_owned_shop, current_user, shop_id)
    ent = shop.enterprise
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            listings.remove_shop(current_user, shop.id)
        except ServiceError as err:
            db.session.rollback()
            flash(str(err), "error")
        else:
            db.session.commit()
            flash("店铺已删除。", "success")
        return redirect(url_for("merchant.enterprise_view", enterprise_id=ent.id))
    if request.method == "POST":
        abort(400)
    return render_template("merchant/shop_delete.html", shop=shop, ent=ent, form=form)


@bp.route("/shops/<int:shop_id>/submit", methods=["POST"])
def shop_submit(shop_id: int):
    """Send a draft or rejected shop of a certified enterprise to review."""
    shop = _get_or_404(listings.get_owned_shop, current_user, shop_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        listings.submit_shop(current_user, shop.id)
    except ServiceError as err:
        db.session.rollback()
        flash(str(err), "error")
    else:
        db.session.commit()
        flash("店铺已提交审核。", "success")
    return redirect(url_for("merchant.enterprise_view", enterprise_id=shop.enterprise_id))


# --------------------------------------------------------------------------- applications


@bp.route("/applications/<int:application_id>")
def application_view(application_id: int):
    """One application: what was asked, its status, queue position and the decision."""
    app_ = _get_or_404(listings.get_own_application, current_user, application_id)
    rows = []
    if app_.kind == AppKind.ENTERPRISE_EDIT:
        rows = listings.describe_enterprise_change(app_.enterprise, app_.payload)
    elif app_.kind == AppKind.SHOP_EDIT and app_.shop is not None:
        rows = listings.describe_shop_change(app_.shop, app_.payload)
    return render_template("merchant/application.html", app_=app_, rows=rows,
                           position=listings.queue_position(app_), form=ConfirmForm())


@bp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
def application_withdraw(application_id: int):
    """Withdraw a pending application (the listing goes back to draft)."""
    app_ = _get_or_404(listings.get_own_application, current_user, application_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        listings.withdraw_application(current_user, app_.id)
    except ServiceError as err:
        db.session.rollback()
        flash(str(err), "error")
    else:
        db.session.commit()
        flash("申请已撤回。", "success")
    return redirect(url_for("merchant.application_view", application_id=app_.id))


# Topic modules add their routes to ``bp``; import them last so ``bp`` exists.
from . import merchant_events  # noqa: E402,F401
