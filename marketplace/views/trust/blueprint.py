"""The ``trust`` blueprint: certificates, badges, the verify page, QR codes and the developers'
page — what lets a consumer or another site check that a listing is certified.

``bp`` is defined here, and only here; the topic modules of this package import it and add their
routes (``certificates``, ``verify``, ``developers``), and this module imports none of them. Sitemaps,
robots.txt and the Atom feeds are the ``feeds`` blueprint (``views/feeds.py``).

Everything on this blueprint only reads.
"""
from __future__ import annotations

from flask import Blueprint, abort
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Certification
from ...services.verify.lookup import normalize_certificate_number
from ...validation import ValidationError
from .. import script_switch

bp = Blueprint("trust", __name__)
bp.record_once(lambda state: script_switch.init_app(state.app))


def certificate_or_404(number: str) -> Certification:
    """The certificate with this number (any case), or 404."""
    try:
        normalized = normalize_certificate_number(number)
    except ValidationError:
        abort(404)
    cert = db.session.scalar(
        select(Certification).where(func.upper(Certification.number) == normalized)
        .options(selectinload(Certification.enterprise))
    )
    if cert is None:
        abort(404)
    return cert
