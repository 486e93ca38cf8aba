"""The /verify form and result page, and the enterprise page's trust extras (schema.org JSON-LD
and the share/QR/badge links its partials need). The verify form is a GET; the one thing it
writes is the impersonation watch's counter when a miss names a certified brand
(``services.impersonation``).
"""
from __future__ import annotations

from flask import g, render_template, request
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from ...models import Enterprise
from ...services import authorizations, impersonation
from ...services.verify.lookup import verify as run_verify
from ...services.verify.results import Outcome, certificate_outcome
from ...validation import ValidationError
from ...validation.urls import checked_href
from .. import linking
from .blueprint import bp


KIND_CHOICES = [("auto", "自动识别"), ("url", "店铺链接"), ("certificate", "证书编号"), ("uscc", "统一社会信用代码"),
                ("name", "品牌或企业名称")]


class VerifyForm(FlaskForm):
    """The lookup form (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField("店铺链接、证书编号、统一社会信用代码或品牌名称", validators=[Optional(), Length(max=4000)])
    kind = SelectField("查询方式", choices=KIND_CHOICES, default="auto", validate_choice=False)


# --------------------------------------------------------------------------- verify

@bp.route("/verify")
def verify():
    """Check a shop link, certificate number, 统一社会信用代码 or brand/company name; accepts
    ``?q=&kind=`` from the form and ``?url=`` / ``?certificate=`` / ``?uscc=`` / ``?name=`` like
    the API."""
    form = VerifyForm(formdata=request.args)
    kind, value = "auto", ""
    for key in ("url", "certificate", "uscc", "name"):
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
            else:
                impersonation.note_verify(result)
    if error:
        form.q.errors = [error]
    status = 200
    found_shop = result.shop if result is not None and result.is_certified else None
    return render_template(
        "trust/verify.html", form=form, result=result, error=error, enterprise_url=linking.enterprise_url,
        authorization_lines=authorizations.shop_labels([found_shop]).get(found_shop.id, []) if found_shop else [],
        complaint_url=linking.complaint_url,
        report_url=linking.complaint_url(
            result.enterprise if result and result.names_listing else None,
            result.shop if result and result.found_listing else None,
        ) if result else None,
        api_url=linking.url("api.verify",
                            **({result.query_type: value} if result is not None else {})),
    ), status


# --------------------------------------------------------------------------- enterprise page extras

@bp.app_template_global()
def organization_jsonld(ent: Enterprise, certified_shops: list) -> dict:
    """schema.org Organization data for an enterprise page (embedded with ``|tojson``), whose
    ``sameAs`` are its website and ``certified_shops``' URLs. Its links and the certificate's
    validity are the page's ``trust_links`` (worked out once per request)."""
    links = trust_links(ent)
    url = links["page"]
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
    brand_names = ent.brand_names
    if brand_names:
        data["brand"] = [{"@type": "Brand", "name": b} for b in brand_names]
        if ent.display_name != ent.name:
            data["alternateName"] = brand_names
    if ent.description:
        data["description"] = ent.description[:500]
    if ent.founded_year:
        data["foundingDate"] = str(ent.founded_year)
    if links["logo"]:
        data["logo"] = links["logo"]
    website = checked_href(ent.website)
    same_as = [website] if website else []
    same_as += [s.url for s in certified_shops]
    if same_as:
        data["sameAs"] = same_as
    if ent.badges:
        data["award"] = [b.name for b in ent.badges]
    cert = ent.certificate
    if links["certificate_valid"]:
        data["hasCredential"] = {
            "@type": "EducationalOccupationalCredential",
            "name": "广货网上行认证",
            "identifier": cert.number,
            "url": links["certificate"],
            "validFrom": cert.issued_on.isoformat(),
            "expires": cert.valid_until.isoformat(),
            "recognizedBy": {"@type": "Organization", "name": "广货网上行"},
        }
    return data


@bp.app_template_global()
def trust_links(ent: Enterprise) -> dict:
    """Absolute URLs the enterprise page's share and meta partials and its JSON-LD need, and
    whether its certificate is valid (all three ask: worked out once per request and enterprise)."""
    kept = g.setdefault("trust_links", {})
    if ent.id not in kept:
        kept[ent.id] = _trust_links(ent)
    return kept[ent.id]


def _trust_links(ent: Enterprise) -> dict:
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
