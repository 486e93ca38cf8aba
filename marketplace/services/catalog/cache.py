"""Per-process cache of directory aggregates, keyed by the search outbox head (plain values only)."""
from __future__ import annotations

import threading
from typing import Callable, TypeVar

from flask import current_app

from ...clock import monotonic
from ...models import directory_version


# ---------------------------------------------------------------- aggregate cache
#
# Counts over the whole directory (per industry, city, platform; totals) cost tens of
# milliseconds at 10,000 enterprises / 50,000 shops and are shown on every home and browse page.
# They are cached per process as plain values (never ORM objects, which would outlive their
# session), keyed by the search outbox head: every change to an enterprise, shop, brand,
# platform, industry, badge, certificate or featured slot writes an outbox row in its own
# transaction, so a committed change shows within half a second (the head is read at most twice
# a second per process) in every worker. CATALOG_CACHE_SECONDS
# bounds the age anyway (click counts, which order the fallback featured lists, change without
# an outbox row); 0 turns the cache off.

T = TypeVar("T")
_cache_lock = threading.Lock()


def cached(name: str, compute: Callable[[], T]) -> T:
    """``compute()`` cached under ``name`` for this app until the directory changes or ages."""
    ttl = current_app.config.get("CATALOG_CACHE_SECONDS", 60)
    if ttl <= 0:
        return compute()
    store = current_app.extensions.setdefault("catalog_cache", {})
    version = store.get("_version")
    now = monotonic()
    if version is None or now - version[1] > 0.5:  # check the version at most twice a second
        current = directory_version()
        if version is None or current != version[0]:
            with _cache_lock:
                store.clear()
                store["_version"] = (current, now)
        else:
            store["_version"] = (current, now)
    hit = store.get(name)
    if hit is not None and now - hit[1] < ttl:
        return hit[0]
    value = compute()
    store[name] = (value, now)
    return value


def clear_cache() -> None:
    """Drop every cached aggregate of this app (tests, or after bulk SQL that skips the outbox)."""
    current_app.extensions.pop("catalog_cache", None)
