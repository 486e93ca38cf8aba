"""Merchant area, certification upkeep: brand authorizations (``/merchant/authorizations``) and
the annual confirmation of an enterprise (``/merchant/enterprises/<id>/annual-confirmation``).

Same rules as ``views.merchant``: a logged-in merchant only, ownership checked by the services
(another merchant's authorization or enterprise is a 404), one commit per request, a refused form
shown again with what was typed. The authorization letter is private: only the distributor's
owner reads it here (``private, no-store``), staff in the console.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..models import AuthorizationStatus, Role
from ..services import annual_confirmation, authorizations
from ..services.listings.dashboard import pending_changes
from ..services.listings.lookups import active_platforms, get_owned_enterprise, owned_enterprises
from ..unit_of_work import catch_refusal, on_refusal
from .helpers import private_file, role_required, show_errors
from .merchant_trust_forms import AnnualConfirmationForm, GrantForm, LetterForm, LinkShopsForm, WithdrawForm

bp = Blueprint("merchant_trust", __name__, url_prefix="/merchant")


@bp.before_request
@login_required
@role_required(Role.MERCHANT)
def _merchant_only():
    """Every route: login first, then the merchant role (403 for staff)."""
    return None


def _platform_choices(form) -> None:
    form.platform_ids.choices = [(p.id, p.name) for p in active_platforms()]


# --------------------------------------------------------------------------- authorizations

@bp.route("/authorizations")
def authorizations_page():
    """What the merchant granted as a brand owner and received as a distributor."""
    granted, received = authorizations.granted_by(current_user), authorizations.received_by(current_user)
    others = authorizations.names_by_code([a.distributor_uscc for a in granted] + [a.grantor_uscc for a in received])
    return render_template("merchant/authorizations.html", granted=granted, received=received, others=others,
                           can_grant=bool(authorizations.grantable_brands(current_user)),
                           enterprises=owned_enterprises(current_user), S=AuthorizationStatus)


@bp.route("/authorizations/new", methods=["GET", "POST"])
def authorization_new():
    """The brand owner authorizes a distributor's 专卖店 / 专营店."""
    form = GrantForm()
    brands = authorizations.grantable_brands(current_user)
    form.brand_id.choices = [(0, "请选择品牌")] + [(b.id, f"{b.name}（{b.enterprise.name}）") for b in brands]
    _platform_choices(form)
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            auth = authorizations.grant(current_user, form.as_input())
            flash(f"已授予「{auth.brand_name}」品牌授权（编号 {auth.id}）。被授权企业在本站登记后即可看到并关联店铺。", "success")
            return redirect(url_for("merchant_trust.authorizations_page"))
        show_errors(form, refusal.error)
    return render_template("merchant/authorization_form.html", form=form, brands=brands)


@bp.route("/authorizations/letter", methods=["GET", "POST"])
def authorization_letter_new():
    """The distributor uploads the brand owner's letter; staff check it."""
    form = LetterForm()
    enterprises = owned_enterprises(current_user)
    form.enterprise_id.choices = [(0, "请选择企业")] + [(e.id, e.name) for e in enterprises]
    _platform_choices(form)
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            auth = authorizations.upload_letter(current_user, form.as_input(), form.letter.data.read())
            flash(f"授权书已提交（编号 {auth.id}），工作人员核验通过后生效。", "success")
            return redirect(url_for("merchant_trust.authorizations_page"))
        show_errors(form, refusal.error)
    return render_template("merchant/authorization_letter_form.html", form=form, enterprises=enterprises)


@bp.route("/authorizations/<int:auth_id>/withdraw", methods=["GET", "POST"])
def authorization_withdraw(auth_id: int):
    """The brand owner withdraws an authorization (the distributor's dependent shops are suspended)."""
    auth = authorizations.get_as_grantor(current_user, auth_id)
    form = WithdrawForm()
    if request.method == "GET":
        form.version.data = auth.version
    elif form.validate_on_submit():
        with catch_refusal() as refusal:
            suspended = authorizations.withdraw(current_user, auth.id, form.reason.data,
                                                seen_version=form.version.data)
            flash(f"已撤回「{auth.brand_name}」品牌授权" + (f"，{len(suspended)} 家依赖该授权的店铺已暂停展示。"
                                                          if suspended else "。"), "success")
            return redirect(url_for("merchant_trust.authorizations_page"))
        show_errors(form, refusal.error)
    else:
        abort(400)
    dependents = [s for s in auth.shops if s is not None]
    return render_template("merchant/authorization_withdraw.html", auth=auth, form=form, dependents=dependents,
                           distributor=authorizations.enterprise_with_code(auth.distributor_uscc))


@bp.route("/authorizations/<int:auth_id>/shops", methods=["GET", "POST"])
def authorization_shops(auth_id: int):
    """The distributor says which of its shops sell the brand under this authorization."""
    auth = authorizations.get_as_distributor(current_user, auth_id)
    form = LinkShopsForm()
    eligible = authorizations.eligible_shops(auth)
    form.shop_ids.choices = [(s.id, f"{s.name}（{s.platform.name} · {s.shop_type}）") for s in eligible]
    if request.method == "GET":
        form.shop_ids.data = [link.shop_id for link in auth.links]
    elif form.validate_on_submit():
        on_refusal(url_for("merchant_trust.authorization_shops", auth_id=auth.id))
        authorizations.link_shops(current_user, auth.id, form.shop_ids.data or [])
        flash("已保存关联的店铺。", "success")
        return redirect(url_for("merchant_trust.authorizations_page"))
    else:
        abort(400)
    return render_template("merchant/authorization_shops.html", auth=auth, form=form, eligible=eligible)


@bp.route("/authorizations/<int:auth_id>/letter")
def authorization_letter(auth_id: int):
    """The distributor's own letter (private: its owner and staff only, never cached)."""
    auth = authorizations.letter_for_distributor(current_user, auth_id)
    return private_file(auth.letter_data, auth.letter_mime, f"authorization-{auth.id}.{auth.letter_mime.split('/')[-1]}")


# --------------------------------------------------------------------------- annual confirmation

@bp.route("/enterprises/<int:enterprise_id>/annual-confirmation", methods=["GET", "POST"])
def annual_confirmation_page(enterprise_id: int):
    """Check the listing's data, shops and evidence once a year, and confirm."""
    ent = get_owned_enterprise(current_user, enterprise_id)
    row = annual_confirmation.waiting_for(ent)
    form = AnnualConfirmationForm()
    if request.method == "GET" and row is not None:
        form.version.data = row.version
    elif request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        with catch_refusal() as refusal:
            annual_confirmation.submit(current_user, ent.id, confirmed=form.confirmed.data, note=form.note.data or "",
                                       seen_version=form.version.data)
            flash("年度确认已提交，工作人员核实后完成。", "success")
            return redirect(url_for("merchant.enterprise_view", enterprise_id=ent.id))
        show_errors(form, refusal.error)
    return render_template("merchant/annual_confirmation.html", ent=ent, row=row, form=form,
                           pending=pending_changes(ent))
