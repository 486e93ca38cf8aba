"""The per-process ``SearchEngine`` for an app's index directory and the sync tuning constants.
"""
from __future__ import annotations

import os
import threading

from flask import Flask, current_app

from search_index import SearchEngine


ENTITIES = ("enterprise", "shop", "platform", "product")
GAP_GRACE = 10.0  # seconds before a hole in outbox ids is taken to be a rollback
INLINE_BATCH = 500  # rows a search applies itself before answering
CHECK_EVERY = 3600.0  # seconds between consistency checks in the applier thread
NOTIFY_CHANNEL = "search_outbox"  # PostgreSQL NOTIFY channel: an outbox row was committed
SMALL_INDEX = 3000  # rebuild inline (in the request) up to this many rows, else in a thread

_engines: dict[tuple[int, str], SearchEngine] = {}
_engines_lock = threading.Lock()


# =============================================================== engine per process

def get_engine(app: Flask | None = None) -> SearchEngine:
    """This process's engine for the app's ``SEARCH_INDEX_DIR`` (new after a fork)."""
    app = app or current_app._get_current_object()
    root = str(app.config["SEARCH_INDEX_DIR"])
    key = (os.getpid(), root)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = SearchEngine(root)
        return engine
