"""Trust ``X-Forwarded-For`` / ``X-Forwarded-Proto`` from a known number of reverse proxies.

The production shape runs gunicorn on 127.0.0.1 behind a reverse proxy: without this every
request would come from the proxy's address, so the per-address login limit would throttle all
users together, and ``request.is_secure`` would be false behind an HTTPS proxy. ``PROXY_COUNT``
is the number of proxies in front of the app (0 = none: the headers are ignored, since a client
could forge them).
"""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    """Wrap the WSGI app in ProxyFix when PROXY_COUNT > 0."""
    hops = int(app.config.get("PROXY_COUNT") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
