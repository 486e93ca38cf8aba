"""gunicorn settings for the production shape (`make serve`, or `gunicorn -c gunicorn.conf.py`).

Every value can be overridden with an environment variable (GUNICORN_WORKERS, GUNICORN_THREADS,
GUNICORN_BIND, GUNICORN_TIMEOUT, GUNICORN_ACCESSLOG) or on the gunicorn command line.

- The app is NOT preloaded: each worker builds its own app, engine and connection pool after the
  fork, so no database connection or Whoosh file handle is ever shared between processes.
- Workers: 2 * cores + 1, at most 8, gthread with ONE request thread each (see ``threads``).
  Connections needed at most: workers * threads (+ the applier), far below PostgreSQL's
  default max_connections of 100.
- In this shape the search index is kept up to date by ONE applier per machine
  (`flask --app app search sync --loop`), so the web workers do not apply the outbox themselves.
"""
from __future__ import annotations

import multiprocessing
import os

wsgi_app = "app:create_app()"

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS") or min(2 * multiprocessing.cpu_count() + 1, 8))
worker_class = "gthread"
# One request at a time per worker: the pages are CPU-bound (threads would not add throughput
# under the GIL), and Whoosh searchers are not safe to share between threads — with 2 threads
# the page benchmark saw concurrent searches in one worker fail (UnpicklingError / zlib errors
# from one postings file read by two threads). gthread still handles keep-alive connections.
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
preload_app = False  # one engine per worker, created after fork

# A request that takes longer than this is killed (and the worker replaced): users get an error
# from the proxy or a reset rather than a page that never finishes.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 20
keepalive = 5

# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = 5000
max_requests_jitter = 500

# Bounded request sizes (the app's MAX_CONTENT_LENGTH caps bodies).
limit_request_line = 8190
limit_request_fields = 100

accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(f)s" "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
proc_name = "gdws"

# Defaults for the app in this shape (real environment variables win).
raw_env = [
    f"{key}={value}"
    for key, value in {
        "SEARCH_SYNC_INLINE": "false",
        "STATIC_COMPRESS": "true",
        "LOAD_DEMO_DATA": "false",
    }.items()
    if not os.environ.get(key)
]


def post_fork(server, worker):  # noqa: D401 - gunicorn hook
    """Log each worker's pid: the fault tests and operators look workers up by it."""
    server.log.info("worker %s started", worker.pid)


def post_worker_init(worker):  # noqa: D401 - gunicorn hook
    """Warm a new worker before it takes traffic: the first page render and the first search load
    templates, the Chinese segmenter's dictionaries and the index reader (~1 s, far more on a busy
    machine), which would otherwise be paid by the first visitors after every (re)start."""
    if os.environ.get("GUNICORN_WARMUP", "1") in ("0", "false", "no"):
        return
    from werkzeug.test import Client

    client = Client(worker.wsgi)
    for path in ("/", "/search?q=%E5%B9%BF%E5%B7%9E"):  # 广州
        try:
            client.get(path, headers={"User-Agent": "gunicorn-warmup"}).close()
        except Exception:  # noqa: BLE001 - a failed warm-up must not stop the worker
            worker.log.exception("warm-up request %s failed", path)
