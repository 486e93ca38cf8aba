"""Rate limits across processes, and what happens while their store is down.

The counters live in Flask-Limiter's storage, ``RATELIMIT_STORAGE_URI``: ``memory://`` on the
embedded default (one process), ``redis://`` in the production shape, so that every gunicorn
worker on every machine adds to one count (``config.rate_limit_settings`` refuses ``memory://``
there: with N workers a memory limit is N times too loose).

When the store cannot be reached:

* **reads fail open** — GET and HEAD, the API and the complaint lookup included, are served;
  Flask-Limiter's in-memory fallback counts them in each process meanwhile (per-process limits,
  as on the embedded default) and retries the store with a back-off of up to half a minute;
* **forms fail closed** — a POST to any view that carries a rate limit (log in, register, change
  password, reset-password mail, complaint report: the forms that guard accounts or send mail)
  gets a 503 in Chinese and nothing is done. The store is pinged first; a new form that gets a
  rate limit is covered without further code.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, request
from flask_limiter.util import get_qualified_name
from werkzeug.exceptions import ServiceUnavailable

from .extensions import limiter

log = logging.getLogger(__name__)


class LimiterStoreDown(ServiceUnavailable):
    """503 for a rate-limited form while the rate-limit store is unreachable."""

    user_message = ("登录、注册和发送邮件等功能暂时不可用（安全限流服务暂时无法连接），未做任何更改。"
                    "请稍后再试；浏览和查询不受影响。")

    def get_headers(self, environ=None, scope=None):
        return [*super().get_headers(environ, scope), ("Retry-After", "30")]


def _view_limits(endpoint: str) -> list:
    """The limits declared on ``endpoint``'s view and on its blueprint (none for an unknown one)."""
    manager = limiter.limit_manager
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return []
    limits = manager.decorated_limits(get_qualified_name(view))
    blueprint = endpoint.rpartition(".")[0]  # as ``request.blueprint`` derives it
    if blueprint:
        limits = [*limits, *manager.blueprint_limits(current_app, blueprint)]
    return limits


def limited_here() -> bool:
    """Does the view of this request carry a rate limit for this request's method?"""
    return any(not lim.method_exempt for lim in _view_limits(request.endpoint or ""))


@limiter.request_filter
def _no_limit_declared() -> bool:
    """Skip Flask-Limiter's per-request work for endpoints that carry no limit at all.

    Why: on a page without any limit (every public page) the limiter still resolved the view's,
    blueprint's and application's limits on each request, about 5 % of a page that misses the page
    cache (bench/README.md, issue 15). Limits are declared when the views are imported, so the
    answer per endpoint is kept per app; a method-exempt limit still counts as declared, and the
    limiter then decides as before."""
    endpoint = request.endpoint
    if endpoint is None:
        return False
    declared = current_app.extensions.setdefault("limits_declared", {})
    has = declared.get(endpoint)
    if has is None:
        has = declared[endpoint] = _declares_limits(endpoint)
    return not has


def _declares_limits(endpoint: str) -> bool:
    """Whether any limit (the view's, its blueprint's, application-wide or default) covers ``endpoint``."""
    manager = limiter.limit_manager
    return bool(_view_limits(endpoint) or manager.application_limits or manager.default_limits)


def init_app(app: Flask) -> None:
    @app.before_request
    def _fail_closed():
        if request.method in ("GET", "HEAD", "OPTIONS") or not limiter.enabled or not limited_here():
            return None
        if not limiter.storage.check():
            log.error("rate-limit store %s unreachable: refusing %s %s",
                      app.config["RATELIMIT_STORAGE_URI"].split("@")[-1], request.method, request.path)
            raise LimiterStoreDown()
        return None
