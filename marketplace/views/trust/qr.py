"""QR codes (SVG or PNG) that open a public enterprise page or a certificate page, for sharing
on WeChat and for printed certificates."""
from __future__ import annotations

import io

import segno
from flask import abort, current_app, request

from ...extensions import db
from ...models import Enterprise
from .. import linking
from .blueprint import bp, certificate_or_404


def qr_code(url: str) -> segno.QRCode:
    """A QR code (error correction M) for ``url``."""
    return segno.make(url, error="m", micro=False)


def qr_response(url: str, fmt: str, title: str):
    """``url``'s QR code as an SVG or PNG response, cacheable for a day."""
    qr = qr_code(url)
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
    return qr_response(linking.enterprise_url(ent), fmt, f"{ent.display_name} 二维码")


@bp.route("/qr/certificates/<number>.<fmt>")
def certificate_qr(number: str, fmt: str):
    """A QR code that opens a certificate page; SVG or PNG."""
    if fmt not in ("svg", "png"):
        abort(404)
    cert = certificate_or_404(number)
    return qr_response(linking.certificate_url(cert), fmt, f"证书 {cert.number} 二维码")
