"""Every configuration key, declared once with its default.

Environment variables override the defaults; ``create_app(overrides)`` overrides both (tests use
that). No other module reads ``os.environ``: everything else asks ``current_app.config``.
"""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from .validation import ValidationError
from .validation.urls import parse_site_base

log = logging.getLogger(__name__)

# name -> (default, parser). A default of None means "derived at load time" (see load_config).
_BOOL = lambda v: str(v).strip().lower() in {"1", "true", "yes", "on"}  # noqa: E731

DEFAULTS: dict[str, tuple[object, object]] = {
    "DATABASE_URL": (None, str),  # default: sqlite file in the instance folder
    "SECRET_KEY": (None, str),  # default: random key kept in instance/secret_key
    "SEARCH_INDEX_DIR": (None, str),  # default: instance/search_index
    "PRODUCTION": (False, _BOOL),  # the production shape (gunicorn.conf.py, `make serve`): stricter checks at start
    "SERVER_NAME_FOR_LINKS": ("", str),  # canonical base of every absolute link; required when PRODUCTION
    "EXTRA_TRUSTED_HOSTS": ("", str),  # more Host names to accept (comma-separated); see link_settings()
    "LOAD_DEMO_DATA": (True, _BOOL),  # `python app.py` loads the demo data into an empty database
    "SEARCH_SYNC_INLINE": (True, _BOOL),  # apply the search outbox inside the web process
    "SEARCH_SYNC_INTERVAL": (1.0, float),  # seconds between background applier passes
    "SEARCH_MACHINE_NAME": ("", str),  # this machine's name in the applier heartbeats; default: host name
    "SEARCH_OUTBOX_RETENTION_DAYS": (7, int),  # outbox rows older than this may be pruned (search_sync.pruning)
    "MAIL_SERVER": ("", str),
    "MAIL_PORT": (587, int),
    "MAIL_USERNAME": ("", str),
    "MAIL_PASSWORD": ("", str),
    "MAIL_USE_TLS": (True, _BOOL),
    "MAIL_SENDER": ("noreply@gdws.example", str),
    "RATELIMIT_STORAGE_URI": ("memory://", str),  # memory:// only on the embedded default; redis:// when PRODUCTION
    "RATELIMIT_NAMESPACE": ("gdws", str),  # prefix of the counters' keys in Redis (one per site sharing it)
    "RATELIMIT_ENABLED": (True, _BOOL),
    "SESSION_COOKIE_SECURE": (False, _BOOL),  # set true behind HTTPS
    "MAX_CONTENT_LENGTH": (8 * 1024 * 1024, int),  # whole request body; uploads have their own cap
    "MAX_EVIDENCE_REQUEST_BYTES": (11 * 1024 * 1024, int),  # the licence forms (10 MB PDF + fields)
    "MAX_IMAGE_BYTES": (5 * 1024 * 1024, int),
    "MAX_IMAGE_PIXELS": (40_000_000, int),
    "CERTIFICATE_VALID_DAYS": (730, int),
    "GONGSHI_WORKING_DAYS": (5, int),  # 公示: working days an approved first certification is on /gongshi
    "ENTERPRISE_GOAL": (10_000, int),
    "PER_PAGE": (20, int),
    "CATALOG_CACHE_SECONDS": (60, int),  # max age of cached directory counts (also dropped on any listing change)
    "PAGE_CACHE_SECONDS": (60, int),  # anonymous public pages stay fresh this long (marketplace/page_cache.py); 0 = off
    "PAGE_CACHE_STALE_SECONDS": (30, int),  # then served stale this long while one worker re-renders
    "PAGE_CACHE_CHECK_SECONDS": (0.5, float),  # how often the page cache reads new outbox rows (page_changes)
    "PAGE_CACHE_MAX_ENTRIES": (512, int),  # LRU bound of the in-process tier, per worker
    "PAGE_CACHE_DIR": (None, str),  # store shared by the workers; default instance/page_cache; "off" = none
    "PAGE_CACHE_MAX_FILES": (5000, int),  # bound of the shared store (oldest pruned first)
    "LOG_LEVEL": ("INFO", str),
    "PASSWORD_HASH_METHOD": ("scrypt", str),  # werkzeug method string; tests use a cheap one
    "PASSWORD_RESET_MAX_AGE": (3600, int),  # seconds a password-reset link stays valid
    "LOGIN_LIMIT_PER_ACCOUNT": ("10 per 15 minutes", str),  # failed logins per email
    "LOGIN_LIMIT_PER_IP": ("30 per 15 minutes", str),  # failed logins per client address
    "ACCOUNT_FORM_LIMIT": ("30 per hour", str),  # registrations / reset mails per address
    "PROXY_COUNT": (0, int),  # reverse proxies in front; >0 trusts that many X-Forwarded-For/Proto hops
    "API_RATE_LIMIT": ("120/minute", str),  # public /api/v1 budget per client address (shared by its endpoints)
    "SITEMAP_MAX_URLS": (50_000, int),  # URLs per /sitemaps/<n>.xml file (the protocol's maximum)
    "HOST": ("127.0.0.1", str),  # `python app.py` listens here
    "PORT": (5000, int),
    "STATIC_MAX_AGE": (31_536_000, int),  # static URLs carry ?v=<hash>, so cache them for a year
    # Who runs the site, shown in every page's footer; the defaults are demo placeholders.
    "SITE_ORGANIZER": ("广货网上行活动办公室（演示）", str),  # 主办单位
    "SITE_OPERATOR": ("广货网上行名录运营单位（演示）", str),  # 承办单位
    "SITE_CONTACT_EMAIL": ("service@gdws.example", str),
    "SITE_CONTACT_PHONE": ("", str),  # empty = not shown
    "SITE_CONTACT_ADDRESS": ("", str),  # empty = not shown
    "SITE_SERVICE_HOURS": ("工作日 9:00–12:00，14:00–17:30", str),
    "ICP_NUMBER": ("粤ICP备00000000号", str),  # the site's ICP备案号 (placeholder), linked to beian.miit.gov.cn
}


class ConfigError(RuntimeError):
    """A setting the site cannot start with (said in the message, with the fix)."""


def _instance_secret_key(instance_path: Path) -> str:
    """Return the key stored in the instance folder, creating it once with owner-only rights."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def read_settings(overrides: dict | None = None) -> dict:
    """Every key: its default, then the environment variable, then ``overrides``."""
    overrides = dict(overrides or {})
    cfg: dict[str, object] = {}
    for key, (default, parse) in DEFAULTS.items():
        if key in overrides:
            cfg[key] = overrides.pop(key)
        elif os.environ.get(key) not in (None, ""):
            cfg[key] = parse(os.environ[key])  # type: ignore[operator]
        else:
            cfg[key] = default
    cfg.update(overrides)  # extra Flask keys such as TESTING pass straight through
    return cfg


def check_settings(cfg: dict) -> dict:
    """The settings derived from ``cfg`` that can refuse a start (raises ``ConfigError``)."""
    return {**link_settings(cfg), **rate_limit_settings(cfg)}


def load_config(instance_path: str, overrides: dict | None = None, debug: bool = False) -> dict:
    """Build the config mapping: defaults, then environment variables, then ``overrides``."""
    cfg = read_settings(overrides)
    cfg.update(check_settings(cfg))  # before anything is written: a refused start leaves no files
    inst = Path(instance_path)
    inst.mkdir(parents=True, exist_ok=True)
    if not cfg["DATABASE_URL"]:
        cfg["DATABASE_URL"] = f"sqlite:///{inst / 'gdws.sqlite3'}"
    if not cfg["SEARCH_INDEX_DIR"]:
        cfg["SEARCH_INDEX_DIR"] = str(inst / "search_index")
    if not cfg["PAGE_CACHE_DIR"]:
        cfg["PAGE_CACHE_DIR"] = str(inst / "page_cache")
    if not cfg["SECRET_KEY"]:
        if not debug and not cfg.get("TESTING"):
            log.warning("SECRET_KEY is not set; using a generated key kept in %s", inst / "secret_key")
        cfg["SECRET_KEY"] = _instance_secret_key(inst)

    cfg["SQLALCHEMY_DATABASE_URI"] = cfg["DATABASE_URL"]
    cfg["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(str(cfg["DATABASE_URL"]))
    cfg.setdefault("SESSION_COOKIE_HTTPONLY", True)
    cfg.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    cfg.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    cfg.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    cfg["REMEMBER_COOKIE_SECURE"] = cfg["SESSION_COOKIE_SECURE"]
    cfg.setdefault("PERMANENT_SESSION_LIFETIME", 60 * 60 * 24 * 14)
    cfg.setdefault("REMEMBER_COOKIE_DURATION", 60 * 60 * 24 * 30)
    cfg.setdefault("WTF_CSRF_TIME_LIMIT", None)  # token lives as long as the session
    return cfg


def link_settings(cfg: dict) -> dict:
    """The canonical base of absolute links and the Host names a request may carry.

    Links in mails, feeds, sitemaps and the API are never built from a request's Host header:
    they start with ``SERVER_NAME_FOR_LINKS``. It is required in the production shape; on the
    embedded default it is the dev server's own address. Flask's ``SERVER_NAME`` takes its host
    (so ``url_for(..., _external=True)`` names it too) and ``TRUSTED_HOSTS`` lists it plus
    ``EXTRA_TRUSTED_HOSTS`` (and, on the embedded default, the loopback names): a request for
    any other host is refused with 400 (``marketplace.request_guard``).
    """
    raw = str(cfg.get("SERVER_NAME_FOR_LINKS") or "").strip()
    if not raw:
        if cfg.get("PRODUCTION"):
            raise ConfigError("SERVER_NAME_FOR_LINKS is required in the production shape: set it to the "
                              "site's public base URL, e.g. SERVER_NAME_FOR_LINKS=https://gdws.example.cn")
        host = str(cfg.get("HOST") or "127.0.0.1")
        host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # nosec B104 - naming, not binding
        raw = f"http://{host}:{cfg.get('PORT') or 5000}"
    try:
        base = parse_site_base(raw)
    except ValidationError:
        raise ConfigError(f"SERVER_NAME_FOR_LINKS={raw!r} is not a base URL: use scheme://host[:port] "
                          "without a path, e.g. https://gdws.example.cn") from None
    hosts = [base.host]
    hosts += [h.strip().lower() for h in str(cfg.get("EXTRA_TRUSTED_HOSTS") or "").split(",") if h.strip()]
    if not cfg.get("PRODUCTION"):
        hosts += ["localhost", "127.0.0.1"]
    return {
        "SERVER_NAME_FOR_LINKS": f"{base.scheme}://{base.authority}",
        "SERVER_NAME": base.authority,
        "PREFERRED_URL_SCHEME": base.scheme,
        "TRUSTED_HOSTS": list(dict.fromkeys(hosts)),
    }


def rate_limit_settings(cfg: dict) -> dict:
    """Flask-Limiter's storage settings: counters must be shared by every process of the
    production shape, so ``memory://`` (one count per process) is refused there.

    While the store is unreachable, reads are counted in each process's memory instead
    (Flask-Limiter's in-memory fallback: degraded, never unlimited, and the store is not asked
    again until its back-off retry) and other storage errors are swallowed; the forms that must
    fail closed check the store first (``marketplace.rate_limits``). Short socket timeouts keep
    an unreachable store from holding requests up.
    """
    uri = str(cfg["RATELIMIT_STORAGE_URI"])
    if cfg.get("PRODUCTION") and cfg.get("RATELIMIT_ENABLED") and uri.startswith("memory:"):
        raise ConfigError("RATELIMIT_STORAGE_URI=memory:// counts per process: in the production shape "
                          "set a shared store, e.g. RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0")
    options = {}
    if uri.startswith("redis"):
        options = {"socket_connect_timeout": 1, "socket_timeout": 1, "key_prefix": cfg["RATELIMIT_NAMESPACE"]}
    return {"RATELIMIT_STORAGE_OPTIONS": options, "RATELIMIT_SWALLOW_ERRORS": True,
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True}


def engine_options(url: str) -> dict:
    """Engine options per backend: SQLite waits for locks, PostgreSQL checks pooled connections."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {
        "pool_pre_ping": True,
        "pool_size": 10,
        "max_overflow": 10,
        "pool_timeout": 10,
        "pool_recycle": 1800,
        "connect_args": {"options": "-c lock_timeout=10000 -c statement_timeout=30000", "connect_timeout": 5},
    }
