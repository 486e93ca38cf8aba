"""What a change means for cached pages: which public pages it can alter, written next to the
search outbox rows, and read back by every process to drop only those pages.

Why: the page cache and the catalog cache used to drop everything whenever the outbox head moved,
so each merchant edit or staff decision (about one a second under the load test) emptied both,
and every public page was a miss again. Most changes touch one enterprise's own content.

**Write side** (``page_keys_for``, called by the outbox ``after_flush`` listener, same
transaction). Besides the search rows, a change of public data writes *page rows* in the same
``search_outbox`` table (the applier skips kinds it does not index):

* ``("page_ent", X)`` – content shown wherever enterprise X is shown changed (its page, its card
  on lists, a search hit): description, website, logo, brands, a shop's name or URL ... Such a
  change can also alter searches that did not show X: a description may now contain the word a
  page found nothing, or others, for. So a search page records its words and the enterprises
  owning any of its matches (``TextNeed``, from ``page_cache.on_text``), and the tracker reads
  X's searchable text when it sees the row: the page is dropped when X matched before (X's old
  text; totals and facets count every match) or X's new text contains one of its words.
* ``("page_lists", 0)`` – which listings a list shows, in what order, or a count changed: a status
  change, a new or removed public shop, a move to another city / industry / platform, a rename,
  a certificate or a featured slot. Every list page (home, browse, city / industry / platform
  pages, search, about) is dropped; other enterprises' own pages are kept.
* ``("page_all", 0)`` – anything else (platforms, industries, badges, synonyms, 网购节 and offers,
  authorizations, bulk SQL through ``enqueue``): every page, as before.

A change of something nobody can see (a draft or pending listing, an application, a pending shop
of a certified enterprise) writes no page row: a pending application drops nothing public.

**Read side** (``ChangeTracker``, one per app and process). At most every
``PAGE_CACHE_CHECK_SECONDS`` it reads the outbox rows it has not seen and notes, per enterprise,
for "lists" and for "all", the moment (``clock.machine_time``) this process saw the change. A
cached page records when its render started and which enterprises it showed (every Enterprise or
Shop the ORM loaded while rendering it, see ``shown``); it is valid while none of the changes it
depends on was seen after that moment. Comparing times rather than outbox ids matters on
PostgreSQL, where ids are not handed out in commit order: a row committed late with a low id is
still read (rows are re-read for ``GRACE`` seconds) and still counts as seen late. A new process
counts the rows of the last ``max page age + 2 GRACE`` seconds as changed ``GRACE`` seconds after
they were written (or at its start, if sooner), so pages in the shared store that it never saw
being invalidated are judged too.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import timezone
from typing import NamedTuple

from flask import Flask, current_app, has_app_context, has_request_context, request
from sqlalchemy import event, func, inspect as sa_inspect, select
from sqlalchemy.orm import Session

from .clock import machine_time, monotonic
from .extensions import db
from .models import (
    Brand, Certification, Enterprise, FeaturedSlot, Product, ProductLink, ProductPhoto, ProductStatus, SearchOutbox,
    Shop, Status,
)

PAGE_ENT, PAGE_LISTS, PAGE_ALL = "page_ent", "page_lists", "page_all"
# Search rows written by the outbox listener next to the page rows above (which say what they
# mean for pages): the tracker skips them. Any other kind (news, unknown) drops every page.
SEARCH_KINDS = frozenset({"enterprise", "shop", "platform", "synonym", "event", "product"})
GRACE = 10.0  # seconds a transaction may take between writing its outbox rows and committing

# Attributes whose change alters only what is shown where the listing is shown (its page, its
# card, its search hit), never which listings a list holds, their order or a count.
CONTENT_ONLY = {
    Enterprise: frozenset({"description", "website", "founded_year", "logo_sha256", "status_reason", "owner_id",
                           "owner", "source", "updated_at", "version", "click_count", "brands", "uscc"}),
    Shop: frozenset({"name", "url", "status_reason", "updated_at", "version", "click_count"}),
}
# Relationships whose change is the enterprise's / shop's own (shown with it). Other collections
# (shops, certifications, applications, complaints ...) are rows of their own: a pending shop or
# application appended to a certified enterprise must not count as a change of that enterprise.
OWN_RELATIONSHIPS = frozenset({"city", "industries", "badges", "brands", "owner", "platform", "enterprise"})
_ENV_SHOWN = "marketplace.page_changes.shown"


class TextNeed(NamedTuple):
    """What a search page depends on in listings it does not show: it is outdated by a content
    change of enterprise X when X is in ``matched`` (X's documents matched when it was rendered)
    or X's searchable text now contains one of ``words`` (X may match now). Relies on
    ``search_index``'s guarantee that a document matches only a search one of whose word terms
    occurs in its searchable text. What it does not follow is the small change of every score
    when the number of documents containing a word changes: the order of two other listings
    with nearly equal scores may then differ until the page expires."""

    words: tuple[str, ...]
    matched: frozenset[int]


# ------------------------------------------------------------------ write side

def page_keys_for(obj, session, whole: bool) -> set[tuple[str, int]]:
    """The page rows ``obj``'s change in this flush needs (see the module doc); ``whole``: the
    object is new or deleted in this flush."""
    if isinstance(obj, Enterprise):
        if not _was_or_is(obj, "status", Status.CERTIFIED, whole) or not (whole or _changed_attrs(obj)):
            return set()
        keys = {(PAGE_ENT, obj.id)} if obj.id is not None else set()
        return keys | ({(PAGE_LISTS, 0)} if _structural(obj, whole) else set())
    if isinstance(obj, Shop):
        ent_id = obj.enterprise_id or (obj.enterprise.id if obj.enterprise else None)
        ent_status = session.connection().execute(
            select(Enterprise.status).where(Enterprise.id == ent_id)).scalar() if ent_id else None
        if not ent_id or ent_status != Status.CERTIFIED or not _was_or_is(obj, "status", Status.CERTIFIED, whole):
            return set()  # not shown anywhere (an enterprise status change brings its own rows)
        if not (whole or _changed_attrs(obj)):
            return set()
        return {(PAGE_ENT, ent_id)} | ({(PAGE_LISTS, 0)} if _structural(obj, whole) else set())
    if isinstance(obj, Brand):
        ent_id = obj.enterprise_id or (obj.enterprise.id if obj.enterprise else None)
        ent_status = session.connection().execute(
            select(Enterprise.status).where(Enterprise.id == ent_id)).scalar() if ent_id else None
        return {(PAGE_ENT, ent_id)} if ent_id and ent_status == Status.CERTIFIED else set()
    if isinstance(obj, (Certification, FeaturedSlot)):
        ent_id = obj.enterprise_id or (obj.enterprise.id if obj.enterprise else None)
        return {(PAGE_LISTS, 0)} | ({(PAGE_ENT, ent_id)} if ent_id else set())
    if isinstance(obj, (Product, ProductLink, ProductPhoto)):
        return _product_keys(obj, whole)
    return {(PAGE_ALL, 0)}


def _product_keys(obj, whole: bool) -> set[tuple[str, int]]:
    """A product shows on its page, /products, search and its enterprise's page, and only once
    approved: a pending product (or a photo or link of one) drops nothing public. An approved
    one drops its enterprise's pages (every page that showed it also loaded that enterprise)
    and the lists."""
    product = obj if isinstance(obj, Product) else obj.product
    if product is None:
        return {(PAGE_ALL, 0)}  # an orphaned photo or link: not worth working out
    if not _was_or_is(product, "status", ProductStatus.APPROVED, whole and product is obj):
        return set()
    ent_id = product.enterprise_id or (product.enterprise.id if product.enterprise else None)
    return {(PAGE_LISTS, 0)} | ({(PAGE_ENT, ent_id)} if ent_id else set())


def _was_or_is(obj, attr: str, value, whole: bool) -> bool:
    """Whether ``obj.attr`` equals ``value`` now or may have before this flush (a value set on an
    expired attribute has no old value in its history: then it may have been)."""
    if getattr(obj, attr) == value:
        return True
    hist = sa_inspect(obj).attrs[attr].history
    return value in (hist.deleted or ()) or bool(not whole and hist.added and not hist.deleted)


def _changed_attrs(obj) -> set[str]:
    """The columns and own relationships (``OWN_RELATIONSHIPS``) of ``obj`` this flush changes."""
    state = sa_inspect(obj)
    columns = {a.key for a in state.mapper.column_attrs}
    return {a.key for a in state.attrs
            if (a.key in columns or a.key in OWN_RELATIONSHIPS) and a.history.has_changes()}


def _structural(obj, whole: bool) -> bool:
    """New, deleted, or a change of anything beyond the content-only attributes."""
    return whole or bool(_changed_attrs(obj) - CONTENT_ONLY[type(obj)])


# ------------------------------------------------------------------ read side

class ChangeTracker:
    """This process's view of which pages changed when (see the module doc)."""

    def __init__(self, app: Flask, load_texts: Callable):
        self.app = app
        # ``load_texts(enterprise_ids, session) -> {id: normalised searchable text}``
        # (search_sync.documents.listing_texts; passed in because search_sync imports this module)
        self.load_texts = load_texts
        self.lock = threading.Lock()
        self.head: int | None = None  # highest outbox id seen (the directory version)
        self.low = 0  # rows at or below this id are older than GRACE: not read again
        self.pending_lows: list[tuple[float, int]] = []  # (when seen, head): future values of low
        self.seen: set[int] = set()  # ids above ``low`` already taken into account
        # per enterprise id, and "lists" / "all": (when this process saw it, outbox id) of recent rows
        self.changes: dict[int | str, list[tuple[float, int]]] = {}
        # content changes of enterprises (page_ent rows): (when seen, outbox id, enterprise id),
        # and each changed enterprise's searchable text read when its last change was seen
        # (None: not read, e.g. changes from before this process started; matches any word)
        self.text_changes: list[tuple[float, int, int]] = []
        self.texts: dict[int, str | None] = {}
        self.lists_version = 0  # bumped on every lists/all change (the catalog cache's key)
        self.checked_at = -math.inf
        self.pruned_at = machine_time()

    def max_page_age(self) -> float:
        cfg = self.app.config
        return float(cfg.get("PAGE_CACHE_SECONDS") or 0) + float(cfg.get("PAGE_CACHE_STALE_SECONDS") or 0)

    def poll(self, force: bool = False) -> None:
        """Read outbox rows not seen yet (at most every PAGE_CACHE_CHECK_SECONDS)."""
        interval = float(self.app.config.get("PAGE_CACHE_CHECK_SECONDS", 0.5))
        now_mono = monotonic()
        if not force and now_mono - self.checked_at < interval:
            return
        with self.app.app_context():
            session = db.session
            if self.head is None:
                self._start(session)
            else:
                rows = session.execute(select(SearchOutbox.id, SearchOutbox.entity, SearchOutbox.entity_id)
                                       .where(SearchOutbox.id > self.low)).all()
                new = [(r.id, r.entity, r.entity_id) for r in rows if r.id not in self.seen]
                changed = {ent_id for _id, kind, ent_id in new if kind == PAGE_ENT}
                texts = self.load_texts(changed, session) if changed else {}
                self._take(new, machine_time(), texts)
            # COMMIT, not the ROLLBACK the context's teardown would send: psycopg forgets every
            # prepared statement of a connection at a ROLLBACK, and the next requests on it were
            # parsed and planned again (1 ms of PostgreSQL CPU for an enterprise page's read).
            session.commit()
        self.checked_at = now_mono

    def _start(self, session) -> None:
        """First look: changes of the last max-page-age + 2 GRACE seconds count as seen GRACE s after
        they were written (or now, if sooner), so shared pages rendered before them are refused
        unless their renderer had seen them."""
        head = int(session.scalar(select(func.max(SearchOutbox.id))) or 0)
        started = machine_time()
        cutoff = _naive_utc_from(started - self.max_page_age() - 2 * GRACE)
        rows = session.execute(select(SearchOutbox.id, SearchOutbox.entity, SearchOutbox.entity_id,
                                      SearchOutbox.created_at)
                               .where(SearchOutbox.id <= head, SearchOutbox.created_at >= cutoff)).all()
        for row in rows:  # committed by now; possibly as late as GRACE after it was written
            written = row.created_at.replace(tzinfo=timezone.utc).timestamp()
            self._note(row.entity, row.entity_id, row.id, min(written + GRACE, started))
        with self.lock:
            self.head = self.low = head
            self.lists_version += 1

    def _note(self, kind: str, entity_id: int, row_id: int, seen_at: float, texts: dict | None = None) -> None:
        if kind == PAGE_ENT:
            tag: int | str = entity_id
            self.text_changes.append((seen_at, row_id, entity_id))
            self.texts[entity_id] = texts.get(entity_id) if texts is not None else None
        elif kind == PAGE_LISTS:
            tag = "lists"
        elif kind in SEARCH_KINDS:
            return
        else:  # page_all, news, anything unknown
            tag = "all"
        self.changes.setdefault(tag, []).append((seen_at, row_id))
        if tag != entity_id:
            self.lists_version += 1

    def _take(self, rows, seen_at: float, texts: dict[int, str]) -> None:
        with self.lock:
            for row_id, kind, entity_id in rows:
                self._note(kind, entity_id, row_id, seen_at, texts)
                self.seen.add(row_id)
                self.head = max(self.head or 0, row_id)
            self.pending_lows.append((seen_at, self.head or 0))
            while self.pending_lows and self.pending_lows[0][0] <= seen_at - GRACE:
                self.low = max(self.low, self.pending_lows.pop(0)[1])
            self.seen = {i for i in self.seen if i > self.low}
            if seen_at - self.pruned_at > 60:  # forget what no live page can predate
                horizon = seen_at - self.max_page_age() - 2 * GRACE
                self.changes = {k: kept for k, v in self.changes.items() if (kept := [c for c in v if c[0] > horizon])}
                self.text_changes = [c for c in self.text_changes if c[0] > horizon]
                alive = {c[2] for c in self.text_changes}
                self.texts = {k: v for k, v in self.texts.items() if k in alive}
                self.pruned_at = seen_at

    def known(self) -> tuple[int, frozenset[int]]:
        """What this process has seen, for a page about to be rendered: the head and the ids up to
        it not seen (yet). A page is not outdated by a row its renderer had seen."""
        head = self.head or 0
        with self.lock:
            if head - self.low > 5000:  # a bulk change just now: claim only what is GRACE old
                return self.low, frozenset()
            return head, frozenset(set(range(self.low + 1, head + 1)) - self.seen)

    def valid(self, rendered_at: float, known: tuple[int, frozenset[int]], shown, lists: bool,
              text: bool | TextNeed = False) -> bool:
        """Whether a page rendered at ``rendered_at`` (knowing ``known``) that showed ``shown`` is
        still what it would be now. ``lists``: it also depends on which listings exist and their
        order; ``text``: on other listings' content too (search results): True for any
        listing's, a ``TextNeed`` for those it names."""
        changes = self.changes
        tags = [*shown, "all", "lists"] if lists else [*shown, "all"]
        head, gaps = known
        for tag in tags:
            for seen_at, row_id in changes.get(tag, ()):
                if seen_at >= rendered_at and (row_id > head or row_id in gaps):
                    return False
        return not text or self._text_valid(rendered_at, head, gaps, text)

    def _text_valid(self, rendered_at: float, head: int, gaps: frozenset[int], need: bool | TextNeed) -> bool:
        """No content change seen since ``rendered_at`` can alter the search ``need`` describes."""
        for seen_at, row_id, ent_id in self.text_changes:
            if seen_at < rendered_at or not (row_id > head or row_id in gaps):
                continue
            if need is True or ent_id in need.matched:
                return False
            text = self.texts.get(ent_id)
            if text is None or any(word in text for word in need.words):
                return False
        return True


def _naive_utc_from(ts: float):
    from datetime import datetime

    return datetime.fromtimestamp(ts, timezone.utc).replace(tzinfo=None)


def tracker(app: Flask | None = None) -> ChangeTracker:
    """The app's tracker (made by ``page_cache.init_app``)."""
    return (app or current_app).extensions["page_changes"]


# ------------------------------------------------------------------ what a page shows

def start_recording(environ) -> None:
    """Record, for this request, the enterprises the ORM loads (a page cache candidate)."""
    environ[_ENV_SHOWN] = set()


def note_shown(enterprise_ids) -> None:
    """Record enterprises a page shows without loading them through the ORM (list cards read
    with column queries, ``services.catalog.cards``)."""
    if has_request_context():
        ids = request.environ.get(_ENV_SHOWN)
        if ids is not None:
            ids.update(enterprise_ids)


def shown(environ) -> frozenset[int]:
    return frozenset(environ.get(_ENV_SHOWN) or ())


def _loaded(target, context, attrs=None) -> None:
    if not has_request_context():
        return
    ids = request.environ.get(_ENV_SHOWN)
    # Only what the page's own session loads: the search applier catching up inside the request
    # loads other enterprises in a session of its own, and the page does not show them.
    if ids is not None and context.session is db.session():
        # read the loaded values only: an attribute access here could load more
        ent_id = target.__dict__.get("id" if isinstance(target, Enterprise) else "enterprise_id")
        if ent_id is not None:
            ids.add(ent_id)


_WROTE = "page_changes.wrote_outbox"


def note_written(session) -> None:
    """The outbox listener wrote rows in ``session``'s transaction (see ``_committed``)."""
    session.info[_WROTE] = True


def _committed(session) -> None:
    """Rows this process just committed are read at its next request, not up to
    PAGE_CACHE_CHECK_SECONDS later: whoever made a change (staff featuring an enterprise,
    approving an edit) sees it on the next page served by the same worker, even where that
    page is built from kept data (the catalog aggregates, cards). Other workers see it within
    the interval, as before."""
    if session.info.pop(_WROTE, False) and has_app_context():
        changes = current_app.extensions.get("page_changes")
        if changes is not None:
            changes.checked_at = -math.inf


_installed = False


def install_listeners() -> None:
    """Note every Enterprise and Shop loaded while a cacheable page renders, and look at the
    outbox again after a commit that wrote to it (once per process)."""
    global _installed
    if not _installed:
        for cls in (Enterprise, Shop):  # "refresh": already in the session, expired (tests share it)
            event.listen(cls, "load", _loaded)
            event.listen(cls, "refresh", _loaded)
        event.listen(Session, "after_commit", _committed)
        _installed = True
