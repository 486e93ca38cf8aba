"""Full-page cache for anonymous GETs of the public HTML pages (home, browse, industry / city /
platform pages, enterprise pages, the platform list, about).

Why: at 10,000 enterprises a home page costs ~50 ms of CPU; a visitor without a session sees the
same bytes as every other anonymous visitor, so the finished response is kept per process and
served again without touching Flask routing, the database or the templates.

Safety rules (each one a test in tests/test_page_cache.py):

* Hits are served by a WSGI middleware in front of Flask, before any request hook, so Flask-Login
  never loads a user and no after_request hook runs twice (the 繁體 conversion is not re-applied).
* A request carrying the session cookie or the remember cookie is never served from the cache and
  never stored (flashed messages, CSRF tokens and logged-in headers live behind those cookies).
* Only 200 ``text/html`` responses of the allow-listed endpoints are stored, and only when they set
  no cookie, the session was not written during the request (a flash or a CSRF token would need a
  cookie) and they are not ``private``/``no-store`` (owner / staff previews of unpublished
  listings). Errors and redirects are never stored.
* The stored response is the final one: the store hook is registered before every other
  ``after_request`` hook, so it runs last (after the security headers and the 繁體 conversion).
* Key: scheme, host, path, sorted query string and the script variant (``script`` parameter first,
  then the ``script`` cookie, as in views/script_switch.py).
* Freshness: entries live ``PAGE_CACHE_SECONDS`` (0 turns the cache off) and the whole cache is
  dropped when the search outbox head changes — every listing, certificate or featured-slot change
  writes an outbox row — checked at most every ``PAGE_CACHE_CHECK_SECONDS`` (0.5 s) per process,
  the same rule as the catalog aggregate cache. A page rendered before a change but stored after
  the drop is refused (generation check), so a revoke shows within the check interval.
* Bounded: an LRU of ``PAGE_CACHE_MAX_ENTRIES`` entries, guarded by a lock.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from urllib.parse import parse_qsl, urlencode

from flask import Flask, request, session
from werkzeug.http import parse_cookie

log = logging.getLogger(__name__)

CACHEABLE_ENDPOINTS = frozenset({
    "public.home", "public.browse", "public.industry", "public.city", "public.platform",
    "public.enterprise", "public.platforms", "public.about",
})
SCRIPT_COOKIE = "script"  # views/script_switch.COOKIE
_ENV_GEN = "marketplace.page_cache.generation"
_ENV_KEY = "marketplace.page_cache.key"


class PageCache:
    """The per-process store plus the WSGI middleware that answers hits."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.lock = threading.Lock()
        self.entries: OrderedDict[tuple, tuple[float, str, list[tuple[str, str]], bytes]] = OrderedDict()
        self.generation = 0
        self.head: int | None = None
        self.checked_at = float("-inf")

    # ------------------------------------------------------------ settings
    @property
    def ttl(self) -> float:
        return float(self.app.config.get("PAGE_CACHE_SECONDS") or 0)

    # ------------------------------------------------------------ keys
    def key_for(self, environ) -> tuple | None:
        """The cache key of an anonymous GET, or None when this request must bypass the cache."""
        if environ.get("REQUEST_METHOD") != "GET":
            return None
        cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))
        cfg = self.app.config
        if cfg.get("SESSION_COOKIE_NAME", "session") in cookies:
            return None
        if cfg.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies:
            return None
        path = environ.get("PATH_INFO", "")
        for prefix in ("/go/", "/merchant", "/staff", "/account", "/api", "/report", "/static"):
            if path.startswith(prefix):
                return None
        raw_args = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        choice = next((v for k, v in raw_args if k == "script"), None)
        if choice in ("hant", "hans"):
            variant = choice
        else:
            variant = "hant" if cookies.get(SCRIPT_COOKIE) == "hant" else "hans"
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        return (environ.get("wsgi.url_scheme", "http"), host.lower(), environ.get("SCRIPT_NAME", ""), path,
                urlencode(sorted(raw_args)), variant)

    # ------------------------------------------------------------ freshness
    def _check_version(self) -> None:
        """Drop everything when the search outbox head moved (at most every CHECK seconds)."""
        interval = float(self.app.config.get("PAGE_CACHE_CHECK_SECONDS", 0.5))
        now = time.monotonic()
        if now - self.checked_at < interval:
            return
        with self.app.app_context():
            head = _outbox_head()
        with self.lock:
            self.checked_at = now
            if head != self.head:
                self.head = head
                self.generation += 1
                self.entries.clear()

    def clear(self) -> None:
        """Drop every page (tests, or after bulk SQL that skips the outbox)."""
        with self.lock:
            self.generation += 1
            self.entries.clear()

    # ------------------------------------------------------------ WSGI
    def __call__(self, environ, start_response):
        ttl = self.ttl
        key = self.key_for(environ) if ttl > 0 else None
        if key is None:
            return self.wsgi_app(environ, start_response)
        try:
            self._check_version()
        except Exception:  # database unreachable or not created yet: just don't cache
            log.warning("page cache: outbox head check failed; bypassing", exc_info=True)
            return self.wsgi_app(environ, start_response)
        now = time.monotonic()
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                if now - entry[0] < ttl:
                    self.entries.move_to_end(key)
                else:
                    del self.entries[key]
                    entry = None
            generation = self.generation
        if entry is not None:
            _, status, headers, body = entry
            start_response(status, headers + [("X-Page-Cache", "hit")])
            return [body]
        environ[_ENV_GEN] = generation
        environ[_ENV_KEY] = key
        return self.wsgi_app(environ, start_response)

    def store(self, key: tuple, generation: int, status: str, headers: list[tuple[str, str]], body: bytes) -> bool:
        """Keep a finished page unless the cache was dropped while it was being rendered."""
        limit = int(self.app.config.get("PAGE_CACHE_MAX_ENTRIES", 512))
        with self.lock:
            if generation != self.generation or limit <= 0:
                return False
            self.entries[key] = (time.monotonic(), status, headers, body)
            self.entries.move_to_end(key)
            while len(self.entries) > limit:
                self.entries.popitem(last=False)
        return True


def _outbox_head() -> int:
    """The search outbox head (the same version the catalog aggregate cache keys on)."""
    from sqlalchemy import func, select

    from .extensions import db
    from .models import SearchOutbox

    return int(db.session.scalar(select(func.max(SearchOutbox.id))) or 0)


def _storable(response) -> bool:
    if request.method != "GET" or request.endpoint not in CACHEABLE_ENDPOINTS:
        return False
    if response.status_code != 200 or response.mimetype != "text/html":
        return False
    if response.direct_passthrough or response.is_streamed:
        return False
    if "Set-Cookie" in response.headers:
        return False
    cache_control = response.headers.get("Cache-Control", "").lower()
    if "private" in cache_control or "no-store" in cache_control:
        return False
    # The session is saved after the hooks: a written or non-empty session means a cookie
    # (flash message, CSRF token, login) that must never reach another visitor.
    if session.modified or len(session):
        return False
    return True


def init_app(app: Flask) -> None:
    """Wrap the WSGI app and register the store hook; call before every other ``after_request``
    hook is registered so this one runs last and sees the final response."""
    cache = PageCache(app, app.wsgi_app)
    app.wsgi_app = cache  # type: ignore[method-assign]
    app.extensions["page_cache"] = cache

    @app.after_request
    def _page_cache_store(response):
        key = request.environ.get(_ENV_KEY)
        if key is None or request.endpoint not in CACHEABLE_ENDPOINTS:
            return response
        if _storable(response):
            headers = [(k, v) for k, v in response.headers.items() if k.lower() != "x-page-cache"]
            cache.store(key, request.environ[_ENV_GEN], response.status, headers, response.get_data())
        response.headers["X-Page-Cache"] = "miss"
        return response
