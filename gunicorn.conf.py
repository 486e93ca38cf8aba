"""gunicorn settings for the production shape (`make serve`, or `gunicorn -c gunicorn.conf.py`).

Every value can be overridden with an environment variable (GUNICORN_WORKERS, GUNICORN_MAX_REQUESTS,
GUNICORN_BIND, GUNICORN_TIMEOUT, GUNICORN_ACCESSLOG) or on the gunicorn command line.

- The app is preloaded (``preload_app``, turn off with GUNICORN_PRELOAD=0): the master imports
  it once, compiles every template and loads the segmenter's, pinyin and OpenCC dictionaries and
  the brand user dictionary, then freezes those objects out of the garbage collector
  (``gc.freeze``) and forks. The workers share those pages copy-on-write instead of each holding
  its own ~170 MB copy, and a worker starts in well under a second. The master opens no database
  connection and no search index: each worker disposes of the inherited engine pool
  (``post_fork``) and opens its own connections and its own Whoosh searcher, so no connection or
  file handle is ever shared between processes.
- Workers: 2 * cores + 1, at most 8, sync (one request at a time each; see ``worker_class``).
  Database connections needed at most: one per worker (+ the applier), far below PostgreSQL's
  default max_connections of 100.
- In this shape the search index is kept up to date by ONE applier per machine
  (`flask --app app search sync --loop`), so the web workers do not apply the outbox themselves.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import threading

wsgi_app = "app:create_app()"

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS") or min(2 * multiprocessing.cpu_count() + 1, 8))
# Sync workers: one request at a time per worker, and each request on its own connection, taken
# from the shared listen queue by whichever worker is free. The pages are CPU-bound (threads would
# not add throughput under the GIL), and Whoosh searchers are not safe to share between threads.
# gthread (used before) pins each keep-alive connection to one worker, so every request on it
# waited behind that worker's slow request: the page benchmark's p99 was ~1 s with gthread and
# 12-16 ms with sync on the same pages (bench/README.md). Keep-alive to clients belongs to the
# reverse proxy in front (README: production), which also shields sync workers from slow clients.
worker_class = "sync"
preload_app = os.environ.get("GUNICORN_PRELOAD", "1").lower() not in ("0", "false", "no")

# A request that takes longer than this is killed (and the worker replaced): users get an error
# from the proxy or a reset rather than a page that never finishes.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 20

# Recycle workers now and then so a slow leak can never grow without bound, but rarely: a new
# worker costs seconds of CPU (app, Chinese dictionaries, index reader, warm-up) and, with the
# page cache serving thousands of requests a second, 5,000 requests meant all five workers
# restarting together every ~3 s, which alone set the page benchmark's p95 to seconds. The
# jitter spreads the restarts so they never coincide.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 200_000)
max_requests_jitter = max_requests // 5

# Bounded request sizes (the app's MAX_CONTENT_LENGTH caps bodies).
limit_request_line = 8190
limit_request_fields = 100

accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(f)s" "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
proc_name = "gdws"

# Defaults for the app in this shape (real environment variables win). PRODUCTION makes the app
# refuse to start without SERVER_NAME_FOR_LINKS or with per-process (memory://) rate limits;
# the limits are counted in Redis, shared by every worker and machine.
raw_env = [
    f"{key}={value}"
    for key, value in {
        "PRODUCTION": "true",
        "SEARCH_SYNC_INLINE": "false",
        "LOAD_DEMO_DATA": "false",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
    }.items()
    if not os.environ.get(key)
]


def on_starting(server):  # noqa: D401 - gunicorn hook
    """Check the settings once, in the master, before any worker starts: a missing
    SERVER_NAME_FOR_LINKS stops gunicorn with the reason instead of every worker failing to boot.
    (raw_env is already in os.environ here.)"""
    from marketplace.config import check_settings, read_settings

    check_settings(read_settings())  # ConfigError (a RuntimeError): gunicorn prints it and exits 1


def _flask_app(server):
    """This project's Flask app as gunicorn loaded it (preloaded in the master), or None (not
    preloaded, or another app such as the page benchmark's "hello")."""
    wsgi = getattr(server.app, "callable", None)
    return wsgi if "sqlalchemy" in getattr(wsgi, "extensions", {}) else None


def when_ready(server):  # noqa: D401 - gunicorn hook
    """With the app preloaded, load in the master what every worker would load anyway and only
    reads: templates (compiled), the Chinese segmenter's dictionary with the brand words, OpenCC,
    pypinyin. Then drop any pooled database connection (none should exist) and move everything to
    the GC's permanent generation, so the workers share these pages instead of copying them."""
    app = _flask_app(server)
    if app is None:
        return
    from marketplace.bootstrap import warm_before_fork

    warm_before_fork(app)
    gc.collect()
    gc.freeze()


def post_fork(server, worker):  # noqa: D401 - gunicorn hook
    """Log each worker's pid (the fault tests and operators look workers up by it) and make sure
    the worker never uses a database connection inherited from the master."""
    server.log.info("worker %s started", worker.pid)
    app = _flask_app(server)
    if app is not None:
        from marketplace.extensions import db

        with app.app_context():
            db.engine.dispose(close=False)  # forget the parent's pool without closing its sockets


def _warm(worker, paths) -> None:
    """Render ``paths`` in this worker, around the page cache, with the site's own host."""
    from werkzeug.test import Client

    client = Client(worker.wsgi)
    # Around the full-page cache (marketplace.page_cache.ENV_BYPASS): pages cached by another
    # worker would otherwise answer the warm-up and leave this one cold for its first visitor.
    bypass = {"marketplace.page_cache.bypass": True}
    # The site's own host: in production any other Host is refused (400), and a refused warm-up
    # warmed nothing (it did until issue 15: the first search in every worker took 1-2 s).
    base = os.environ.get("SERVER_NAME_FOR_LINKS") or "http://localhost"
    for path in paths:
        try:
            resp = client.get(path, base_url=base, headers={"User-Agent": "gunicorn-warmup"},
                              environ_overrides=bypass)
            if resp.status_code != 200:
                worker.log.warning("warm-up request %s answered %s", path, resp.status_code)
            resp.close()
        except Exception:  # noqa: BLE001 - a failed warm-up must not stop the worker
            worker.log.exception("warm-up request %s failed", path)


def post_worker_init(worker):  # noqa: D401 - gunicorn hook
    """Warm a new worker: the first page render and the first search load the database
    connection, the per-process aggregates and the index reader (~1-2 s of CPU for the reader),
    which would otherwise be paid by the first visitors after every (re)start.

    Home and browse are rendered before the worker takes traffic (fast: the templates and
    dictionaries came from the master). The search warm-up runs in a background thread while the
    worker already serves, so five workers opening their index readers at once on two cores no
    longer hold back the first answer (cold start); a search arriving meanwhile waits for the
    reader, as it would have anyway. Then everything loaded is frozen out of the garbage
    collector's full passes, which otherwise stopped a warm worker for 140-400 ms now and then
    and set the page benchmark's p99 (bench/README.md)."""
    if os.environ.get("GUNICORN_WARMUP", "1") in ("0", "false", "no"):
        return
    _warm(worker, ("/", "/enterprises"))

    def search_then_freeze():
        _warm(worker, ("/search?q=%E5%B9%BF%E5%B7%9E",))  # 广州
        gc.freeze()

    threading.Thread(target=search_then_freeze, name="gunicorn-warmup", daemon=True).start()
