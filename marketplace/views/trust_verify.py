"""Lookup pages of the ``trust`` blueprint: the /verify form and result page, the QR codes of
enterprise and certificate pages, and the enterprise page's trust extras (schema.org JSON-LD and
the share/QR/badge links its partials need).

Split from ``views/trust.py``, which owns ``bp``; these routes register on that same ``bp``, so the
endpoint names (``trust.verify``, ``trust.enterprise_qr``, ...) are unchanged. Everything here only
reads: the verify form is a GET.
"""
from __future__ import annotations

import io

import segno
from flask import abort, current_app, render_template, request
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from ..extensions import db
from ..models import Enterprise
from ..services.verify import Outcome, certificate_outcome, verify as run_verify
from ..validation import ValidationError
from . import linking
from .trust import _certificate_or_404, bp


KIND_CHOICES = [("auto", "自动识别"), ("url", "店铺链接"), ("certificate", "证书编号"), ("uscc", "统一社会信用代码")]


class VerifyForm(FlaskForm):
    """The lookup form (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField("店铺链接、证书编号或统一社会信用代码", validators=[Optional(), Length(max=4000)])
    kind = SelectField("查询方式", choices=KIND_CHOICES, default="auto", validate_choice=False)


# --------------------------------------------------------------------------- verify

@bp.route("/verify")
def verify():
    """Check a shop link, certificate number or 统一社会信用代码; accepts ``?q=&kind=`` from the
    form and ``?url=`` / ``?certificate=`` / ``?uscc=`` like the API."""
    form = VerifyForm(formdata=request.args)
    kind, value = "auto", ""
    for key in ("url", "certificate", "uscc"):
        if request.args.get(key, "").strip():
            kind, value = key, request.args[key]
            form.q.data, form.kind.data = value, key
            break
    else:
        value = (form.q.data or "").strip()
        kind = form.kind.data if form.kind.data in dict(KIND_CHOICES) else "auto"
    result, error = None, None
    if value:
        if len(value) > 4000 or "\x00" in value:
            error = "输入内容过长或含有不允许的字符。"
        else:
            try:
                result = run_verify(kind, value)
            except ValidationError as err:
                error = str(err)
    if error:
        form.q.errors = [error]
    status = 200
    return render_template(
        "trust/verify.html", form=form, result=result, error=error, enterprise_url=linking.enterprise_url,
        complaint_url=linking.complaint_url,
        report_url=linking.complaint_url(
            result.enterprise if result and result.found_listing else None,
            result.shop if result and result.found_listing else None,
        ) if result else None,
        api_url=linking.url("api.verify",
                            **({result.query_type: value} if result is not None else {})),
    ), status


# --------------------------------------------------------------------------- QR codes

def _qr(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)


def _qr_response(url: str, fmt: str, title: str):
    qr = _qr(url)
    buf = io.BytesIO()
    if fmt == "svg":
        qr.save(buf, kind="svg", scale=6, border=2, xmldecl=True, title=title, dark="#1a1a1a")
        mimetype = "image/svg+xml"
    else:
        qr.save(buf, kind="png", scale=8, border=2)
        mimetype = "image/png"
    response = current_app.response_class(buf.getvalue(), mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.add_etag()
    return response.make_conditional(request)


@bp.route("/qr/enterprises/<int:enterprise_id>.<fmt>")
def enterprise_qr(enterprise_id: int, fmt: str):
    """A QR code that opens a public enterprise page (for WeChat sharing); SVG or PNG."""
    if fmt not in ("svg", "png") or enterprise_id > 2_147_483_647:
        abort(404)
    ent = db.session.get(Enterprise, enterprise_id)
    if ent is None or not ent.is_public:
        abort(404)
    return _qr_response(linking.enterprise_url(ent), fmt, f"{ent.display_name} 二维码")


@bp.route("/qr/certificates/<number>.<fmt>")
def certificate_qr(number: str, fmt: str):
    """A QR code that opens a certificate page; SVG or PNG."""
    if fmt not in ("svg", "png"):
        abort(404)
    cert = _certificate_or_404(number)
    return _qr_response(linking.certificate_url(cert), fmt, f"证书 {cert.number} 二维码")


# --------------------------------------------------------------------------- enterprise page extras

@bp.app_template_global()
def organization_jsonld(ent: Enterprise) -> dict:
    """schema.org Organization data for an enterprise page (embedded with ``|tojson``)."""
    url = linking.enterprise_url(ent)
    data: dict = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "@id": url + "#organization",
        "name": ent.display_name,
        "legalName": ent.name,
        "url": url,
        "identifier": {"@type": "PropertyValue", "propertyID": "统一社会信用代码", "value": ent.uscc},
        "taxID": ent.uscc,
        "address": {"@type": "PostalAddress", "addressLocality": ent.city.full_name,
                    "addressRegion": "广东省", "addressCountry": "CN"},
    }
    if len(ent.brand_names) > 0:
        data["brand"] = [{"@type": "Brand", "name": b} for b in ent.brand_names]
        if ent.display_name != ent.name:
            data["alternateName"] = ent.brand_names
    if ent.description:
        data["description"] = ent.description[:500]
    if ent.founded_year:
        data["foundingDate"] = str(ent.founded_year)
    logo = linking.logo_url(ent)
    if logo:
        data["logo"] = logo
    same_as = [ent.website] if ent.website else []
    same_as += [s.url for s in ent.public_shops]
    if same_as:
        data["sameAs"] = same_as
    if ent.badges:
        data["award"] = [b.name for b in ent.badges]
    cert = ent.certificate
    if cert is not None and certificate_outcome(cert) == Outcome.CERTIFIED:
        data["hasCredential"] = {
            "@type": "EducationalOccupationalCredential",
            "name": "广货网上行认证",
            "identifier": cert.number,
            "url": linking.certificate_url(cert),
            "validFrom": cert.issued_on.isoformat(),
            "expires": cert.valid_until.isoformat(),
            "recognizedBy": {"@type": "Organization", "name": "广货网上行"},
        }
    return data


@bp.app_template_global()
def trust_links(ent: Enterprise) -> dict:
    """Absolute URLs the enterprise page's share/meta partials need."""
    cert = ent.certificate
    valid = cert is not None and certificate_outcome(cert) == Outcome.CERTIFIED
    return {
        "page": linking.enterprise_url(ent),
        "qr_svg": linking.url("trust.enterprise_qr", enterprise_id=ent.id, fmt="svg"),
        "qr_png": linking.url("trust.enterprise_qr", enterprise_id=ent.id, fmt="png"),
        "logo": linking.logo_url(ent),
        "certificate": linking.certificate_url(cert) if cert is not None else None,
        "badge": linking.badge_url(cert) if cert is not None else None,
        "certificate_valid": valid,
    }
