#!/usr/bin/env bash
# Production shape on this machine: gunicorn (several workers) + one search applier, against the
# local PostgreSQL and Redis. Used by `make serve`. Prepares the database and the static build,
# then runs the Procfile's processes with honcho. Ctrl+C (or SIGTERM) stops them all; so does
# the exit of any one of them (in production, systemd restarts each unit on its own).
#
#   SERVE_DB     database name (default gdws); created with createdb when missing
#   PGHOST/PGPORT/PGUSER  where PostgreSQL listens (default 127.0.0.1:5432, user postgres)
#   DATABASE_URL overrides the URL built from the above
#   GUNICORN_BIND, GUNICORN_WORKERS, ... see gunicorn.conf.py
#   SERVER_NAME_FOR_LINKS  the site's base URL (default http://<GUNICORN_BIND>)
#   RATELIMIT_STORAGE_URI  where the rate limits count (default redis://127.0.0.1:6379/0)
#   SERVE_PROCESSES        the Procfile processes to run (default all: web and search)
set -euo pipefail
cd "$(dirname "$0")/.."
export PY=${PY:-.venv/bin/python}
FLASK=("${PY}" -m flask --app app)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
SERVE_DB=${SERVE_DB:-gdws}
export DATABASE_URL=${DATABASE_URL:-postgresql+psycopg://${PGUSER}@${PGHOST}:${PGPORT}/${SERVE_DB}}
export PRODUCTION=true SEARCH_SYNC_INLINE=false
export GUNICORN_BIND=${GUNICORN_BIND:-127.0.0.1:8000}
export SERVER_NAME_FOR_LINKS=${SERVER_NAME_FOR_LINKS:-http://${GUNICORN_BIND/0.0.0.0/127.0.0.1}}
export RATELIMIT_STORAGE_URI=${RATELIMIT_STORAGE_URI:-redis://127.0.0.1:6379/0}

if ! "${PY}" -c "import os, redis; redis.Redis.from_url(os.environ['RATELIMIT_STORAGE_URI'], socket_connect_timeout=2).ping()" 2>/dev/null; then
  echo "!! Redis does not answer at ${RATELIMIT_STORAGE_URI}: the rate limits are counted there" >&2
  echo "   (start it, e.g. apt-get install redis-server; or set RATELIMIT_STORAGE_URI)" >&2
  exit 1
fi

if ! psql -d "${SERVE_DB}" -Atqc "select 1" >/dev/null 2>&1; then
  echo "== createdb ${SERVE_DB}"
  createdb "${SERVE_DB}"
fi

echo "== init-db"
"${FLASK[@]}" init-db

echo "== demo data (only into an empty database)"
LOAD_DEMO_DATA=true "${PY}" - <<'PYEOF'
from marketplace import create_app
from marketplace.bootstrap import prepare_site
from marketplace.extensions import db
from marketplace.models import Enterprise
from sqlalchemy import func, select

app = create_app()
with app.app_context():
    prepare_site(app)
    print("enterprises:", db.session.scalar(select(func.count()).select_from(Enterprise)))
PYEOF

# Fresh planner statistics: right after a bulk import (and wherever autovacuum is off, as on
# this machine's cluster) the planner otherwise guesses ~10 rows per table and the browse and
# platform queries at 50,000 shops take 20+ seconds instead of milliseconds.
echo "== ANALYZE"
psql -d "${SERVE_DB}" -qc "ANALYZE" || echo "!! ANALYZE failed (continuing)" >&2

echo "== build-static (compressed copies for WhiteNoise)"
"${FLASK[@]}" build-static

echo "== honcho start ${SERVE_PROCESSES:-web search} (Procfile; gunicorn on ${GUNICORN_BIND}, links on ${SERVER_NAME_FOR_LINKS})"
# shellcheck disable=SC2086 - SERVE_PROCESSES is a list of process names
exec "${PY}" -m honcho start -f Procfile ${SERVE_PROCESSES:-}
