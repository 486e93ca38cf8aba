"""Per-process cache of directory aggregates, dropped when the lists change (plain values only)."""
from __future__ import annotations

import threading
from typing import Callable, TypeVar

from flask import current_app

from ... import page_changes
from ...clock import monotonic

MAX_ENTRIES = 5000  # browse totals and facet counts per filter combination: bounded


# ---------------------------------------------------------------- aggregate cache
#
# Counts over the whole directory (per industry, city, platform; totals) cost tens of
# milliseconds at 10,000 enterprises / 50,000 shops and are shown on every home and browse page.
# They are cached per process as plain values (never ORM objects, which would outlive their
# session) and dropped when the lists change (``page_changes``: a status change, a move to another
# city / industry / platform, a certificate, a featured slot, a platform, industry, badge, news or
# 网购节 change ... writes a ``page_lists`` or ``page_all`` row in its own transaction), so a
# committed change shows within half a second (the outbox is read at most twice a second per
# process) in every worker. An edit of one enterprise's description or logo keeps them. CATALOG_CACHE_SECONDS
# bounds the age anyway (click counts, which order the fallback featured lists, change without
# an outbox row); 0 turns the cache off.

T = TypeVar("T")
_cache_lock = threading.Lock()


def cached(name: str, compute: Callable[[], T]) -> T:
    """``compute()`` cached under ``name`` for this app until the lists change or it ages."""
    ttl = current_app.config.get("CATALOG_CACHE_SECONDS", 60)
    if ttl <= 0:
        return compute()
    store = current_app.extensions.setdefault("catalog_cache", {})
    tracker = page_changes.tracker()
    tracker.poll()
    version = store.get("_version")
    now = monotonic()
    if version != tracker.lists_version or len(store) > MAX_ENTRIES:
        with _cache_lock:
            store.clear()
            store["_version"] = tracker.lists_version
    hit = store.get(name)
    if hit is not None and now - hit[1] < ttl:
        return hit[0]
    value = compute()
    store[name] = (value, now)
    return value


def clear_cache() -> None:
    """Drop every cached aggregate of this app (tests, or after bulk SQL that skips the outbox)."""
    current_app.extensions.pop("catalog_cache", None)
