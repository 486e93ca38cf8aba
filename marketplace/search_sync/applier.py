"""Applying the outbox to the index (checkpoint, gap grace, non-blocking lock), rebuilds and
``ensure_index`` self-healing.
"""
from __future__ import annotations

import logging
import threading

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from search_index import SearchEngine
from search_index.api import IndexUnavailable, LockBusy

from ..extensions import db
from ..models import SearchOutbox, directory_version
from ..clock import utc_now
from .documents import build_documents, iter_all_documents
from .engines import GAP_GRACE, get_engine
from .pruning import needs_rebuild, record_heartbeat

log = logging.getLogger("marketplace.search_sync")


def _advance(checkpoint: int, rows) -> int:
    """The new checkpoint after ``rows`` (sorted by id): contiguous ids, or past a gap that is
    older than GAP_GRACE seconds (a rolled-back transaction rather than a slow one)."""
    cp = checkpoint
    now = utc_now()
    for row in rows:
        if row.id == cp + 1:
            cp = row.id
            continue
        age = (now - row.created_at).total_seconds() if row.created_at else GAP_GRACE + 1
        if age > GAP_GRACE:
            cp = row.id
        else:
            break
    return cp


def _private_session() -> Session:
    """A session of our own for the applier, rebuilds and checks: its reads and rollbacks never
    touch the request's ``db.session`` (which may hold the caller's objects and changes)."""
    return Session(db.engine, expire_on_commit=False)


def apply_pending(max_rows: int = 5000, blocking: bool = False, engine: SearchEngine | None = None) -> int | None:
    """Apply outbox rows past the index checkpoint. Returns rows applied, or None when another
    thread/process holds the writer lock (it is applying them) or the index is unusable."""
    engine = engine or get_engine()
    try:
        with engine.write_lock(blocking=blocking, timeout=30 if blocking else None), _private_session() as session:
            if not engine.exists() or needs_rebuild(session, engine.checkpoint()):
                _rebuild_locked(engine, session)
                return 0
            total = 0
            while True:
                cp = engine.checkpoint()
                rows = session.execute(
                    select(SearchOutbox.id, SearchOutbox.entity, SearchOutbox.entity_id, SearchOutbox.created_at)
                    .where(SearchOutbox.id > cp).order_by(SearchOutbox.id).limit(max_rows)).all()
                if not rows:
                    return total
                new_cp = _advance(cp, rows)
                docs, deletes = build_documents({(r.entity, r.entity_id) for r in rows}, session)
                session.rollback()  # end the read transaction; see fresh rows next time
                engine.apply(docs, deletes, checkpoint=new_cp)
                record_heartbeat(session, engine, new_cp)
                total += len(rows)
                if new_cp == cp or len(rows) < max_rows:
                    return total
    except LockBusy:
        return None
    except IndexUnavailable as exc:
        log.warning("search index unusable while applying (%s); rebuilding", exc)
        ensure_index(force=True)
        return None


def _rebuild_locked(engine: SearchEngine, session: Session, progress=None) -> dict:
    """Rebuild while holding the write lock. The checkpoint is read BEFORE the documents, so
    any change committed during the rebuild is replayed afterwards."""
    checkpoint = directory_version(session)
    session.rollback()
    stats = engine.rebuild(iter_all_documents(session), checkpoint, progress=progress)
    session.rollback()
    record_heartbeat(session, engine, checkpoint)
    log.info("search index rebuilt: %s documents in %ss", stats["documents"], stats["seconds"])
    return stats


def rebuild(progress=None, wait: bool = True) -> dict | None:
    """Rebuild the whole index into a new directory and swap it in. None when busy and not waiting."""
    engine = get_engine()
    try:
        with engine.write_lock(blocking=wait, timeout=600 if wait else None), _private_session() as session:
            return _rebuild_locked(engine, session, progress)
    except LockBusy:
        return None


def ensure_index(force: bool = False) -> bool:
    """Make sure a readable index exists; rebuild a missing or damaged one. Never raises for
    index problems (returns False when another process is busy with it)."""
    engine = get_engine()
    ok, reason = engine.health()
    if ok and not force:
        return True
    log.warning("search index %s: rebuilding", reason)
    try:
        with engine.write_lock(blocking=True, timeout=600), _private_session() as session:
            ok, reason = engine.health()
            if ok and not force:
                return True  # someone else rebuilt it while we waited
            _rebuild_locked(engine, session)
            return True
    except LockBusy:
        return False
    except Exception:  # noqa: BLE001 - the site keeps answering from the database
        log.exception("search index rebuild failed")
        return False


_rebuild_threads: dict[str, threading.Thread] = {}


def _schedule_rebuild(app: Flask) -> None:
    """Rebuild in the background (big indexes) unless one is already running in this process."""
    root = str(app.config["SEARCH_INDEX_DIR"])
    t = _rebuild_threads.get(root)
    if t is not None and t.is_alive():
        return

    def run():
        with app.app_context():
            try:
                ensure_index(force=not get_engine().health()[0])
            finally:
                db.session.remove()

    t = threading.Thread(target=run, name="search-rebuild", daemon=True)
    _rebuild_threads[root] = t
    t.start()
