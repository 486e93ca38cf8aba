"""The search engine: index lifecycle, writing, searching, facets, suggestions.

On-disk layout under the root directory (``SEARCH_INDEX_DIR``)::

    root/current -> gen-<time>-<random>     symlink to the live index generation
    root/gen-.../                             a Whoosh index + checkpoint.json + userdict.txt
    root/write.lock                           our single-writer lock (fcntl.flock)

* A rebuild writes a complete new generation and swaps the ``current`` symlink with
  ``os.replace`` (atomic on POSIX). Searches keep using the old generation until then; every
  search notices the swap by re-reading the symlink (one ``readlink`` call).
* The checkpoint (last applied outbox id) lives inside the generation directory, so it always
  describes exactly the index next to it: a swapped-in rebuild brings its own checkpoint.
* One writer at a time: ``write_lock()`` is a non-blocking ``flock`` on ``write.lock``; callers
  that do not get it skip their turn (``LockBusy``) instead of waiting on Whoosh's lock.
* Searchers are shared per process; a new one is opened when the index changed
  (``up_to_date``) and the old one is closed only after its last user is done with it.
* Facet counts and sorting read one ``meta`` column per document, decoded once per segment
  and cached by segment id, so a commit of one document does not re-read 100,000.
"""
from __future__ import annotations

import errno
import fcntl
import gc
import json
import logging
import os
import shutil
import threading
import time
import uuid
import warnings
from array import array
from collections import Counter
from itertools import compress
from contextlib import contextmanager
from itertools import chain
from dataclasses import dataclass, field
from typing import Callable, Iterable

from whoosh import index as whoosh_index
from whoosh import scoring
from whoosh.query import Or, Term
from whoosh.writing import CLEAR

from .analysis import append_user_dictionary, has_cjk, initials_variants, load_user_dictionary, normalize, pinyin_variants
from .fastpath import PostingCache, query_scores, top_ranked, top_scored
from .query import ParsedQuery, highlight, parse
from .schema import FACET_FIELDS, KINDS, RebuildCodec, build_schema, decode_meta, dictionary_words, doc_key, to_fields

log = logging.getLogger(__name__)

CURRENT = "current"
CHECKPOINT_FILE = "checkpoint.json"
USERDICT_FILE = "userdict.txt"
SORTS = ("relevance", "newest", "visits")
# TF-IDF with the schema's field boosts (brand > name > description) and document boosts
# (badges). BM25F ranked the same in our tests but reads every matching document's field
# length, which made broad queries ~40% slower.
WEIGHTING = scoring.TF_IDF()
FEW_RESULTS = 3
# Memory for Whoosh's posting pool in a rebuild (its own estimate, ~190 bytes per posting).
# 100,000 listings make ~5 million postings: with 1 GB they are sorted in memory in one run
# (rebuild 67 s, peak RSS 1.4 GB); with 256 MB Whoosh spills four runs to disk and merges them
# in Python (101 s, 0.6 GB).
REBUILD_LIMITMB = 1024
# Decoded postings kept per searcher (about 12 bytes each): see fastpath.PostingCache.
POSTING_CACHE = 1_000_000
# Facets counted together (few distinct combinations per group): see _filter_and_count.
FACET_GROUPS = (("city", "region"), ("platform", "shop_type"), ("industry", "badge"))


class IndexUnavailable(Exception):
    """The index is missing or damaged; callers rebuild it and answer from the database."""


class LockBusy(Exception):
    """Another thread or process is writing the index right now."""


@dataclass
class SearchRequest:
    """What to search: text, kind, facet filters (facet -> value), sort and page."""

    q: str = ""
    kind: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20


@dataclass
class Hit:
    kind: str
    id: int
    score: float
    name: str
    highlight: str | None


@dataclass
class SearchResponse:
    query: str
    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]
    suggestion: str | None = None
    partial: bool = False  # no document had every word; these match some of them
    fuzzy: bool = False  # Latin words were matched approximately
    tokens: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "query": self.query, "total": self.total, "page": self.page, "per_page": self.per_page,
            "hits": [h.__dict__ for h in self.hits],
            "facets": {f: [{"value": v, "count": c} for v, c in vals] for f, vals in self.facets.items()},
            "suggestion": self.suggestion, "partial": self.partial, "fuzzy": self.fuzzy,
        }


@dataclass
class Suggestion:
    text: str
    kind: str
    id: int


class _SearcherRef:
    """A searcher with a use count, closed when replaced and no longer used."""

    def __init__(self, searcher, gen_path, posting_cache: int = 0):
        self.searcher = searcher
        self.gen_path = gen_path
        self.users = 0
        self.retired = False
        self.metas = None
        self.arrays = None  # (signature id per docnum, kind code per docnum)
        self.ranks = {}  # sort name -> array: docnum -> position in that order
        self.live = None  # live (not deleted) docnums
        self.postings = PostingCache(posting_cache)  # decoded postings of this index state

    def release(self):
        self.users -= 1
        if self.retired and self.users <= 0:
            self.searcher.close()


class SearchEngine:
    """A Chinese directory index rooted at ``root``. Thread-safe; one instance per process."""

    def __init__(self, root: str, *, writer_timeout: float = 10.0, posting_cache: int = POSTING_CACHE):
        """``posting_cache``: how many decoded postings each searcher keeps (0 disables it)."""
        self.root = os.path.abspath(root)
        self.posting_cache = posting_cache
        self.writer_timeout = writer_timeout
        self._lock = threading.RLock()
        # Whoosh readers and searchers are not thread-safe (their files are read with shared
        # seek+read), and a race shows up as EOFError/ValueError that would be mistaken for a
        # damaged index. Searcher use is therefore serialised per process; gunicorn runs one
        # request thread per worker, so this only matters for the threaded dev server and the
        # background applier. Always taken before ``_lock``, never while holding it.
        self._use_lock = threading.RLock()
        self._ix = None
        self._ix_path = None
        self._ref: _SearcherRef | None = None
        self._segment_meta: dict[str, list] = {}
        self._thread_lock = threading.Lock()
        self._sig_ids: dict[tuple, int] = {}
        self._sigs: list[tuple] = []
        self._sig_sets: list[dict] = []  # per signature id: {facet: frozenset(values)}
        # per facet group: {group signature: id}, [group signature], [id per full signature]
        self._group_ids: list[dict] = [{} for _ in FACET_GROUPS]
        self._group_sigs: list[list] = [[] for _ in FACET_GROUPS]
        self._group_of: list[list] = [[] for _ in FACET_GROUPS]

    # ------------------------------------------------------------ layout and health

    @property
    def current_link(self) -> str:
        return os.path.join(self.root, CURRENT)

    def current_path(self) -> str | None:
        """The live generation directory, or None when there is none."""
        try:
            target = os.readlink(self.current_link)
        except OSError:
            return None
        path = os.path.join(self.root, target)
        return path if os.path.isdir(path) else None

    def exists(self) -> bool:
        path = self.current_path()
        return bool(path) and whoosh_index.exists_in(path)

    def health(self) -> tuple[bool, str]:
        """(ok, reason). Opens the index and reads it; any failure means it must be rebuilt."""
        if not self.current_path():
            return False, "missing"
        try:
            with self._searcher() as ref:
                ref.searcher.doc_count()
                self._metas(ref)
            return True, "ok"
        except IndexUnavailable as exc:
            return False, str(exc)

    def _open(self):
        """Open (or re-open after a swap) the live generation; raises IndexUnavailable."""
        path = self.current_path()
        if not path:
            raise IndexUnavailable("missing")
        if self._ix is not None and self._ix_path == path:
            return self._ix
        err = None
        with warnings.catch_warnings():
            # Whoosh leaves file objects open when it fails half-way through a damaged index;
            # they are finalised (quietly) here rather than warning at some random later moment.
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                load_user_dictionary(os.path.join(path, USERDICT_FILE))
                ix = whoosh_index.open_dir(path)
                ix.latest_generation()
                ix.searcher().close()
            except Exception as exc:  # EmptyIndexError, EOFError, IndexError, OSError, pickle errors
                err = f"damaged: {exc.__class__.__name__}: {exc}"
            if err:
                gc.collect()
        if err:
            raise IndexUnavailable(err)
        self._ix, self._ix_path = ix, path
        return ix

    @contextmanager
    def _searcher(self):
        """A current searcher for the duration of the ``with`` block (refreshed if stale).

        Only one thread uses the searcher at a time (see ``_use_lock``)."""
        with self._use_lock, self._searcher_ref() as ref:
            yield ref

    @contextmanager
    def _searcher_ref(self):
        with self._lock:
            try:
                ix = self._open()
                ref = self._ref
                if ref is None or ref.gen_path != self._ix_path or not ref.searcher.up_to_date():
                    load_user_dictionary(os.path.join(self._ix_path, USERDICT_FILE))
                    # A brand-new searcher rather than refresh(): refresh() hands the old
                    # reader's segment readers to the new one and closes the rest, which breaks
                    # other threads still searching with the old searcher.
                    new = ix.searcher(weighting=WEIGHTING)
                    if ref is not None:
                        ref.retired = True
                        if ref.users <= 0:
                            ref.searcher.close()
                    ref = self._ref = _SearcherRef(new, self._ix_path, self.posting_cache)
                ref.users += 1
            except IndexUnavailable:
                self._drop()
                raise
            except Exception as exc:
                self._drop()
                raise IndexUnavailable(f"damaged: {exc.__class__.__name__}: {exc}") from None
        try:
            yield ref
        except (EOFError, IndexError, OSError, ValueError, KeyError, AttributeError) as exc:
            with self._lock:
                self._drop()
            raise IndexUnavailable(f"damaged: {exc.__class__.__name__}: {exc}") from None
        finally:
            with self._lock:
                ref.release()

    def _drop(self):
        """Forget the open index and searcher (after damage or a swap)."""
        if self._ref is not None:
            self._ref.retired = True
            if self._ref.users <= 0:
                try:
                    self._ref.searcher.close()
                except Exception:  # noqa: BLE001 - closing a broken searcher
                    pass
        self._ref = None
        self._ix = None
        self._ix_path = None

    def close(self):
        with self._lock:
            self._drop()

    # ------------------------------------------------------------ locking and checkpoint

    @contextmanager
    def write_lock(self, blocking: bool = False, timeout: float | None = None):
        """Hold the single-writer lock. Non-blocking by default: raises LockBusy at once.

        ``flock`` locks belong to the open file, so two threads of one process exclude each
        other too; the kernel releases the lock when a process dies."""
        os.makedirs(self.root, exist_ok=True)
        fh = open(os.path.join(self.root, "write.lock"), "a+")
        try:
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if not blocking or (deadline is not None and time.monotonic() > deadline):
                        raise LockBusy("index is being written by another process") from None
                    time.sleep(0.05)
            yield
        finally:
            fh.close()  # releases the flock

    def checkpoint(self) -> int:
        """The last outbox id applied to the live index (0 when unknown)."""
        path = self.current_path()
        if not path:
            return 0
        return _read_checkpoint(path)

    def _write_checkpoint(self, path: str, value: int) -> None:
        tmp = os.path.join(path, f".{CHECKPOINT_FILE}.{uuid.uuid4().hex}")
        with open(tmp, "w") as fh:
            json.dump({"checkpoint": int(value), "at": time.time()}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, os.path.join(path, CHECKPOINT_FILE))

    # ------------------------------------------------------------ writing

    def apply(self, docs: Iterable[dict] = (), delete_keys: Iterable[str] = (), checkpoint: int | None = None) -> int:
        """Add/replace ``docs`` and delete ``delete_keys`` in one commit, then record ``checkpoint``.

        The caller must hold ``write_lock()``. Idempotent: applying the same change twice
        leaves the same index. Returns the number of documents written or deleted."""
        docs = list(docs)
        delete_keys = [k for k in delete_keys]
        ix = self._open()
        path = self._ix_path
        count = 0
        if docs or delete_keys:
            words = [w for d in docs for w in dictionary_words(d)]
            if words:
                append_user_dictionary(os.path.join(path, USERDICT_FILE), words)
            try:
                writer = ix.writer(timeout=self.writer_timeout)
            except Exception as exc:  # LockError after timeout, damaged TOC
                raise LockBusy(str(exc)) from exc
            try:
                for d in docs:
                    writer.update_document(**to_fields(d))
                    count += 1
                for k in delete_keys:
                    writer.delete_by_term("key", k)
                    count += 1
                writer.commit()  # MERGE_SMALL keeps the segment count logarithmic
            except BaseException:
                writer.cancel()
                raise
        if checkpoint is not None:
            self._write_checkpoint(path, checkpoint)
        return count

    def optimize(self) -> None:
        """Merge all segments into one (the caller holds ``write_lock()``)."""
        ix = self._open()
        ix.optimize()

    def rebuild(self, docs: Iterable[dict], checkpoint: int, *, progress: Callable[[int], None] | None = None,
                batch: int = 5000, procs: int = 1, limitmb: int = REBUILD_LIMITMB) -> dict:
        """Index ``docs`` into a fresh generation, then swap it in atomically.

        The caller holds ``write_lock()`` so no applier writes meanwhile; searches go on using
        the old generation. ``checkpoint`` is the outbox position the documents reflect (read
        BEFORE the documents): later changes are replayed by the applier. Returns stats."""
        os.makedirs(self.root, exist_ok=True)
        started = time.monotonic()
        name = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        path = os.path.join(self.root, name)
        os.makedirs(path)
        dict_path = os.path.join(path, USERDICT_FILE)
        open(dict_path, "a").close()
        try:
            ix = whoosh_index.create_in(path, build_schema())
            total = 0
            chunk: list[dict] = []

            def flush(writer):
                nonlocal total
                words = [w for d in chunk for w in dictionary_words(d)]
                if words:
                    append_user_dictionary(dict_path, words)
                for d in chunk:
                    writer.add_document(**to_fields(d))
                total += len(chunk)
                if progress:
                    progress(len(chunk))
                chunk.clear()

            kwargs = {"limitmb": limitmb, "codec": RebuildCodec()}
            if procs > 1:
                kwargs.update(procs=procs, multisegment=True)
            writer = ix.writer(**kwargs)
            try:
                for d in docs:
                    chunk.append(d)
                    if len(chunk) >= batch:
                        flush(writer)
                if chunk:
                    flush(writer)
                writer.commit(mergetype=CLEAR if procs <= 1 else None)
            except BaseException:
                writer.cancel()
                raise
            if procs > 1:
                ix.optimize()
            ix.close()
            self._write_checkpoint(path, checkpoint)
            self._swap(name)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        return {"documents": total, "seconds": round(time.monotonic() - started, 2), "path": path}

    def _swap(self, name: str) -> None:
        tmp = os.path.join(self.root, f".current-{uuid.uuid4().hex}")
        os.symlink(name, tmp)
        os.replace(tmp, self.current_link)
        with self._lock:
            self._drop()
        # keep the newest previous generation for processes still finishing a search in it
        gens = sorted((d for d in os.listdir(self.root) if d.startswith("gen-") and d != name),
                      key=lambda d: os.path.getmtime(os.path.join(self.root, d)))
        for old in gens[:-1]:
            shutil.rmtree(os.path.join(self.root, old), ignore_errors=True)

    def destroy(self) -> None:
        """Remove the whole index root (tests, and repair of an unreadable root)."""
        with self._lock:
            self._drop()
        shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------ reading helpers

    def _metas(self, ref: _SearcherRef) -> list:
        """Decoded meta per global document number for this searcher (cached per segment)."""
        if ref.metas is not None:
            return ref.metas
        flat: list = []
        live = set()
        subs = ref.searcher.leaf_searchers()
        for sub, offset in subs:
            reader = sub.reader()
            seg = getattr(reader, "segment", None)
            segid = seg().segment_id() if callable(seg) else None
            cache_key = f"{ref.gen_path}:{segid}" if segid else None
            metas = self._segment_meta.get(cache_key) if cache_key else None
            if metas is None:
                n = reader.doc_count_all()
                if reader.has_column("meta"):
                    creader = reader.column_reader("meta")
                    metas = [self._with_signature(decode_meta(creader[i])) for i in range(n)]
                else:
                    metas = [None] * n
                if cache_key:
                    self._segment_meta[cache_key] = metas
            if cache_key:
                live.add(cache_key)
            if len(flat) < offset:
                flat.extend([None] * (offset - len(flat)))
            flat.extend(metas)
        for key in list(self._segment_meta):
            if key not in live:
                del self._segment_meta[key]
        ref.metas = flat
        return flat

    def _with_signature(self, meta):
        """Append an integer id of the document's facet combination: documents sharing one
        (most shops of a brand) are counted together, so facet counting touches each distinct
        combination once instead of every value of every match."""
        if meta is None:
            return None
        with self._thread_lock:
            sid = self._sig_ids.get(meta[5])
            if sid is None:
                sid = self._sig_ids[meta[5]] = len(self._sigs)
                self._sigs.append(meta[5])
        return meta + (sid,)

    def _arrays(self, ref: _SearcherRef):
        """(signature id, kind code) per global document number, as flat arrays built once per
        searcher: facet counting then touches one integer per matching document."""
        if ref.arrays is None:
            metas = self._metas(ref)
            codes = {k: i + 1 for i, k in enumerate(KINDS)}
            sig = array("i", [-1 if m is None else m[6] for m in metas])
            kinds = bytes(0 if m is None else codes.get(m[0], 0) for m in metas)
            groups = []
            with self._thread_lock:
                for g, fields in enumerate(FACET_GROUPS):
                    ids, sigs, of = self._group_ids[g], self._group_sigs[g], self._group_of[g]
                    for full in self._sigs[len(of):]:
                        key = tuple(p for p in full if p[0] in fields)
                        gid = ids.get(key)
                        if gid is None:
                            gid = ids[key] = len(sigs)
                            sigs.append(key)
                        of.append(gid)
                    lookup = of + [-1]  # index -1 (no meta) maps to -1
                    groups.append(array("i", map(lookup.__getitem__, sig)))
            ref.arrays = (sig, kinds, groups)
        return ref.arrays

    def _rank(self, ref: _SearcherRef, sort: str):
        """docnum -> position when every document is ordered by ``sort`` (newest / visits),
        ties by document number, as the stable sort over Whoosh's docnum order gave."""
        rank = ref.ranks.get(sort)
        if rank is None:
            metas = self._metas(ref)
            col = 2 if sort == "newest" else 3
            order = sorted(range(len(metas)), key=lambda d: (-(metas[d][col] if metas[d] else 0), d))
            rank = array("i", bytes(4 * len(metas)))
            for pos, d in enumerate(order):
                rank[d] = pos
            ref.ranks[sort] = rank
        return rank

    def _live(self, ref: _SearcherRef) -> list[int]:
        if ref.live is None:
            ref.live = list(ref.searcher.reader().all_doc_ids())
        return ref.live

    def _sig_set(self, sid: int) -> dict:
        """{facet: frozenset(values)} of one facet signature (cached)."""
        sets = self._sig_sets
        if sid >= len(sets):
            with self._thread_lock:
                for i in range(len(sets), len(self._sigs)):
                    d: dict = {f: set() for f in FACET_FIELDS}
                    for f, v in self._sigs[i]:
                        d[f].add(v)
                    sets.append({f: frozenset(v) for f, v in d.items()})
        return sets[sid]

    def _filter_and_count(self, ref: _SearcherRef, docs, filters: dict, kind: str):
        """Kind filter, facet filters and facet counts over matching ``docs`` (multi-select:
        a document failing exactly one filter still counts toward that filter's facet, so the
        other values of a selected facet keep their counts). Returns (rows, counts, matched)
        where ``matched`` is the number of matches of the kind before facet filters."""
        sig, kinds, groups = self._arrays(ref)
        docs = list(docs)
        if kind:
            code = KINDS.index(kind) + 1
            docs = [d for d in docs if kinds[d] == code]
        matched = len(docs)
        counts = {f: {} for f in FACET_FIELDS}
        if not filters:
            # the common case: count small per-group signatures (city+region, platform+shop
            # type, industry+badge) in C, then spread each group's count over its values
            for g, garr in enumerate(groups):
                gcounts = Counter(map(garr.__getitem__, docs))
                if -1 in gcounts:  # documents without a meta value: never counted nor listed
                    del gcounts[-1]
                    docs = [d for d in docs if sig[d] >= 0]
                gsigs = self._group_sigs[g]
                for gid, c in gcounts.items():
                    for f, v in gsigs[gid]:
                        dct = counts[f]
                        dct[v] = dct.get(v, 0) + c
            return docs, counts, matched
        sigcounts = Counter(map(sig.__getitem__, docs))
        if -1 in sigcounts:
            del sigcounts[-1]
            docs = [d for d in docs if sig[d] >= 0]
        active = list(filters.items())
        passmask = bytearray(len(self._sigs))
        for sid, c in sigcounts.items():
            sets = self._sig_set(sid)
            failing = None
            nfail = 0
            for f, v in active:
                if v not in sets[f]:
                    nfail += 1
                    failing = f
                    if nfail > 1:
                        break
            if nfail == 0:
                passmask[sid] = 1
                for f, v in self._sigs[sid]:
                    dct = counts[f]
                    dct[v] = dct.get(v, 0) + c
            elif nfail == 1:
                dct = counts[failing]
                for v in sets[failing]:
                    dct[v] = dct.get(v, 0) + c
        rows = list(compress(docs, map(passmask.__getitem__, map(sig.__getitem__, docs))))
        return rows, counts, matched

    def doc_count(self) -> int:
        with self._searcher() as ref:
            return ref.searcher.doc_count()

    def status(self) -> dict:
        """Documents, segments, checkpoint and location of the live generation."""
        path = self.current_path()
        info = {"root": self.root, "path": path, "documents": None, "segments": None,
                "checkpoint": self.checkpoint(), "healthy": False, "error": None, "size_bytes": 0}
        if not path:
            info["error"] = "missing"
            return info
        try:
            with self._searcher() as ref:
                info["documents"] = ref.searcher.doc_count()
                info["segments"] = len(ref.searcher.leaf_searchers())
                info["healthy"] = True
        except IndexUnavailable as exc:
            info["error"] = str(exc)
        info["size_bytes"] = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
        return info

    def digests(self) -> dict[str, str]:
        """{document key: content digest} for every document (the consistency check)."""
        out = {}
        with self._searcher() as ref:
            for fields in ref.searcher.all_stored_fields():
                out[fields["key"]] = fields.get("digest", "")
        return out

    # ------------------------------------------------------------ searching

    def search(self, req: SearchRequest) -> SearchResponse:
        """Search with facets, highlights, paging and "did you mean". Raises IndexUnavailable."""
        pq = parse(req.q)
        sort = req.sort if req.sort in SORTS else "relevance"
        if not pq.tokens and sort == "relevance":
            sort = "newest"  # browsing without words: newest first
        page = max(1, int(req.page))
        per_page = max(1, min(100, int(req.per_page)))
        filters = {f: v for f, v in (req.filters or {}).items() if f in FACET_FIELDS and v}
        kind = req.kind if req.kind in KINDS else ""

        with self._searcher() as ref:
            self._arrays(ref)
            partial = fuzzy = False
            scored = sort == "relevance"
            if pq.text and not pq.tokens:
                scores = {}  # only punctuation/symbols: a clear "no results", not everything
            elif not pq.tokens:
                scores = dict.fromkeys(self._live(ref), 0.0)
            else:
                terms = [pq.token_terms(t) for t in pq.tokens]
                scores = query_scores(ref.searcher, terms, "and", scored, ref.postings)
                if not scores and len(pq.tokens) > 1:
                    scores = query_scores(ref.searcher, terms, "or", scored, ref.postings)
                    partial = bool(scores)
            rows, counts, nmatched = self._filter_and_count(ref, scores, filters, kind)
            if pq.tokens and len(rows) < FEW_RESULTS and pq.latin_tokens:
                fz = self._match(ref, pq.build("or" if partial else "and", fuzzy=True), kind, sort)
                if len(fz) > nmatched:
                    scores = {docnum: score for score, docnum in fz}
                    rows, counts, nmatched = self._filter_and_count(ref, scores, filters, kind)
                    fuzzy = True
            total = len(rows)
            start = (page - 1) * per_page
            if start >= total:
                page_docs = []
            elif sort == "relevance":
                page_docs = top_scored(rows, scores, start + per_page)[start:]
            else:
                page_docs = top_ranked(rows, self._rank(ref, sort), start + per_page)[start:]
            hits = []
            for docnum in page_docs:
                stored = ref.searcher.stored_fields(docnum)
                hits.append(Hit(kind=stored["kind"], id=int(stored["db_id"]), score=round(float(scores[docnum]), 4),
                                name=stored.get("name", ""),
                                highlight=highlight(stored.get("description", ""), pq.tokens)))
            suggestion = None
            if pq.tokens and total < FEW_RESULTS:
                suggestion = self._did_you_mean(ref, pq)
        facets = {}
        for f in FACET_FIELDS:
            c = counts[f]
            if f in filters and filters[f] not in c:
                c[filters[f]] = 0
            facets[f] = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))
        return SearchResponse(query=pq.text, total=total, page=page, per_page=per_page, hits=hits,
                              facets=facets, suggestion=suggestion, partial=partial, fuzzy=fuzzy,
                              tokens=pq.tokens)

    def _match(self, ref: _SearcherRef, q, kind: str, sort: str) -> list[tuple[float, int]]:
        """All (score, docnum) pairs matching ``q`` (every document when q is None)."""
        s = ref.searcher
        flt = Term("kind", kind) if kind else None
        if q is None:
            if flt is not None:
                return [(0.0, d) for d in s.docs_for_query(flt)]
            return [(0.0, d) for d in s.reader().all_doc_ids()]
        results = s.search(q, limit=None, filter=flt, scored=(sort == "relevance"))
        return [(score or 0.0, docnum) for score, docnum in results.top_n]

    def _did_you_mean(self, ref: _SearcherRef, pq: ParsedQuery) -> str | None:
        """Correct each word through the pinyin lexicon: 广洲 -> guangzhou -> 广州."""
        reader = ref.searcher.reader()
        changed = False
        out = []
        for word in pq.words:
            best = None
            py = None
            if has_cjk(word):
                variants = pinyin_variants(word)
                py = variants[0] if variants else None
            elif word.isalnum() and word.isascii() and len(word) >= 2:
                py = word
            if py:
                candidates = [py]
                if len(py) >= 4:
                    try:
                        candidates += sorted(set(reader.terms_within("pykey", py, 1, prefix=1)) - {py})
                    except Exception:  # noqa: BLE001 - a suggestion is optional
                        pass
                best_df = 0
                for cand in candidates[:20]:
                    for btext in reader.expand_prefix("pymap", cand + ":"):
                        text = btext.decode("utf-8") if isinstance(btext, bytes) else btext
                        w = text.split(":", 1)[1]
                        df = reader.doc_frequency("pymap", text)
                        if w != word and df > best_df:
                            best, best_df = w, df
            if best:
                out.append(best)
                changed = True
            else:
                out.append(word)
        return " ".join(out) if changed else None

    def suggest(self, prefix: str, limit: int = 10) -> list[Suggestion]:
        """Autocomplete over brand, enterprise and platform names by Chinese prefix, pinyin or
        initials (``美``, ``mei``, ``md``). Never raises on input; raises IndexUnavailable."""
        from .query import clean_query

        text = normalize(clean_query(prefix)[:40]).replace(" ", "")
        if not text:
            return []
        limit = max(1, min(10, limit))
        with self._searcher() as ref:
            reader = ref.searcher.reader()
            terms = []
            fields = ["names"] if has_cjk(text) else ["names", "pinyin", "initials"]
            for f in fields:
                for i, btext in enumerate(reader.expand_prefix(f, text)):
                    if i >= 50:
                        break
                    terms.append(Term(f, btext.decode("utf-8") if isinstance(btext, bytes) else btext))
            if not terms:
                return []
            flt = Or([Term("kind", "enterprise"), Term("kind", "platform")])
            results = ref.searcher.search(Or(terms), limit=40, filter=flt, sortedby="visits", reverse=True)
            out: list[Suggestion] = []
            seen = set()
            for hit in results:
                stored = hit.fields()
                names = [n for n in (stored.get("brand") or "").split("\n") if n] + [stored.get("name", "")]
                chosen = _matching_name(names, text) or names[0]
                key = (chosen, stored["kind"])
                if key in seen or not chosen:
                    continue
                seen.add(key)
                out.append(Suggestion(text=chosen, kind=stored["kind"], id=int(stored["db_id"])))
                if len(out) >= limit:
                    break
        return out


def _matching_name(names: list[str], prefix: str) -> str | None:
    for n in names:
        if normalize(n).replace(" ", "").startswith(prefix):
            return n
    for n in names:
        if not has_cjk(n):
            continue
        if any(v.startswith(prefix) for v in pinyin_variants(normalize(n))) or any(
            v.startswith(prefix) for v in initials_variants(normalize(n))
        ):
            return n
    return None


def _read_checkpoint(path: str) -> int:
    try:
        with open(os.path.join(path, CHECKPOINT_FILE)) as fh:
            return int(json.load(fh).get("checkpoint", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return 0


__all__ = ["FACET_FIELDS", "Hit", "IndexUnavailable", "LockBusy", "SearchEngine", "SearchRequest",
           "SearchResponse", "Suggestion", "doc_key"]
