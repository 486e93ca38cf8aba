"""Security headers on every response, and the safe-redirect helper.

The Content-Security-Policy allows scripts only from this site (no inline scripts), so every
page must keep its JavaScript in ``static/js`` and pass data through ``data-*`` attributes or
``|tojson`` inside ``<script type="application/json">`` blocks.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'; "
    "form-action 'self'"
)


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def safe_next(target: str | None, default: str = "/") -> str:
    """Return ``target`` only when it is a path on this site, else ``default``.

    Browsers treat backslashes as slashes and ignore tabs/newlines, so ``/\\evil``, ``/\\t/evil``
    and ``\\t//evil`` all lead off-site; those are refused along with any scheme or host.
    """
    if not target or not isinstance(target, str):
        return default
    if any(ch in target for ch in "\\\t\r\n\x00") or any(ord(ch) < 32 for ch in target):
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
