#!/usr/bin/env bash
# Production shape on this machine: gunicorn (several workers) + one search applier, against the
# local PostgreSQL. Used by `make serve`. Ctrl+C (or SIGTERM) stops both.
#
#   SERVE_DB     database name (default gdws); created with createdb when missing
#   PGHOST/PGPORT/PGUSER  where PostgreSQL listens (default 127.0.0.1:5432, user postgres)
#   DATABASE_URL overrides the URL built from the above
#   GUNICORN_BIND, GUNICORN_WORKERS, ... see gunicorn.conf.py
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
FLASK=(${PY} -m flask --app app)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
SERVE_DB=${SERVE_DB:-gdws}
export DATABASE_URL=${DATABASE_URL:-postgresql+psycopg://${PGUSER}@${PGHOST}:${PGPORT}/${SERVE_DB}}
export SEARCH_SYNC_INLINE=false STATIC_COMPRESS=true

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

pids=()
stop() {
  trap - INT TERM EXIT
  echo "== stopping (${pids[*]:-})"
  for pid in "${pids[@]}"; do kill -TERM "${pid}" 2>/dev/null || true; done
  wait || true
}
trap stop INT TERM EXIT

if "${FLASK[@]}" search --help 2>/dev/null | grep -q sync; then
  echo "== search applier: flask --app app search sync --loop (restarted if it dies)"
  # Supervised: a killed or crashed applier is restarted; its outbox checkpoint lives in the
  # index directory, so it resumes where the last committed batch ended.
  ( trap 'kill -TERM "${child}" 2>/dev/null; exit 0' TERM INT
    while true; do
      "${FLASK[@]}" search sync --loop & child=$!
      wait "${child}" || true
      echo "!! search applier exited; restarting in 1 s" >&2
      sleep 1
    done ) &
  pids+=($!)
else
  echo "!! 'flask --app app search sync' is not available: the index is not being updated" >&2
fi

echo "== gunicorn -c gunicorn.conf.py (bind ${GUNICORN_BIND:-127.0.0.1:8000})"
"${PY}" -m gunicorn -c gunicorn.conf.py &
pids+=($!)

# Stop everything as soon as either process exits.
wait -n
