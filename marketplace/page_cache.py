"""Full-page cache for anonymous GETs of the public HTML pages (home, browse, industry / city /
platform pages, enterprise pages, the platform list, about, privacy, terms, search, news). A view
opts in with the ``@cacheable`` decorator, next to its route; nothing else is ever stored.

Why: at 10,000 enterprises a home page costs ~40 ms of CPU and a search 15-40 ms; a visitor
without a session sees the same bytes as every other anonymous visitor, so the finished response
is kept and served again without touching Flask routing, the database or the templates.

Two tiers:

* an in-process LRU (``PAGE_CACHE_MAX_ENTRIES``) answers most hits in microseconds;
* a store shared by every worker on the machine (``cachelib.FileSystemCache`` in
  ``PAGE_CACHE_DIR``, default ``instance/page_cache``; ``PAGE_CACHE_MAX_FILES`` bounds it) so a
  page is rendered once per machine, not once per worker. Set ``PAGE_CACHE_DIR=off`` for the
  in-process tier alone.

Safety rules (each one a test in tests/test_page_cache.py):

* Hits are served by a WSGI middleware in front of Flask, before any request hook, so Flask-Login
  never loads a user and no after_request hook runs twice (the 繁體 conversion is not re-applied).
* A request carrying the session cookie or the remember cookie is never served from the cache and
  never stored (flashed messages, CSRF tokens and logged-in headers live behind those cookies).
* Only 200 ``text/html`` responses of views marked ``@cacheable`` are stored, and only when they set
  no cookie, the session was not written during the request (a flash or a CSRF token would need a
  cookie), they are not ``private``/``no-store`` (owner / staff previews of unpublished listings)
  and the view did not call :func:`skip_store` (a search answered by a lagging index). Errors and
  redirects are never stored.
* The stored response is the final one: the store hook is registered before every other
  ``after_request`` hook, so it runs last (after the security headers and the 繁體 conversion).
* Key: scheme, host, path, sorted query string and the script variant (``script`` parameter first,
  then the ``script`` cookie, as in views/script_switch.py).
* Invalidation, scoped (``page_changes``): every change of public data writes page rows next to
  its search outbox rows, saying whether it changed one enterprise's content, the lists (which
  listings, their order, counts) or everything. Each process reads them at most every
  ``PAGE_CACHE_CHECK_SECONDS`` (0.5 s). An entry remembers when its render started, which
  enterprises it showed (every Enterprise / Shop the ORM loaded for it) and whether it is a list
  (every page except an enterprise's own, which calls :func:`only_shown`); it is served, from
  either tier, only while none of those changed after its render started. So an approved edit of
  enterprise A drops A's page and the pages showing A, a revocation drops every list and A's page,
  a pending application drops nothing, and enterprise B's page stays cached throughout; a revoke
  is gone from every worker within the check interval. A search page also records its words and
  which enterprises its matches belong to (:func:`on_text`): A's content edit drops it when A
  matched it or A's text now contains one of its words.
* Freshness: an entry is fresh for ``PAGE_CACHE_SECONDS`` (0 turns the cache off) minus up to 20 %
  of jitter, so pages stored together do not all expire together. What the TTL bounds is only the
  time-based content (featured-slot schedules, click-ordered fallbacks); listing changes go
  through the outbox. A view whose page changes at a known instant (a 网购节 offer ending) calls
  :func:`fresh_until`: the entry is never served from that instant on, not even stale. After
  that, for ``PAGE_CACHE_STALE_SECONDS`` more, the shared entry is served stale while exactly one worker (a lease in the shared store) renders the new copy
  (stale-while-revalidate, RFC 5861), so an expiry never makes every worker render at once.
"""
from __future__ import annotations

import logging
import math
import os
import random
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode

from cachelib import FileSystemCache
from flask import Flask, current_app, request, session
from werkzeug.http import parse_cookie

from . import page_changes
from .clock import machine_time, timestamp

log = logging.getLogger(__name__)

BYPASS_PREFIXES = ("/go/", "/merchant", "/staff", "/account", "/api", "/report", "/static", "/media/", "/badges/")
SCRIPT_COOKIE = "script"  # views/script_switch.COOKIE
LEASE_SECONDS = 10  # a worker that died while re-rendering blocks nobody for longer than this
_ENV_RENDERED = "marketplace.page_cache.rendered_at"
_ENV_ONLY_SHOWN = "marketplace.page_cache.only_shown"
_ENV_TEXT = "marketplace.page_cache.text"
_ENV_KEY = "marketplace.page_cache.key"
_ENV_HEAD = "marketplace.page_cache.head"
_ENV_SKIP = "marketplace.page_cache.skip"
_ENV_UNTIL = "marketplace.page_cache.until"
# Set in a request's WSGI environ to go around the cache entirely (gunicorn.conf.py's warm-up: a
# warm-up answered from the cache would leave the worker's search stack and templates cold).
ENV_BYPASS = "marketplace.page_cache.bypass"


class Entry(NamedTuple):
    fresh_until: float  # clock.timestamp(): comparable across processes
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    hard_until: float = math.inf  # never served after this, not even stale (see ``fresh_until``)
    rendered_at: float = -math.inf  # clock.machine_time() when its render started
    shown: frozenset = frozenset()  # ids of the enterprises the page shows
    lists: bool = True  # False: depends only on ``shown`` (an enterprise's own page)
    known: tuple = (0, frozenset())  # outbox rows its renderer had seen (page_changes.ChangeTracker.known)
    # also depends on listings' text (search results, see ``on_text``): on every listing's (True),
    # or on those a page_changes.TextNeed names
    text: bool | page_changes.TextNeed = False


class PageCache:
    """The two stores plus the WSGI middleware that answers hits."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.lock = threading.Lock()
        self.entries: OrderedDict[tuple, Entry] = OrderedDict()
        self.cleared_at = -math.inf  # clear(): nothing rendered before is served again
        self._shared: FileSystemCache | None = None
        self._shared_dir: str | None = None

    # ------------------------------------------------------------ settings
    @property
    def ttl(self) -> float:
        return float(self.app.config.get("PAGE_CACHE_SECONDS") or 0)

    @property
    def stale_seconds(self) -> float:
        return max(0.0, float(self.app.config.get("PAGE_CACHE_STALE_SECONDS") or 0))

    def shared(self) -> FileSystemCache | None:
        """The machine-wide store (created on first use; None when turned off)."""
        directory = str(self.app.config.get("PAGE_CACHE_DIR") or "")
        if directory.lower() in ("", "off", "none", "false", "0"):
            return None
        if self._shared_dir != directory:
            self._shared_dir = directory
            try:
                Path(directory).mkdir(parents=True, exist_ok=True)
                self._shared = FileSystemCache(
                    directory, threshold=int(self.app.config.get("PAGE_CACHE_MAX_FILES") or 0),
                    default_timeout=0, mode=0o600)
            except OSError:  # not creatable or not writable: serve with the in-process tier alone
                log.warning("page cache: shared store %s unusable; in-process tier only", directory, exc_info=True)
                self._shared = None
        return self._shared

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
        if path.startswith(BYPASS_PREFIXES):
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

    @staticmethod
    def shared_key(key: tuple) -> str:
        return "page|" + "|".join(key)

    # ------------------------------------------------------------ freshness
    @property
    def tracker(self) -> page_changes.ChangeTracker:
        return page_changes.tracker(self.app)

    @property
    def head(self) -> int | None:
        """The outbox head this process has seen (the directory version)."""
        return self.tracker.head

    def valid(self, entry: Entry) -> bool:
        """Whether nothing ``entry`` depends on changed since its render started."""
        return entry.rendered_at > self.cleared_at and self.tracker.valid(
            entry.rendered_at, entry.known, entry.shown, entry.lists, entry.text)

    def clear(self) -> None:
        """Drop every page in both tiers (tests, or after bulk SQL that skips the outbox)."""
        with self.lock:
            self.cleared_at = machine_time()
            self.entries.clear()
        shared = self.shared()
        if shared is not None:
            shared.clear()

    # ------------------------------------------------------------ WSGI
    def __call__(self, environ, start_response):
        ttl = self.ttl
        key = self.key_for(environ) if ttl > 0 and not environ.get(ENV_BYPASS) else None
        if key is None:
            return self.wsgi_app(environ, start_response)
        try:
            self.tracker.poll()
        except Exception:  # database unreachable or not created yet: just don't cache
            log.warning("page cache: outbox check failed; bypassing", exc_info=True)
            return self.wsgi_app(environ, start_response)
        now = timestamp()
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                if now < entry.fresh_until and self.valid(entry):
                    self.entries.move_to_end(key)
                else:
                    del self.entries[key]
                    entry = None
        if entry is not None:
            return _serve(entry, "hit", start_response)
        shared = self.shared()
        if shared is not None:
            skey = self.shared_key(key)
            found = _safe(shared.get, skey)
            if isinstance(found, Entry) and self.valid(found):
                if now < found.fresh_until:
                    self._remember(key, found)
                    return _serve(found, "hit", start_response)
                # Stale: one worker renders the new copy, the others keep serving this one.
                if now < found.hard_until and not _safe(shared.add, "lease|" + skey, os.getpid(),
                                                        timeout=LEASE_SECONDS):
                    return _serve(found, "stale", start_response)
        environ[_ENV_RENDERED] = (machine_time(), self.tracker.known())
        environ[_ENV_KEY] = key
        environ[_ENV_HEAD] = self.head
        page_changes.start_recording(environ)
        return self.wsgi_app(environ, start_response)

    def _remember(self, key: tuple, entry: Entry) -> bool:
        """Put an entry in the in-process LRU unless something it shows changed meanwhile."""
        limit = int(self.app.config.get("PAGE_CACHE_MAX_ENTRIES", 512))
        with self.lock:
            if limit <= 0 or not self.valid(entry):
                return False
            self.entries[key] = entry
            self.entries.move_to_end(key)
            while len(self.entries) > limit:
                self.entries.popitem(last=False)
        return True

    def store(self, key: tuple, rendered: tuple, shown: frozenset, lists: bool, status: str,
              headers: list[tuple[str, str]], body: bytes, hard_until: float = math.inf,
              text: bool | page_changes.TextNeed = False) -> bool:
        """Keep a finished page in both tiers unless something it shows changed while it was rendered."""
        ttl = self.ttl
        now = timestamp()
        fresh = min(now + ttl * random.uniform(0.8, 1.0), hard_until)  # nosec B311 - jitter
        if fresh <= now:
            return False
        entry = Entry(fresh, status, headers, body, hard_until, rendered[0], shown, lists, rendered[1], text)
        if not self._remember(key, entry):
            return False
        shared = self.shared()
        if shared is not None:
            skey = self.shared_key(key)
            _safe(shared.set, skey, entry, timeout=math.ceil(ttl + self.stale_seconds) + 1)
            _safe(shared.delete, "lease|" + skey)
        return True


def _serve(entry: Entry, state: str, start_response):
    start_response(entry.status, entry.headers + [("X-Page-Cache", state)])
    return [entry.body]


def _safe(call, *args, **kwargs):
    """A shared-store call that never fails a request (a full disk or a removed directory just
    means no sharing): errors are logged and read as a miss."""
    try:
        return call(*args, **kwargs)
    except Exception:  # noqa: BLE001
        log.warning("page cache: shared store %s failed", getattr(call, "__name__", call), exc_info=True)
        return None


def cacheable(view):
    """Declare that anonymous GETs of this public HTML view may be served from the page cache.

    Put it under ``@bp.route``. It is a permission, not a promise: every safety rule of this
    module still applies to each response (cookies, session, status, ``private``, ``skip_store``).
    """
    view.page_cacheable = True
    return view


def is_cacheable(endpoint: str | None) -> bool:
    """Whether the view of ``endpoint`` is marked ``@cacheable``."""
    view = current_app.view_functions.get(endpoint) if endpoint else None
    return bool(getattr(view, "page_cacheable", False))


def skip_store() -> None:
    """Called by a view whose page must not be cached even though it is public (for example a
    search answered while the index still lags behind the outbox)."""
    request.environ[_ENV_SKIP] = True


def fresh_until(when: datetime | None) -> None:
    """Called by a view whose page changes by itself at ``when`` (naive UTC), such as a 网购节
    page when an offer ends: the cached copy is never served from that instant on, not even
    stale. Several calls keep the earliest instant."""
    if when is None:
        return
    at = when.replace(tzinfo=timezone.utc).timestamp()
    request.environ[_ENV_UNTIL] = min(at, request.environ.get(_ENV_UNTIL, math.inf))


def only_shown() -> None:
    """Called by a view whose page depends only on the listings it shows (an enterprise's own
    page), not on which listings exist: a change to another listing, even a revocation or a
    count, keeps it cached."""
    request.environ[_ENV_ONLY_SHOWN] = True


def on_text(dependency: Callable[[], tuple[tuple[str, ...], frozenset[int]] | None]) -> None:
    """Called by a view whose page depends on listings' text, not only on the listings it shows
    (search results): an approved description that now contains the searched word must drop the
    page that found nothing. ``dependency`` gives the texts the search matched on and the
    enterprises owning any match, or None: any enterprise's content change drops the page. It is
    called only when the page is stored (listing the owners of thousands of matches costs up to
    a millisecond, wasted on a page that is not kept)."""
    request.environ[_ENV_TEXT] = dependency


def _text_need(env) -> page_changes.TextNeed | bool:
    """What the stored page's text dependency is (see ``on_text``): False when it has none."""
    dependency = env.get(_ENV_TEXT)
    if dependency is None:
        return False
    got = dependency()
    return True if got is None else page_changes.TextNeed(*got)


def request_head() -> int | None:
    """The outbox head this request's cache entry would be filed under (None: not cacheable)."""
    return request.environ.get(_ENV_HEAD)


def _storable(response) -> bool:
    if request.method != "GET" or not is_cacheable(request.endpoint):
        return False
    if request.environ.get(_ENV_SKIP):
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


def init_app(app: Flask, load_texts) -> None:
    """Wrap the WSGI app and register the store hook; call before every other ``after_request``
    hook is registered so this one runs last and sees the final response. ``load_texts``: see
    ``page_changes.ChangeTracker``."""
    page_changes.install_listeners()
    app.extensions["page_changes"] = page_changes.ChangeTracker(app, load_texts)
    cache = PageCache(app, app.wsgi_app)
    app.wsgi_app = cache  # type: ignore[method-assign]
    app.extensions["page_cache"] = cache

    @app.after_request
    def _page_cache_store(response):
        key = request.environ.get(_ENV_KEY)
        if key is None or not is_cacheable(request.endpoint):
            return response
        if _storable(response):
            headers = [(k, v) for k, v in response.headers.items() if k.lower() != "x-page-cache"]
            env = request.environ
            cache.store(key, env[_ENV_RENDERED], page_changes.shown(env), not env.get(_ENV_ONLY_SHOWN),
                        response.status, headers, response.get_data(), env.get(_ENV_UNTIL, math.inf),
                        _text_need(env))
        response.headers["X-Page-Cache"] = "miss"
        return response
