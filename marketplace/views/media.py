"""Serving stored images (logos, complaint evidence) by content hash.

Only the re-encoded bytes produced by ``services.images`` are ever served, with the stored image
MIME type and ``nosniff``.

Logos are public: the hash makes every URL immutable, so browsers and proxies may cache them for
a year. Complaint evidence is not: a screenshot uploaded through the public /report form can show
a buyer's name, phone number or address, so an image referenced by any complaint is served only
to signed-in staff and admins, with ``private, no-store``; everyone else (anonymous visitors,
merchants — the reported one included) gets the same 404 as an unknown hash, so the response
does not even confirm that the evidence exists. The one exception is an image that is also the
logo of a certified (public) enterprise: those bytes are already public, and hiding them would
break that enterprise's pages.

Whether a hash is evidence is decided per request from the complaint table (no flag on the image
row, no schema change beyond the index on ``complaint.evidence_sha256``): it rides along as an
``EXISTS`` in the same statement that loads the image, so a logo still costs one query and one
round trip, and the signed-in user is only loaded for evidence.
"""
from __future__ import annotations

import re

from flask import Blueprint, abort, make_response, request
from flask_login import current_user
from sqlalchemy import exists, select

from ..extensions import db
from ..models import Complaint, Enterprise, Image, enterprise_is_public

bp = Blueprint("media", __name__)

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SERVABLE = {"image/png", "image/jpeg", "image/webp"}
PUBLIC_CACHE = "public, max-age=31536000, immutable"
PRIVATE_CACHE = "private, no-store"


def _is_public_logo(sha256: str) -> bool:
    """True when a certified (publicly listed) enterprise uses this image as its logo."""
    return bool(db.session.scalar(select(exists().where(
        Enterprise.logo_sha256 == sha256, enterprise_is_public()))))


def _viewer_is_staff() -> bool:
    return bool(current_user.is_authenticated and current_user.is_staff)


@bp.route("/media/<sha256>")
def image(sha256: str):
    """Serve one stored image; unknown or malformed hashes — and evidence for non-staff — are 404."""
    if len(sha256) != 64 or not _SHA256.fullmatch(sha256):
        abort(404)
    is_evidence = exists().where(Complaint.evidence_sha256 == sha256).label("is_evidence")
    found = db.session.execute(select(Image, is_evidence).where(Image.sha256 == sha256)).first()
    if found is None or found[0].mime not in _SERVABLE:
        abort(404)
    row, evidence = found
    cache_control = PUBLIC_CACHE
    if evidence:
        if _viewer_is_staff():
            cache_control = PRIVATE_CACHE
        elif not _is_public_logo(sha256):
            abort(404)
    response = make_response(row.data)
    response.headers["Content-Type"] = row.mime
    response.headers["Cache-Control"] = cache_control
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    response.set_etag(sha256)
    return response.make_conditional(request)
