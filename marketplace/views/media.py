"""Serving stored images (logos, complaint evidence) by content hash.

Only the re-encoded bytes produced by ``services.images`` are ever served, with the stored image
MIME type and ``nosniff``; the hash makes every URL immutable, so browsers may cache it forever.
"""
from __future__ import annotations

import re

from flask import Blueprint, abort, make_response, request

from ..extensions import db
from ..models import Image

bp = Blueprint("media", __name__)

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SERVABLE = {"image/png", "image/jpeg", "image/webp"}


@bp.route("/media/<sha256>")
def image(sha256: str):
    """Serve one stored image; unknown or malformed hashes are 404."""
    if len(sha256) != 64 or not _SHA256.fullmatch(sha256):
        abort(404)
    row = db.session.get(Image, sha256)
    if row is None or row.mime not in _SERVABLE:
        abort(404)
    response = make_response(row.data)
    response.headers["Content-Type"] = row.mime
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    response.set_etag(sha256)
    return response.make_conditional(request)
