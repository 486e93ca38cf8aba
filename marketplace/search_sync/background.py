"""The background applier thread (embedded mode), ``sync_loop`` for the daemon and ``catch_up``.
"""
from __future__ import annotations

import contextlib
import logging
import threading

from flask import Flask, current_app


from ..clock import monotonic
from ..extensions import db
from ..models import directory_version
from .applier import _private_session, apply_pending, ensure_index
from .consistency import check_consistency
from .engines import CHECK_EVERY, NOTIFY_CHANNEL, get_engine, INLINE_BATCH
from .pruning import upkeep

log = logging.getLogger("marketplace.search_sync")


class _Applier(threading.Thread):
    """Per-process background applier (embedded default)."""

    def __init__(self, app: Flask):
        super().__init__(name="search-applier", daemon=True)
        self.app = app
        self.interval = max(0.2, float(app.config["SEARCH_SYNC_INTERVAL"]))
        self.stop_event = threading.Event()
        self.last_check = monotonic()

    def run(self):
        with self.app.app_context():
            try:
                ensure_index()
            except Exception:  # noqa: BLE001
                log.exception("search: initial index check failed")
            finally:
                db.session.remove()
        while not self.stop_event.wait(self.interval):
            with self.app.app_context():
                try:
                    apply_pending()
                    if monotonic() - self.last_check > CHECK_EVERY:
                        self.last_check = monotonic()
                        hourly()
                except Exception:  # noqa: BLE001 - never let the thread die
                    log.exception("search applier pass failed")
                    db.session.rollback()
                finally:
                    db.session.remove()


def hourly() -> None:
    """The applier's hourly work: repair differences with the database, heartbeat and prune."""
    check_consistency(repair=True)
    with _private_session() as session:
        upkeep(session, get_engine())


class OutboxWaiter:
    """Sleep until the next committed outbox row or ``interval``, whichever comes first.

    On PostgreSQL a connection of its own LISTENs to the outbox listener's NOTIFY, so an applier
    on any machine starts indexing a change milliseconds after its commit (bench/two_machines.py);
    the interval stays as the fallback poll (missed notifications, other databases). A broken
    listening connection (database restart) only means polling until it reconnects."""

    def __init__(self, url, stop: threading.Event):
        self.url = url if url is not None and url.get_backend_name() == "postgresql" else None
        self.stop = stop
        self.conn = None

    def listen(self) -> None:
        """Start listening (before the first apply, so no commit falls between the two)."""
        if self.url is None or self.conn is not None:
            return
        import psycopg

        try:
            dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.conn = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
            self.conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        except psycopg.Error:
            log.warning("search applier: LISTEN failed; polling every interval", exc_info=True)
            self.close()

    def wait(self, interval: float) -> None:
        if self.conn is None:
            self.stop.wait(interval)
            self.listen()  # reconnect for next time; the caller applies right after anyway
            return
        import psycopg

        deadline = monotonic() + interval
        try:
            while not self.stop.is_set():
                left = deadline - monotonic()
                if left <= 0:
                    return
                # slices of at most a second, so a stop request is seen promptly
                if list(self.conn.notifies(timeout=min(left, 1.0), stop_after=1)):
                    return
        except psycopg.Error:
            log.warning("search applier: listening connection lost; polling", exc_info=True)
            self.close()
            self.stop.wait(min(interval, 1.0))

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self.conn.close()
        self.conn = None


def sync_loop(interval: float, stop: threading.Event | None = None, check_every: float = CHECK_EVERY) -> None:
    """The deployment applier (``flask search sync --loop``): apply, wait for the next outbox
    commit (at most ``interval``), repeat."""
    stop = stop or threading.Event()
    waiter = OutboxWaiter(db.engine.url, stop)
    try:
        _sync_loop(interval, stop, check_every, waiter)
    finally:
        waiter.close()


def _sync_loop(interval: float, stop: threading.Event, check_every: float, waiter: OutboxWaiter) -> None:
    waiter.listen()
    ensure_index()
    last_check = monotonic()
    while not stop.is_set():
        try:
            apply_pending()
            if monotonic() - last_check > check_every:
                last_check = monotonic()
                hourly()
        except Exception:  # noqa: BLE001
            log.exception("search applier pass failed")
            db.session.rollback()
        finally:
            db.session.remove()
        if not stop.is_set():
            waiter.wait(interval)


def catch_up() -> None:
    """Apply pending rows before a search when the index lags (inline mode), without waiting."""
    app = current_app
    if not app.config["SEARCH_SYNC_INLINE"]:
        return
    engine = get_engine()
    try:
        with _private_session() as session:
            head = directory_version(session)
            session.commit()  # not a ROLLBACK: psycopg would forget the connection's prepared statements
        if head > engine.checkpoint():
            apply_pending(max_rows=INLINE_BATCH, blocking=False, engine=engine)
    except Exception:  # noqa: BLE001 - a search must still answer
        log.exception("search catch-up failed")
