"""Merchant area: list products of certified enterprises (``/merchant/products``).

Routes on the merchant blueprint (``views.merchant.bp``, whose guard admits logged-in merchants
only); the app factory imports this module before registering it. Ownership is checked by
``services.products.manage`` (another merchant's id is a 404). A refused form is shown again with
what was typed (photos have to be chosen again: browsers never refill file inputs); the request
commits once after the view (``unit_of_work``).
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, StringField, TextAreaField

from ..models import MAX_PHOTOS, ProductStatus
from ..services.listings.common import FieldErrors
from ..services.listings.lookups import active_industries, get_owned_enterprise, owned_enterprises
from ..services.products import manage
from ..services.products.fields import MAX_DESCRIPTION, MAX_NAME, link_field, linkable_shops
from ..unit_of_work import catch_refusal, on_refusal
from .form_fields import LenientSelectField, YuanField, coerce_int
from .helpers import show_errors
from .merchant import bp
from .merchant_forms import ConfirmForm


class ProductForm(FlaskForm):
    """Name, photos, price range, description and industry; the per-shop URL boxes are named
    ``url_<shop id>`` and read from the request (their number depends on the enterprise)."""

    name = StringField("商品名称")
    industry_id = LenientSelectField("所属行业", coerce=coerce_int)
    price_min = YuanField("最低价（元）")
    price_max = YuanField("最高价（元）")
    description = TextAreaField("商品简介（可选）")
    photos = MultipleFileField(f"商品照片（1–{MAX_PHOTOS} 张，PNG、JPEG 或 WebP）")
    version = HiddenField()

    def as_data(self, shops) -> dict:
        data = {"name": self.name.data, "industry_id": self.industry_id.data, "description": self.description.data,
                "price_min": self.price_min.raw_data[0] if self.price_min.raw_data else "",
                "price_max": self.price_max.raw_data[0] if self.price_max.raw_data else "",
                "photos": [f.read() for f in request.files.getlist("photos") if f and f.filename]}
        data.update({link_field(s.id): request.form.get(link_field(s.id), "") for s in shops})
        return data


def _form() -> ProductForm:
    form = ProductForm()
    form.industry_id.choices = [(0, "请选择")] + [(i.id, i.name) for i in active_industries()]
    return form


def _render(form, ent, product=None, link_errors=None, urls=None):
    shops = linkable_shops(ent)
    if urls is None:
        urls = {link_field(s.id): request.form.get(link_field(s.id), "") for s in shops}
    return render_template("products/merchant_form.html", form=form, ent=ent, product=product, shops=shops,
                           urls=urls, link_errors=link_errors or {}, link_field=link_field,
                           max_photos=MAX_PHOTOS, max_name=MAX_NAME, max_description=MAX_DESCRIPTION)


def _split_errors(form, err) -> dict:
    """URL errors for the per-shop boxes; everything else goes under the form's fields."""
    if not isinstance(err, FieldErrors):
        show_errors(form, err)
        return {}
    links = {k: v for k, v in err.errors.items() if k.startswith("url_") or k == "links"}
    rest = {k: v for k, v in err.errors.items() if k not in links}
    if rest:
        show_errors(form, FieldErrors(rest))
    return links


@bp.route("/products")
def products_overview():
    """The merchant's products with their review status, and where to add one."""
    return render_template("products/merchant_list.html", products=manage.merchant_products(current_user),
                           enterprises=[e for e in owned_enterprises(current_user)], form=ConfirmForm(),
                           linkable=linkable_shops, statuses=ProductStatus)


@bp.route("/enterprises/<int:enterprise_id>/products/new", methods=["GET", "POST"])
def product_new(enterprise_id: int):
    """Add a product (it waits for staff review before it is shown)."""
    ent = get_owned_enterprise(current_user, enterprise_id)
    on_refusal(url_for("merchant.products_overview"))
    manage.check_can_list(ent)
    form = _form()
    link_errors = {}
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            manage.submit_product(current_user, ent.id, form.as_data(linkable_shops(ent)))
            flash("商品已提交，工作人员审核通过后公开显示。", "success")
            return redirect(url_for("merchant.products_overview"))
        link_errors = _split_errors(form, refusal.error)
    return _render(form, ent, link_errors=link_errors)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
def product_edit(product_id: int):
    """Change a product; it goes (back) to review and is hidden until approved."""
    product = manage.get_own_product(current_user, product_id)
    if product.status not in manage.EDITABLE:
        flash("已下架的商品不能修改。", "error")
        return redirect(url_for("merchant.products_overview"))
    form = _form()
    link_errors, urls = {}, None
    if request.method == "GET":
        form.name.data, form.description.data = product.name, product.description
        form.industry_id.data = product.industry_id
        form.price_min.raw_data = [f"{product.price_min_fen / 100:g}"]
        form.price_max.raw_data = [f"{product.price_max_fen / 100:g}"]
        form.version.data = str(product.version)
        urls = {link_field(link.shop_id): link.url for link in product.links}
    elif form.validate_on_submit():
        with catch_refusal() as refusal:
            manage.update_product(current_user, product.id, form.as_data(linkable_shops(product.enterprise)),
                                  keep_photos=request.form.getlist("keep_photo"), seen_version=form.version.data)
            flash("修改已保存，商品重新进入审核，审核通过前不公开显示。", "success")
            return redirect(url_for("merchant.products_overview"))
        link_errors = _split_errors(form, refusal.error)
    return _render(form, product.enterprise, product=product, link_errors=link_errors, urls=urls)


@bp.route("/products/<int:product_id>/withdraw", methods=["POST"])
def product_withdraw(product_id: int):
    """Take a product off the site at once."""
    product = manage.get_own_product(current_user, product_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    on_refusal(url_for("merchant.products_overview"))
    manage.withdraw_product(current_user, product.id)
    flash("商品已下架。", "success")
    return redirect(url_for("merchant.products_overview"))
