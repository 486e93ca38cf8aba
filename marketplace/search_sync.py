"""The only bridge between the database and ``search_index``.

Design (DESIGN.md "Data flow"):

1. **Outbox in the same transaction.** An ``after_flush`` listener on the session writes one
   ``SearchOutbox`` row per changed indexed entity (enterprise / shop / platform) with the same
   connection, so the rows commit or roll back with the change itself: a rollback indexes
   nothing, and nothing committed is ever missed. Changes made with bulk SQL (which the ORM does
   not see) call ``enqueue(entity, ids)``.
2. **Idempotent applier.** ``apply_pending()`` reads outbox rows past the checkpoint stored in
   the index directory, re-reads each entity's CURRENT state and replaces or deletes its
   document. Replaying a row is harmless, so a crash between the Whoosh commit and the
   checkpoint write only causes a replay. On PostgreSQL, sequence values are not handed out in
   commit order: the checkpoint only moves past a gap in ids once the gap is ``GAP_GRACE``
   seconds old (a rolled-back transaction), so a slow transaction's row is never skipped.
3. **One writer, nobody waits.** The applier takes the engine's non-blocking ``flock``; when
   another thread or process holds it, this turn is skipped (that holder is applying the same
   rows). Requests therefore never wait on, nor see, Whoosh's ``LockError``.
4. **No daemon in the embedded default** (``SEARCH_SYNC_INLINE=true``): every web process starts
   a background applier thread on its first request that runs every ``SEARCH_SYNC_INTERVAL``
   seconds, and a search first applies pending rows itself when the checkpoint lags behind the
   outbox (bounded batch, non-blocking lock). So a change committed in any process is searchable
   in every process within about one interval (< 2 s), and a search right after a commit in
   the same process already sees it. Each process's searcher notices new index generations
   by itself. With ``SEARCH_SYNC_INLINE=false`` (gunicorn + ``flask search sync --loop``) the
   web workers only read.
5. **Self-healing.** A missing or damaged index is rebuilt (into a new directory, swapped in
   atomically) at start, by the applier thread, or on the first search that notices; meanwhile
   searches are answered from the database. ``check_consistency`` compares the content digest
   of every public row with the index and repairs differences (hourly in the applier thread,
   and ``flask search check``).
6. **The database has the last word.** Search hits are loaded from the database by id and
   anything no longer public is dropped, so a stale index can never show a revoked listing.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy import event, func, insert, or_, select
from sqlalchemy.orm import Session, selectinload

from search_index import IndexUnavailable, LockBusy, SearchEngine, SearchRequest, SearchResponse
from search_index.schema import doc_digest, doc_key

from .extensions import db
from .models import (
    Badge, Brand, Certification, Enterprise, FeaturedSlot, Industry, Platform, SearchOutbox, Shop, Status,
    enterprise_badge, enterprise_industry, utcnow,
)

log = logging.getLogger(__name__)

ENTITIES = ("enterprise", "shop", "platform")
GAP_GRACE = 10.0  # seconds before a hole in outbox ids is taken to be a rollback
INLINE_BATCH = 500  # rows a search applies itself before answering
CHECK_EVERY = 3600.0  # seconds between consistency checks in the applier thread
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


# =============================================================== outbox writing

def _keys_for(obj, session: Session) -> set[tuple[str, int]]:
    """The indexed entities an ORM object's change affects."""
    conn = session.connection()
    keys: set[tuple[str, int]] = set()

    def ent_and_shops(ent_id):
        if ent_id is None:
            return
        keys.add(("enterprise", ent_id))
        for sid in conn.execute(select(Shop.id).where(Shop.enterprise_id == ent_id)).scalars():
            keys.add(("shop", sid))

    if isinstance(obj, Enterprise):
        ent_and_shops(obj.id)
        # shops deleted with the enterprise are in session.deleted themselves
    elif isinstance(obj, Shop):
        if obj.id is not None:
            keys.add(("shop", obj.id))
        keys.add(("enterprise", obj.enterprise_id or (obj.enterprise.id if obj.enterprise else None)))
    elif isinstance(obj, Brand):
        ent_and_shops(obj.enterprise_id or (obj.enterprise.id if obj.enterprise else None))
    elif isinstance(obj, Platform):
        keys.add(("platform", obj.id))
    elif isinstance(obj, (Certification, FeaturedSlot)):
        keys.add(("enterprise", obj.enterprise_id or (obj.enterprise.id if obj.enterprise else None)))
    elif isinstance(obj, (Industry, Badge)) and obj.id is not None:
        table, col = (enterprise_industry, enterprise_industry.c.industry_id) if isinstance(obj, Industry) \
            else (enterprise_badge, enterprise_badge.c.badge_id)
        for ent_id in conn.execute(select(table.c.enterprise_id).where(col == obj.id)).scalars():
            ent_and_shops(ent_id)
    return {(k, i) for k, i in keys if i is not None}


_WATCHED = (Enterprise, Shop, Brand, Platform, Certification, FeaturedSlot, Industry, Badge)


def _after_flush(session: Session, flush_context) -> None:
    """Write outbox rows for every indexed entity touched by this flush (same transaction)."""
    keys: set[tuple[str, int]] = set()
    for obj in list(session.new) + list(session.deleted):
        if isinstance(obj, _WATCHED):
            keys |= _keys_for(obj, session)
    for obj in list(session.dirty):
        if isinstance(obj, _WATCHED) and session.is_modified(obj, include_collections=True):
            keys |= _keys_for(obj, session)
    if keys:
        now = utcnow()
        session.connection().execute(
            insert(SearchOutbox.__table__),
            [{"entity": e, "entity_id": int(i), "created_at": now} for e, i in sorted(keys)],
        )


def enqueue(entity: str, ids) -> int:
    """Queue re-indexing of ``ids`` of ``entity`` after bulk SQL the ORM listener cannot see.

    Runs in the caller's transaction (commit as usual). An enterprise also queues its shops."""
    if entity not in ENTITIES:
        raise ValueError(f"unknown entity {entity!r}")
    ids = sorted({int(i) for i in ids})
    if not ids:
        return 0
    rows = [{"entity": entity, "entity_id": i, "created_at": utcnow()} for i in ids]
    if entity == "enterprise":
        for chunk in _chunks(ids, 500):
            shop_ids = db.session.scalars(select(Shop.id).where(Shop.enterprise_id.in_(chunk))).all()
            rows += [{"entity": "shop", "entity_id": s, "created_at": utcnow()} for s in shop_ids]
    db.session.execute(insert(SearchOutbox.__table__), rows)
    return len(rows)


_listener_installed = False


def install_listener() -> None:
    """Register the after_flush listener once per process (every session of every app)."""
    global _listener_installed
    if not _listener_installed:
        event.listen(Session, "after_flush", _after_flush)
        _listener_installed = True


# =============================================================== documents from the database

def _chunks(seq, n):
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _enterprise_options():
    return (selectinload(Enterprise.brands), selectinload(Enterprise.industries),
            selectinload(Enterprise.badges), selectinload(Enterprise.shops).joinedload(Shop.platform))


def enterprise_doc(ent: Enterprise) -> dict:
    """The search document of a public enterprise."""
    shops = [s for s in ent.shops if s.status == Status.CERTIFIED]
    doc = {
        "kind": "enterprise", "id": ent.id, "name": ent.name, "brands": ent.brand_names,
        "enterprise_name": "", "description": ent.description or "",
        "city": ent.city.name if ent.city else "", "region": ent.city.region if ent.city else "",
        "industries": [i.name for i in ent.industries], "badges": [b.name for b in ent.badges],
        "platforms": sorted({s.platform.name for s in shops}),
        "shop_types": sorted({s.shop_type for s in shops}),
        "certified_at": ent.certified_at, "visits": int(ent.click_count or 0) + sum(int(s.click_count or 0) for s in shops),
    }
    doc["digest"] = doc_digest(doc)
    return doc


def shop_doc(shop: Shop) -> dict:
    """The search document of a public shop (it carries its enterprise's brands and facets)."""
    ent = shop.enterprise
    doc = {
        "kind": "shop", "id": shop.id, "name": shop.name, "brands": ent.brand_names,
        "enterprise_name": ent.name, "description": "",
        "city": ent.city.name if ent.city else "", "region": ent.city.region if ent.city else "",
        "industries": [i.name for i in ent.industries], "badges": [b.name for b in ent.badges],
        "platforms": [shop.platform.name], "shop_types": [shop.shop_type],
        "certified_at": shop.certified_at or ent.certified_at, "visits": int(shop.click_count or 0),
    }
    doc["digest"] = doc_digest(doc)
    return doc


def platform_doc(p: Platform) -> dict:
    """The search document of an active platform."""
    doc = {
        "kind": "platform", "id": p.id, "name": p.name, "brands": [], "enterprise_name": "",
        "description": " ".join(x for x in (p.kind, p.description) if x),
        "city": "", "region": "", "industries": [], "badges": [], "platforms": [p.name],
        "shop_types": [], "certified_at": None, "visits": 0,
    }
    doc["digest"] = doc_digest(doc)
    return doc


def build_documents(keys, session=None) -> tuple[list[dict], list[str]]:
    """Current documents for ``keys`` ((entity, id) pairs) and the keys to delete (gone or not
    public any more)."""
    session = session or db.session
    by_kind: dict[str, set[int]] = {k: set() for k in ENTITIES}
    for entity, ident in keys:
        if entity in by_kind:
            by_kind[entity].add(int(ident))
    docs: list[dict] = []
    deletes: list[str] = []
    for chunk in _chunks(sorted(by_kind["enterprise"]), 500):
        found = {e.id: e for e in session.scalars(
            select(Enterprise).where(Enterprise.id.in_(chunk)).options(*_enterprise_options()))}
        for i in chunk:
            e = found.get(i)
            if e is not None and e.status == Status.CERTIFIED:
                docs.append(enterprise_doc(e))
            else:
                deletes.append(doc_key("enterprise", i))
    for chunk in _chunks(sorted(by_kind["shop"]), 500):
        found = {s.id: s for s in session.scalars(
            select(Shop).where(Shop.id.in_(chunk)).options(
                selectinload(Shop.enterprise).options(
                    selectinload(Enterprise.brands), selectinload(Enterprise.industries),
                    selectinload(Enterprise.badges))))}
        for i in chunk:
            s = found.get(i)
            if s is not None and s.status == Status.CERTIFIED and s.enterprise.status == Status.CERTIFIED:
                docs.append(shop_doc(s))
            else:
                deletes.append(doc_key("shop", i))
    if by_kind["platform"]:
        ids = sorted(by_kind["platform"])
        found = {p.id: p for p in session.scalars(select(Platform).where(Platform.id.in_(ids)))}
        for i in ids:
            p = found.get(i)
            if p is not None and p.active:
                docs.append(platform_doc(p))
            else:
                deletes.append(doc_key("platform", i))
    return docs, deletes


def count_public(session=None) -> int:
    """How many documents a full index holds (for progress bars)."""
    session = session or db.session
    ents = session.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.status == Status.CERTIFIED))
    shops = session.scalar(
        select(func.count()).select_from(Shop).join(Shop.enterprise)
        .where(Shop.status == Status.CERTIFIED, Enterprise.status == Status.CERTIFIED))
    plats = session.scalar(select(func.count()).select_from(Platform).where(Platform.active.is_(True)))
    return int(ents or 0) + int(shops or 0) + int(plats or 0)


def iter_all_documents(session=None, batch: int = 1000):
    """Every public document, read in id-ordered batches (memory stays flat)."""
    session = session or db.session
    last = 0
    while True:
        ents = session.scalars(
            select(Enterprise).where(Enterprise.status == Status.CERTIFIED, Enterprise.id > last)
            .order_by(Enterprise.id).limit(batch).options(*_enterprise_options())).all()
        if not ents:
            break
        for e in ents:
            yield enterprise_doc(e)
            for s in e.shops:
                if s.status == Status.CERTIFIED:
                    s.enterprise = e
                    yield shop_doc(s)
        last = ents[-1].id
        session.expunge_all()
    for p in session.scalars(select(Platform).where(Platform.active.is_(True)).order_by(Platform.id)):
        yield platform_doc(p)


# =============================================================== applying

def outbox_head(session=None) -> int:
    """The highest outbox id (0 when empty)."""
    return int((session or db.session).scalar(select(func.max(SearchOutbox.id))) or 0)


def _advance(checkpoint: int, rows) -> int:
    """The new checkpoint after ``rows`` (sorted by id): contiguous ids, or past a gap that is
    older than GAP_GRACE seconds (a rolled-back transaction rather than a slow one)."""
    cp = checkpoint
    now = utcnow()
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
            if not engine.exists():
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
    checkpoint = outbox_head(session)
    session.rollback()
    stats = engine.rebuild(iter_all_documents(session), checkpoint, progress=progress)
    session.rollback()
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


@dataclass
class ConsistencyReport:
    expected: int = 0
    indexed: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.stale)


def check_consistency(repair: bool = True) -> ConsistencyReport:
    """Compare every public row's document digest with the index; optionally repair.

    Differences come from lost outbox rows (bulk SQL without ``enqueue``, manual database
    edits) or an index restored from a backup; the repair re-indexes exactly those keys."""
    engine = get_engine()
    with _private_session() as session:
        expected = {doc_key(d["kind"], d["id"]): d["digest"] for d in iter_all_documents(session)}
        session.rollback()
        actual = engine.digests()
        rep = ConsistencyReport(expected=len(expected), indexed=len(actual))
        rep.missing = sorted(k for k in expected if k not in actual)
        rep.extra = sorted(k for k in actual if k not in expected)
        rep.stale = sorted(k for k in expected if k in actual and actual[k] != expected[k])
        if repair and not rep.ok:
            keys = [(k.split(":")[0], int(k.split(":")[1])) for k in rep.missing + rep.extra + rep.stale]
            with engine.write_lock(blocking=True, timeout=60):
                docs, deletes = build_documents(keys, session)
                session.rollback()
                engine.apply(docs, deletes)
            rep.repaired = True
    return rep


# =============================================================== the background applier

class _Applier(threading.Thread):
    """Per-process background applier (embedded default)."""

    def __init__(self, app: Flask):
        super().__init__(name="search-applier", daemon=True)
        self.app = app
        self.interval = max(0.2, float(app.config["SEARCH_SYNC_INTERVAL"]))
        self.stop_event = threading.Event()
        self.last_check = time.monotonic()

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
                    if time.monotonic() - self.last_check > CHECK_EVERY:
                        self.last_check = time.monotonic()
                        check_consistency(repair=True)
                except Exception:  # noqa: BLE001 - never let the thread die
                    log.exception("search applier pass failed")
                    db.session.rollback()
                finally:
                    db.session.remove()


def sync_loop(interval: float, stop: threading.Event | None = None, check_every: float = CHECK_EVERY) -> None:
    """The deployment applier (``flask search sync --loop``): apply, sleep, repeat."""
    ensure_index()
    last_check = time.monotonic()
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            apply_pending()
            if time.monotonic() - last_check > check_every:
                last_check = time.monotonic()
                check_consistency(repair=True)
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
            head = outbox_head(session)
        if head > engine.checkpoint():
            apply_pending(max_rows=INLINE_BATCH, blocking=False, engine=engine)
    except Exception:  # noqa: BLE001 - a search must still answer
        log.exception("search catch-up failed")


# =============================================================== searching for the views

@dataclass
class ResolvedHit:
    kind: str
    id: int
    obj: object  # Enterprise | Shop | Platform
    highlight: str | None
    score: float


@dataclass
class SearchOutcome:
    response: SearchResponse
    hits: list[ResolvedHit]
    degraded: bool = False  # answered from the database while the index is rebuilt


def search(req: SearchRequest) -> SearchOutcome:
    """Search for a view: catch up, ask the engine, load hits from the database, drop anything
    no longer public. Falls back to a plain database search when the index is unavailable."""
    app = current_app._get_current_object()
    catch_up()
    engine = get_engine()
    try:
        resp = engine.search(req)
    except IndexUnavailable as exc:
        log.warning("search index unavailable (%s)", exc)
        if _small_database():
            ensure_index(force=True)
            try:
                resp = engine.search(req)
            except IndexUnavailable:
                return _fallback_search(req)
        else:
            _schedule_rebuild(app)
            return _fallback_search(req)
    return SearchOutcome(response=resp, hits=resolve(resp))


def _small_database() -> bool:
    try:
        with _private_session() as session:
            return count_public(session) <= SMALL_INDEX
    except Exception:  # noqa: BLE001
        return False


def resolve(resp: SearchResponse) -> list[ResolvedHit]:
    """Load the hits' rows by id and keep only the public ones, in the engine's order."""
    want = {k: [h.id for h in resp.hits if h.kind == k] for k in ENTITIES}
    objs = {}
    if want["enterprise"]:
        for e in db.session.scalars(select(Enterprise).where(
                Enterprise.id.in_(want["enterprise"]), Enterprise.status == Status.CERTIFIED)
                .options(selectinload(Enterprise.brands), selectinload(Enterprise.industries),
                         selectinload(Enterprise.badges))):
            objs[("enterprise", e.id)] = e
    if want["shop"]:
        for s in db.session.scalars(select(Shop).join(Shop.enterprise).where(
                Shop.id.in_(want["shop"]), Shop.status == Status.CERTIFIED,
                Enterprise.status == Status.CERTIFIED)
                .options(selectinload(Shop.enterprise).selectinload(Enterprise.industries))):
            objs[("shop", s.id)] = s
    if want["platform"]:
        for p in db.session.scalars(select(Platform).where(Platform.id.in_(want["platform"]),
                                                           Platform.active.is_(True))):
            objs[("platform", p.id)] = p
    out = []
    for h in resp.hits:
        obj = objs.get((h.kind, h.id))
        if obj is not None:
            out.append(ResolvedHit(kind=h.kind, id=h.id, obj=obj, highlight=h.highlight, score=h.score))
    return out


def _fallback_search(req: SearchRequest) -> SearchOutcome:
    """A plain database search of enterprise names and brands (index being rebuilt)."""
    from search_index.query import clean_query, highlight, parse

    text = clean_query(req.q)
    q = select(Enterprise).where(Enterprise.status == Status.CERTIFIED)
    words = text.split()[:5]
    for w in words:
        like = Enterprise.brands.any(Brand.name.contains(w, autoescape=True))
        q = q.where(or_(Enterprise.name.contains(w, autoescape=True), like,
                        Enterprise.description.contains(w, autoescape=True)))
    total = db.session.scalar(select(func.count()).select_from(q.subquery())) or 0
    per_page = max(1, min(100, req.per_page))
    ents = db.session.scalars(q.order_by(Enterprise.certified_at.desc(), Enterprise.id.desc())
                              .offset((max(1, req.page) - 1) * per_page).limit(per_page)
                              .options(selectinload(Enterprise.brands), selectinload(Enterprise.industries))).all()
    tokens = parse(text).tokens
    hits = [ResolvedHit(kind="enterprise", id=e.id, obj=e, highlight=highlight(e.description, tokens), score=0.0)
            for e in ents]
    resp = SearchResponse(query=text, total=int(total), page=max(1, req.page), per_page=per_page, hits=[],
                          facets={f: [] for f in ("industry", "city", "region", "platform", "shop_type", "badge")})
    return SearchOutcome(response=resp, hits=hits, degraded=True)


def suggest(prefix: str, limit: int = 10):
    """Autocomplete suggestions (engine), public rows only; empty while the index is down."""
    catch_up()
    engine = get_engine()
    try:
        items = engine.suggest(prefix, limit=limit * 2)
    except IndexUnavailable:
        if not _small_database():
            _schedule_rebuild(current_app._get_current_object())
            return []
        ensure_index(force=True)
        try:
            items = engine.suggest(prefix, limit=limit * 2)
        except IndexUnavailable:
            return []
    ent_ids = [s.id for s in items if s.kind == "enterprise"]
    public = set()
    if ent_ids:
        public = set(db.session.scalars(select(Enterprise.id).where(
            Enterprise.id.in_(ent_ids), Enterprise.status == Status.CERTIFIED)))
    plat_ids = [s.id for s in items if s.kind == "platform"]
    if plat_ids:
        public |= {("p", i) for i in db.session.scalars(select(Platform.id).where(
            Platform.id.in_(plat_ids), Platform.active.is_(True)))}
    out = [s for s in items if (s.kind == "enterprise" and s.id in public) or
           (s.kind == "platform" and ("p", s.id) in public)]
    return out[:limit]


def status() -> dict:
    """Index status plus lag behind the outbox (for ``flask search status``)."""
    engine = get_engine()
    info = engine.status()
    head = outbox_head()
    info["outbox_head"] = head
    info["lag"] = max(0, head - (info["checkpoint"] or 0))
    info["pending_rows"] = int(db.session.scalar(
        select(func.count()).select_from(SearchOutbox).where(SearchOutbox.id > (info["checkpoint"] or 0))) or 0)
    return info


# =============================================================== wiring

def init_app(app: Flask) -> None:
    """Install the outbox listener and, in inline mode, start this process's applier thread on
    its first request (never in CLI commands, never in tests unless asked)."""
    install_listener()
    app.extensions["search_sync"] = {"thread": None}
    state = app.extensions["search_sync"]
    lock = threading.Lock()

    @app.before_request
    def _start_applier():
        if state["thread"] is not None or not app.config["SEARCH_SYNC_INLINE"]:
            return
        if app.testing and not app.config.get("SEARCH_SYNC_THREAD"):
            return
        with lock:
            if state["thread"] is None or state.get("pid") != os.getpid():
                t = _Applier(app)
                state["thread"], state["pid"] = t, os.getpid()
                t.start()


def register_cli(app: Flask) -> None:
    """``flask search rebuild|status|sync|check``."""
    import click

    @app.cli.group("search")
    def search_group():
        """搜索索引管理：重建、状态、同步、一致性检查。"""

    @search_group.command("rebuild")
    def rebuild_command():
        """Rebuild the whole index into a new directory and swap it in atomically."""
        from tqdm import tqdm

        total = count_public()
        db.session.rollback()
        with tqdm(total=total, unit="条", desc="重建索引", disable=None) as bar:
            stats = rebuild(progress=bar.update, wait=True)
        if stats is None:
            raise click.ClickException("索引正被其他进程写入，请稍后再试。")
        click.echo(f"已重建索引：{stats['documents']} 条文档，用时 {stats['seconds']} 秒（{stats['path']}）")

    @search_group.command("status")
    def status_command():
        """Documents, segments, checkpoint and lag behind the outbox."""
        info = status()
        click.echo(f"索引目录：{info['path'] or '（不存在）'}")
        click.echo(f"状态：{'正常' if info['healthy'] else '不可用 ' + str(info['error'])}")
        click.echo(f"文档数：{info['documents']}")
        click.echo(f"段数：{info['segments']}")
        click.echo(f"检查点：{info['checkpoint']}（变更队列最新 {info['outbox_head']}，落后 {info['lag']}，"
                   f"待处理 {info['pending_rows']} 行）")
        click.echo(f"大小：{info['size_bytes'] / 1024:.0f} KB")

    @search_group.command("sync")
    @click.option("--loop", is_flag=True, help="持续运行（每台机器一个），按 SEARCH_SYNC_INTERVAL 间隔同步")
    def sync_command(loop):
        """Apply pending outbox rows to the index (once, or forever with --loop)."""
        if loop:
            click.echo(f"搜索同步进程已启动（间隔 {app.config['SEARCH_SYNC_INTERVAL']} 秒），Ctrl+C 停止。")
            try:
                sync_loop(float(app.config["SEARCH_SYNC_INTERVAL"]))
            except KeyboardInterrupt:
                pass
            return
        ensure_index()
        n = apply_pending(blocking=True)
        click.echo(f"已同步 {n or 0} 条变更。检查点：{get_engine().checkpoint()}")

    @search_group.command("check")
    @click.option("--no-repair", is_flag=True, help="只报告，不修复")
    def check_command(no_repair):
        """Compare the index with the database and repair differences."""
        ensure_index()
        rep = check_consistency(repair=not no_repair)
        click.echo(f"数据库应有 {rep.expected} 条，索引中 {rep.indexed} 条；缺失 {len(rep.missing)}，"
                   f"多余 {len(rep.extra)}，过期 {len(rep.stale)}。")
        if rep.ok:
            click.echo("索引与数据库一致。")
        elif rep.repaired:
            click.echo("已修复差异。")
        else:
            raise SystemExit(1)
