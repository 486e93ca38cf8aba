"""The background applier thread (embedded mode), ``sync_loop`` for the daemon and ``catch_up``.
"""
from __future__ import annotations

import logging
import threading

from flask import Flask, current_app


from ..clock import monotonic
from ..extensions import db
from ..models import directory_version
from .applier import _private_session, apply_pending, ensure_index
from .consistency import check_consistency
from .engines import CHECK_EVERY, get_engine, INLINE_BATCH
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


def sync_loop(interval: float, stop: threading.Event | None = None, check_every: float = CHECK_EVERY) -> None:
    """The deployment applier (``flask search sync --loop``): apply, sleep, repeat."""
    ensure_index()
    last_check = monotonic()
    stop = stop or threading.Event()
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
        stop.wait(interval)


def catch_up() -> None:
    """Apply pending rows before a search when the index lags (inline mode), without waiting."""
    app = current_app
    if not app.config["SEARCH_SYNC_INLINE"]:
        return
    engine = get_engine()
    try:
        with _private_session() as session:
            head = directory_version(session)
        if head > engine.checkpoint():
            apply_pending(max_rows=INLINE_BATCH, blocking=False, engine=engine)
    except Exception:  # noqa: BLE001 - a search must still answer
        log.exception("search catch-up failed")
