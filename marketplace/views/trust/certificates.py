"""The certificate page (printable, with its badge embed snippet and QR code) and the embeddable
SVG badge. The SVG is written as text with every value escaped (``saxutils.escape``)."""
from __future__ import annotations

import math
from xml.sax.saxutils import escape

from flask import current_app, render_template, request

from ...services.verify.results import Outcome, certificate_outcome
from .. import linking
from .blueprint import bp, certificate_or_404
from .qr import qr_code

BADGE_CACHE_SECONDS = 300


@bp.route("/certificates/<number>")
def certificate(number: str):
    """The printable certificate page; it states plainly when the certificate is not valid."""
    cert = certificate_or_404(number)
    outcome = certificate_outcome(cert)
    ent = cert.enterprise
    page_url = linking.certificate_url(cert)
    badge_url = linking.badge_url(cert)
    embed_html = (f'<a href="{escape(page_url)}" target="_blank" rel="noopener">'
                  f'<img src="{escape(badge_url)}" alt="广货网上行认证 {escape(cert.number)}" '
                  f'width="{badge_width(cert.number)}" height="40"></a>')
    response = current_app.make_response(render_template(
        "trust/certificate.html", cert=cert, ent=ent, outcome=outcome, Outcome=Outcome,
        valid=outcome == Outcome.CERTIFIED, page_url=page_url, badge_url=badge_url, embed_html=embed_html,
        enterprise_url=linking.enterprise_url(ent) if ent.is_public else None,
        shops=ent.public_shops if ent.is_public else [],
        qr_data_uri=qr_code(page_url).svg_data_uri(scale=4, border=2, dark="#1a1a1a"),
    ))
    if outcome != Outcome.CERTIFIED:
        response.headers["X-Robots-Tag"] = "noindex"
    return response


# --------------------------------------------------------------------------- badge

def _text_width(text: str, size: float = 12) -> float:
    """Rough rendered width: CJK glyphs are square, Latin ones about 0.6 em."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.62 for ch in text)


def _badge_parts(number: str, valid: bool) -> tuple[str, str, int, int]:
    left = "广货网上行 认证"
    right = number if valid else f"已失效 {number}"
    return left, right, math.ceil(_text_width(left)) + 20, math.ceil(_text_width(right)) + 20


def badge_width(number: str, valid: bool = True) -> int:
    """The badge's width in pixels (its height is 40)."""
    _, _, lw, rw = _badge_parts(number, valid)
    return lw + rw


def badge_svg(number: str, valid: bool, page_url: str) -> str:
    """The embeddable badge: “广货网上行 认证 | <number>” in green, or “已失效” in grey."""
    left, right, lw, rw = _badge_parts(number, valid)
    width = lw + rw
    color = "#1f7a3d" if valid else "#8a8a8a"
    title = f"广货网上行认证 {number}：{'有效' if valid else '已失效'}"
    e = escape
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width}" height="40" viewBox="0 0 {width} 40" role="img" aria-label="{e(title)}">'
        f"<title>{e(title)}</title>"
        f'<a xlink:href="{e(page_url)}" href="{e(page_url)}" target="_blank">'
        f'<rect width="{width}" height="40" rx="5" fill="{color}"/>'
        f'<rect width="{lw}" height="40" rx="5" fill="#c8102e"/>'
        f'<rect x="{lw - 6}" width="6" height="40" fill="#c8102e"/>'
        f'<g fill="#fff" font-family="PingFang SC,Microsoft YaHei,Noto Sans CJK SC,sans-serif" font-size="12">'
        f'<text x="{lw / 2:.0f}" y="25" text-anchor="middle" font-weight="bold">{e(left)}</text>'
        f'<text x="{lw + rw / 2:.0f}" y="25" text-anchor="middle">{e(right)}</text>'
        f"</g></a></svg>"
    )


@bp.route("/badges/<number>.svg")
def badge(number: str):
    """The stable badge URL merchants embed; re-checked on every (short-cached) load."""
    cert = certificate_or_404(number)
    valid = certificate_outcome(cert) == Outcome.CERTIFIED
    svg = badge_svg(cert.number, valid, linking.certificate_url(cert))
    response = current_app.response_class(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = f"public, max-age={BADGE_CACHE_SECONDS}"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.add_etag()
    return response.make_conditional(request)
