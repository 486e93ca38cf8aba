"""Merchant area (商家中心): enterprises, claims, logo, shops, certification applications.

Every route needs a logged-in merchant (staff use the console instead). Ownership of every
object is checked by ``marketplace.services.listings``; another merchant's id gets a 404 (the
service's ``NotFound``) and nothing changes. Views are thin: parse a form, call one service
function, redirect; the request commits once after the view (``marketplace.unit_of_work``). A
refused form is shown again with what was typed (``catch_refusal``); edit forms carry the version
they were rendered with, so an edit from an outdated page or a second tab is refused with
"该资料刚被修改，请刷新后重试" instead of overwriting the other one.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..models import AppKind, AppStatus, Enterprise, Role, Status
from ..services import annual_confirmation, evidence, gongshi, impersonation
from ..services.listings.applications import submit_for_certification, withdraw_application
from ..services.listings.claims import claim_enterprise, find_claimable
from ..services.listings.dashboard import (
    clicks_by_day, describe_enterprise_change, describe_shop_change, merchant_complaints, next_steps,
    pending_changes,
)
from ..services.listings.enterprises import create_enterprise, set_logo, update_enterprise
from ..services.listings.lookups import (
    active_industries, active_platforms, all_cities, get_own_application, get_owned_enterprise,
    get_owned_shop, owned_enterprises, pending_application, queue_position, suggest_city,
    user_applications,
)
from ..services.shop_codes import shops_to_check
from ..services.listings.shops import add_shop, remove_shop, submit_shop, update_shop
from ..unit_of_work import catch_refusal, on_refusal
from .helpers import private_file, role_required, show_errors
from .merchant_forms import (
    CertificationForm, ClaimForm, ConfirmForm, EnterpriseForm, EvidenceUpdateForm, LogoForm, ShopForm,
)
from .once import earlier_result, record_result, spend_token

bp = Blueprint("merchant", __name__, url_prefix="/merchant")

MAX_DASHBOARD_ENTERPRISES = 20


@bp.before_request
@login_required
@role_required(Role.MERCHANT)
def _merchant_only():
    """Every merchant route: login first, then the merchant role (403 for staff)."""
    return None


def _enterprise_choices(form: EnterpriseForm) -> None:
    cities = all_cities()
    form.city_id.choices = [(0, "请选择城市")] + [(c.id, c.full_name) for c in cities]
    form.industry_ids.choices = [(i.id, i.name) for i in active_industries()]
    form.city_codes = {c.id: c.code for c in cities}


def _shop_choices(form: ShopForm) -> None:
    form.platform_id.choices = [(0, "请选择平台")] + [(p.id, p.name) for p in active_platforms()]


# --------------------------------------------------------------------------- dashboard


def _enterprise_panel(ent):
    """Everything the merchant sees about one enterprise, for the dashboard and its page."""
    pending = pending_changes(ent)
    apps = [a for a in user_applications(current_user) if a.enterprise_id == ent.id]
    open_apps = [a for a in apps if a.status == AppStatus.PENDING]
    last_rejection = next((a for a in apps if a.status == AppStatus.REJECTED), None)
    clicks = clicks_by_day([s.id for s in ent.shops])
    return {
        "ent": ent,
        "pending_edit": pending["enterprise"],
        "pending_edit_rows": describe_enterprise_change(ent, pending["enterprise"].payload)
        if pending["enterprise"] else [],
        "shop_edits": {sid: (app_, describe_shop_change(app_.shop, app_.payload))
                       for sid, app_ in pending["shops"].items() if app_.shop is not None},
        "open_apps": [(a, queue_position(a)) for a in open_apps],
        "last_rejection": last_rejection,
        "clicks": clicks,
        "clicks_max": max([c for series in clicks.values() for _, c in series] or [0]),
        "clicks_total": {sid: sum(c for _, c in series) for sid, series in clicks.items()},
        "annual": annual_confirmation.waiting_for(ent),
        "notice": gongshi.open_notice_for(ent),
    }


@bp.route("/")
def dashboard():
    """The merchant's home: checklist, enterprises and shops, applications, complaints."""
    enterprises = owned_enterprises(current_user)
    panels = [_enterprise_panel(e) for e in enterprises[:MAX_DASHBOARD_ENTERPRISES]]
    applications = user_applications(current_user)
    claims = [(a, queue_position(a)) for a in applications
              if a.kind == AppKind.CLAIM and a.status == AppStatus.PENDING]
    return render_template(
        "merchant/dashboard.html", panels=panels, enterprises=enterprises, applications=applications,
        claims=claims, complaints=merchant_complaints(current_user),
        steps=next_steps(enterprises), form=ConfirmForm(),
        watch=impersonation.for_enterprises(e.id for e in enterprises if e.is_public),
    )


# --------------------------------------------------------------------------- enterprises


@bp.route("/enterprises/new", methods=["GET", "POST"])
def enterprise_new():
    """Create a draft enterprise; the city is suggested from the USCC's area code."""
    form = EnterpriseForm()
    _enterprise_choices(form)
    suggested = None
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            ent = create_enterprise(current_user, form.as_data())
            flash("企业资料已保存为草稿。下一步：添加网店。", "success")
            return redirect(url_for("merchant.shop_new", enterprise_id=ent.id))
        show_errors(form, refusal.error)
    if form.uscc.data:
        suggested = suggest_city(form.uscc.data)
    return render_template("merchant/enterprise_form.html", form=form, ent=None, suggested=suggested)


@bp.route("/enterprises/<int:enterprise_id>")
def enterprise_view(enterprise_id: int):
    """One enterprise as its merchant sees it: status, shops, pending changes, history."""
    ent = get_owned_enterprise(current_user, enterprise_id)
    applications = [a for a in user_applications(current_user) if a.enterprise_id == ent.id]
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
    with catch_refusal() as refusal:
        result = update(form.as_data())
    if refusal.error is not None:
        show_errors(form, refusal.error)
        return None
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
    ent = get_owned_enterprise(current_user, enterprise_id)
    form = EnterpriseForm()
    _enterprise_choices(form)
    if request.method == "GET":
        form.version.data = ent.version
        pending = pending_application(ent, AppKind.ENTERPRISE_EDIT)
        values = {
            "name": ent.name, "brands": "；".join(ent.brand_names), "city_id": ent.city_id,
            "industry_ids": [i.id for i in ent.industries], "description": ent.description,
            "website": ent.website, "founded_year": ent.founded_year or "",
            "service_phone": ent.service_phone, "service_hours": ent.service_hours, "address": ent.address,
        }
        payload = dict(pending.payload or {}) if pending is not None else {}
        if "brands" in payload:
            payload["brands"] = "；".join(payload["brands"])
        _prefill(form, values, payload)
    elif form.validate_on_submit():
        done = _submit_edit(form, lambda data: update_enterprise(current_user, ent.id, data), ent.id, (
            "企业资料已保存。",
            "修改已提交审核。审核通过前，公开页面仍显示已认证的内容。",
            "修改已恢复为已认证的内容，待审核的变更已撤回。"))
        if done is not None:
            return done
    return render_template("merchant/enterprise_form.html", form=form, ent=ent,
                           suggested=suggest_city(ent.uscc))


@bp.route("/enterprises/<int:enterprise_id>/logo", methods=["GET", "POST"])
def enterprise_logo(enterprise_id: int):
    """Upload a logo (re-encoded by the image pipeline; 5 MB cap)."""
    ent = get_owned_enterprise(current_user, enterprise_id)
    form = LogoForm()
    if request.method == "GET":
        form.version.data = ent.version
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            result = set_logo(current_user, ent.id, form.logo.data.read(), form.version.data)
            flash("企业标志已更新。" if result.applied else "新标志已提交审核，通过后公开显示。", "success")
            return redirect(url_for("merchant.enterprise_view", enterprise_id=ent.id))
        show_errors(form, refusal.error)
    return render_template("merchant/logo_form.html", form=form, ent=ent)


@bp.route("/enterprises/<int:enterprise_id>/submit", methods=["GET", "POST"])
def enterprise_submit(enterprise_id: int):
    """Submit the enterprise with its shops for certification, with the evidence (licence,
    legal representative, contact, address): a one-time form, POST-redirect-GET."""
    ent = get_owned_enterprise(current_user, enterprise_id)
    form = CertificationForm()
    done = earlier_result(form)
    if done:
        return redirect(url_for("merchant.application_view", application_id=int(done)), 303)
    if request.method == "GET":
        form.prefill_evidence(evidence.prefill(current_user, ent.id))
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            winner = spend_token(form)
            if winner is not None:
                return redirect(url_for("merchant.application_view", application_id=int(winner)), 303)
            app_ = submit_for_certification(current_user, ent.id, form.evidence_data())
            record_result(form, str(app_.id))
            flash(f"认证申请已提交，当前排在审核队列第 {queue_position(app_)} 位。"
                  "请把每个店铺的验证码放进店铺公告或简介，工作人员会核对。", "success")
            return redirect(url_for("merchant.application_view", application_id=app_.id), 303)
        show_errors(form, refusal.error)
    return render_template("merchant/submit_confirm.html", ent=ent, form=form)


@bp.route("/enterprises/<int:enterprise_id>/evidence", methods=["GET", "POST"])
def enterprise_evidence(enterprise_id: int):
    """A certified enterprise's new evidence: a changed legal representative goes to review at
    once; a changed name is then submitted in the edit form (one-time form, POST-redirect-GET)."""
    ent = get_owned_enterprise(current_user, enterprise_id)
    form = EvidenceUpdateForm()
    done = earlier_result(form)
    if done:
        return redirect(url_for("merchant.enterprise_view", enterprise_id=ent.id), 303)
    if request.method == "GET":
        form.prefill_evidence(evidence.prefill(current_user, ent.id))
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            if spend_token(form) is not None:
                return redirect(url_for("merchant.enterprise_view", enterprise_id=ent.id), 303)
            row, app_ = evidence.update_evidence(current_user, ent.id, form.evidence_data())
            record_result(form, str(row.id))
            flash("认证材料已更新并提交审核。" if app_ is not None else
                  "认证材料已上传。如需变更企业名称，请现在到“编辑资料”中提交新名称。", "success")
            return redirect(url_for("merchant.enterprise_view", enterprise_id=ent.id), 303)
        show_errors(form, refusal.error)
    return render_template("merchant/evidence_form.html", ent=ent, form=form)


# --------------------------------------------------------------------------- claims


@bp.route("/claim")
def claim_search():
    """Search imported, unowned enterprises by USCC or name."""
    q = (request.args.get("q") or "")[:120]
    results = find_claimable(q) if q.strip() else []
    return render_template("merchant/claim_search.html", q=q, results=results)


@bp.route("/claim/<int:enterprise_id>", methods=["GET", "POST"])
def claim(enterprise_id: int):
    """Ask staff for control of an imported enterprise, with the evidence (one-time form)."""
    ent = db.get_or_404(Enterprise, enterprise_id)
    if ent.owner_id is not None and ent.owner_id != current_user.id:
        abort(404)  # owned listings are not claimable here; do not reveal details
    form = ClaimForm()
    done = earlier_result(form)
    if done:
        return redirect(url_for("merchant.application_view", application_id=int(done)), 303)
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            winner = spend_token(form)
            if winner is not None:
                return redirect(url_for("merchant.application_view", application_id=int(winner)), 303)
            app_ = claim_enterprise(current_user, ent.id, form.note.data or "", form.evidence_data())
            record_result(form, str(app_.id))
            flash("认领申请已提交，工作人员核实后您即可管理该企业。", "success")
            return redirect(url_for("merchant.application_view", application_id=app_.id), 303)
        show_errors(form, refusal.error)
    return render_template("merchant/claim_form.html", ent=ent, form=form)


# --------------------------------------------------------------------------- shops


@bp.route("/enterprises/<int:enterprise_id>/shops/new", methods=["GET", "POST"])
def shop_new(enterprise_id: int):
    """Add a shop; to a certified enterprise it goes to review first."""
    ent = get_owned_enterprise(current_user, enterprise_id)
    form = ShopForm()
    _shop_choices(form)
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            shop = add_shop(current_user, ent.id, form.as_data())
            if shop.status == Status.PENDING:
                flash("店铺已添加并提交审核，审核通过后公开显示。", "success")
            else:
                flash("店铺已添加。可以继续添加，或提交认证申请。", "success")
            return redirect(url_for("merchant.enterprise_view", enterprise_id=ent.id))
        show_errors(form, refusal.error)
    return render_template("merchant/shop_form.html", form=form, ent=ent, shop=None)


@bp.route("/shops/<int:shop_id>/edit", methods=["GET", "POST"])
def shop_edit(shop_id: int):
    """Edit a shop; a certified shop's change waits for review (the live URL stays)."""
    shop = get_owned_shop(current_user, shop_id)
    ent = shop.enterprise
    form = ShopForm()
    _shop_choices(form)
    if request.method == "GET":
        form.version.data = shop.version
        values = {"platform_id": shop.platform_id, "name": shop.name, "url": shop.url,
                  "shop_type": shop.shop_type}
        pending = pending_application(ent, AppKind.SHOP_EDIT, shop)
        _prefill(form, values, (pending.payload or {}) if pending is not None else {})
    elif form.validate_on_submit():
        done = _submit_edit(form, lambda data: update_shop(current_user, shop.id, data), ent.id, (
            "店铺资料已保存。",
            "店铺修改已提交审核。审核通过前，消费者看到和跳转的仍是已认证的网址。",
            "店铺资料已恢复为已认证的内容，待审核的变更已撤回。"))
        if done is not None:
            return done
    return render_template("merchant/shop_form.html", form=form, ent=ent, shop=shop)


@bp.route("/shops/<int:shop_id>/delete", methods=["GET", "POST"])
def shop_delete(shop_id: int):
    """Confirm, then remove a shop (takes effect at once)."""
    shop = get_owned_shop(current_user, shop_id)
    ent = shop.enterprise
    form = ConfirmForm()
    if form.validate_on_submit():
        back = url_for("merchant.enterprise_view", enterprise_id=ent.id)
        on_refusal(back)
        remove_shop(current_user, shop.id)
        flash("店铺已删除。", "success")
        return redirect(back)
    if request.method == "POST":
        abort(400)
    return render_template("merchant/shop_delete.html", shop=shop, ent=ent, form=form)


@bp.route("/shops/<int:shop_id>/submit", methods=["POST"])
def shop_submit(shop_id: int):
    """Send a draft or rejected shop of a certified enterprise to review."""
    shop = get_owned_shop(current_user, shop_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    back = url_for("merchant.enterprise_view", enterprise_id=shop.enterprise_id)
    on_refusal(back)
    submit_shop(current_user, shop.id)
    flash("店铺已提交审核。", "success")
    return redirect(back)


# --------------------------------------------------------------------------- applications


@bp.route("/applications/<int:application_id>")
def application_view(application_id: int):
    """One application: what was asked, its status, queue position and the decision."""
    app_ = get_own_application(current_user, application_id)
    rows = []
    if app_.kind == AppKind.ENTERPRISE_EDIT:
        rows = describe_enterprise_change(app_.enterprise, app_.payload)
    elif app_.kind == AppKind.SHOP_EDIT and app_.shop is not None:
        rows = describe_shop_change(app_.shop, app_.payload)
    return render_template("merchant/application.html", app_=app_, rows=rows, shops=shops_to_check(app_),
                           position=queue_position(app_), form=ConfirmForm())


@bp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
def application_withdraw(application_id: int):
    """Withdraw a pending application (the listing goes back to draft)."""
    app_ = get_own_application(current_user, application_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    back = url_for("merchant.application_view", application_id=app_.id)
    on_refusal(back)
    withdraw_application(current_user, app_.id)
    flash("申请已撤回。", "success")
    return redirect(back)


# --------------------------------------------------------------------------- evidence (private)


@bp.route("/evidence/<int:evidence_id>/licence")
def evidence_licence(evidence_id: int):
    """The licence its uploader handed in: an image inline, a PDF only as a download; never
    cached (``private_file``). Anyone else's id is a 404."""
    row = evidence.for_uploader(current_user, evidence_id)
    return private_file(row.licence_data, row.licence_mime, evidence.licence_filename(row))


@bp.route("/evidence/<int:evidence_id>/pages/<int:page_no>")
def evidence_page(evidence_id: int, page_no: int):
    """One rendered page of the uploader's own PDF licence."""
    page = evidence.page_of(evidence.for_uploader(current_user, evidence_id), page_no)
    return private_file(page.data, page.mime, f"licence-{evidence_id}-p{page_no}.{page.mime.split('/')[-1]}")
