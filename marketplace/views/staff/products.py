"""Staff console: review of products (名优广货) before they are published.

Views parse a form, call one service function (``services.products.review``) and redirect; the
request commits once after the view and the merchant's mail goes out after that commit. When
someone else decided first (``AlreadyDecided``) the reviewer moves on to the next product.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ...extensions import db
from ...services import AlreadyDecided
from ...services.products import review
from ...unit_of_work import on_refusal
from ..helpers import page_arg
from .blueprint import bp, staff_only
from .forms import OfferDecisionForm as DecisionForm, OfferRejectForm as RejectForm


@bp.route("/products")
@staff_only
def product_queue():
    """Products waiting for review, oldest first."""
    pagination = db.paginate(review.queue_query(), page=page_arg(), per_page=20, error_out=False)
    return render_template("staff/products.html", pagination=pagination, warnings=review.link_warnings)


@bp.route("/products/<int:product_id>")
@staff_only
def product_detail(product_id: int):
    """One product with its photos, prices and links, and the approve / reject forms."""
    product = review.get_product(product_id)  # NotFound: 404
    return render_template("staff/product.html", product=product, approve_form=DecisionForm(version=product.version),
                           reject_form=RejectForm(version=product.version), warnings=review.link_warnings(product),
                           next_product=review.next_pending(product))


def _after_decision():
    nxt = review.next_pending()
    if nxt is None:
        flash("没有待审核的商品了。", "success")
        return redirect(url_for("staff.product_queue"))
    return redirect(url_for("staff.product_detail", product_id=nxt.id))


def _refused(product_id: int):
    def respond(err):
        if isinstance(err, AlreadyDecided):
            return _after_decision()
        return redirect(url_for("staff.product_detail", product_id=product_id))

    return respond


@bp.route("/products/<int:product_id>/approve", methods=["POST"])
@staff_only
def product_approve(product_id: int):
    """Publish a product and tell the merchant."""
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    on_refusal(_refused(product_id))
    product = review.approve_product(product_id, current_user, form.version.data)
    flash(f"商品 #{product.id}（{product.name}）{product.status_label}。", "success")
    return _after_decision()


@bp.route("/products/<int:product_id>/reject", methods=["POST"])
@staff_only
def product_reject(product_id: int):
    """Refuse a product with a reason the merchant sees."""
    form = RejectForm()
    if not form.validate_on_submit():
        flash("请填写驳回理由（不超过 1000 字）。", "error")
        return redirect(url_for("staff.product_detail", product_id=product_id))
    on_refusal(_refused(product_id))
    product = review.reject_product(product_id, current_user, form.reason.data, form.version.data)
    flash(f"商品 #{product.id}（{product.name}）{product.status_label}。", "success")
    return _after_decision()
