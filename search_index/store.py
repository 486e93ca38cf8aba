"""Index lifecycle: opening, shared searchers, the write lock, checkpoint, writing,
rebuild into a new generation and the atomic ``current`` swap (base class of ``SearchEngine``).
"""
from __future__ import annotations

import errno
import fcntl
import gc
import itertools
import json
import os
import shutil
import threading
import time
import uuid
import warnings
import weakref
from contextlib import contextmanager
from typing import Callable, Iterable

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from .analysis import append_user_dictionary, load_user_dictionary
from .api import (
    CHECKPOINT_FILE, CURRENT, FACET_GROUPS, FORMAT_FILE, POSTING_CACHE, USERDICT_FILE,
    WEIGHTING, IndexUnavailable, LockBusy,
)
from .bulk import DERIVED_POSTINGS, BulkWriter
from .fastpath import PostingCache
from .storage import MappedStorage
from .schema import FORMAT_VERSION, RebuildCodec, build_schema, dictionary_words, to_fields


class _SearcherRef:
    """A searcher with a use count, closed when replaced and no longer used, or when the engine
    holding it is garbage-collected (it holds the segment files' maps, see ``storage``)."""

    def __init__(self, searcher, gen_path, posting_cache: int = 0):
        self.searcher = searcher
        self.close = weakref.finalize(self, searcher.close)  # idempotent
        self.gen_path = gen_path
        self.users = 0
        self.retired = False
        self.metas = None
        self.arrays = None  # (signature id per docnum, kind code per docnum)
        self.ranks = {}  # sort name -> array: docnum -> position in that order
        self.live = None  # live (not deleted) docnums
        self.owners = None  # docnum -> the enterprise it belongs to (see schema._group)
        self.masks = None  # (bitmask of documents per facet value number, of documents without meta)
        self.segments = None  # [(segment cache key, first docnum, documents)], set with metas
        self.postings = PostingCache(posting_cache)  # decoded postings of this index state

    def release(self):
        self.users -= 1
        if self.retired and self.users <= 0:
            self.close()


class IndexStore:
    """Index lifecycle half of ``SearchEngine``: layout, health, locking, writing, rebuild, swap."""

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
        self._segment_masks: dict[str, tuple] = {}  # segment -> facet value bitmasks (searching)
        self._segment_terms: dict[str, dict] = {}  # segment -> (field, first char) -> terms (vocabulary)
        self._segment_arrays_cache: dict[str, tuple] = {}  # segment -> its part of the flat arrays (searching)
        self._thread_lock = threading.Lock()
        self._sig_ids: dict[tuple, int] = {}
        self._sigs: list[tuple] = []
        self._sig_sets: list[dict] = []  # per signature id: {facet: frozenset(values)}
        # per facet group: {group signature: id}, [group signature], [id per full signature]
        self._group_ids: list[dict] = [{} for _ in FACET_GROUPS]
        self._group_sigs: list[list] = [[] for _ in FACET_GROUPS]
        self._group_of: list[list] = [[] for _ in FACET_GROUPS]
        self._group_vals: list[list] = [[] for _ in FACET_GROUPS]  # per group id: value numbers
        self._values: list[tuple[str, str]] = []  # value number -> (facet, value)
        self._value_ids: dict[tuple[str, str], int] = {}

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
        if _read_format(path) != FORMAT_VERSION:
            # written by older code (other fields or analysis): searching it would miss words
            raise IndexUnavailable("outdated format")
        err = None
        with warnings.catch_warnings():
            # Whoosh leaves file objects open when it fails half-way through a damaged index;
            # they are finalised (quietly) here rather than warning at some random later moment.
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                load_user_dictionary(os.path.join(path, USERDICT_FILE))
                ix = MappedStorage(path).open_index()
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
                            ref.close()
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
                    self._ref.close()
                except Exception:  # noqa: BLE001 - closing a broken searcher  # nosec B110
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
                batch: int = 5000, procs: int = 2) -> dict:
        """Index ``docs`` into a fresh generation, then swap it in atomically.

        The caller holds ``write_lock()`` so no applier writes meanwhile; searches go on using
        the old generation. ``checkpoint`` is the outbox position the documents reflect (read
        BEFORE the documents): later changes are replayed by the applier. ``procs=2`` writes
        in two processes where that is safe (``bulk.Deriver``, ``_write_generation``: about 1.5x
        faster on two cores, the same index); ``procs=1`` in this one. Returns stats."""
        os.makedirs(self.root, exist_ok=True)
        started = time.monotonic()
        name = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        path = os.path.join(self.root, name)
        os.makedirs(path)
        dict_path = os.path.join(path, USERDICT_FILE)
        open(dict_path, "a").close()
        try:
            # written through plain files: assembling the segment copies every file into one, and
            # mapped files would bring all their pages into this process (~200 MB at 100,000 listings)
            ix = FileStorage(path, supports_mmap=False).create_index(build_schema())
            total = _write_generation(ix, docs, dict_path, progress, batch, procs)
            ix.close()
            self._write_checkpoint(path, checkpoint)
            with open(os.path.join(path, FORMAT_FILE), "w") as fh:
                json.dump({"format": FORMAT_VERSION}, fh)
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


def _read_format(path: str) -> int:
    """The index format a generation was written with (0 for generations older than the file)."""
    try:
        with open(os.path.join(path, FORMAT_FILE)) as fh:
            return int(json.load(fh).get("format", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return 0


def _read_checkpoint(path: str) -> int:
    try:
        with open(os.path.join(path, CHECKPOINT_FILE)) as fh:
            return int(json.load(fh).get("checkpoint", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return 0


def _write_generation(ix, docs: Iterable[dict], dict_path: str, progress, batch: int, procs: int) -> int:
    """Write every document into the new generation's index ``ix``; returns how many. Words the
    segmenter must know (brands, names) go to the generation's user dictionary batch by batch,
    before the documents that use them are analysed. A second process (``bulk.Deriver``) is
    forked only when there is more than one batch (small rebuilds: tests, a fresh site) and when
    this process runs no other thread: rjieba releases the GIL while it holds its dictionary's
    mutex, so a fork while another thread segments a query would leave the child's copy locked
    for good (a web worker's rebuild uses one process)."""
    docs = iter(docs)
    chunk = list(itertools.islice(docs, batch))
    more = next(docs, None)  # batches must stay ``batch`` long: the dictionary grows per batch
    if more is None or threading.active_count() > 1:
        procs = 1
    else:
        docs = itertools.chain((more,), docs)
    writer = ix.writer(codec=RebuildCodec())
    bulk = None
    total = 0
    try:
        bulk = BulkWriter(writer, procs, os.path.join(ix.storage.folder, DERIVED_POSTINGS))
        while chunk:
            words = [w for d in chunk for w in dictionary_words(d)]
            learnt = append_user_dictionary(dict_path, words) if words else []
            if learnt:
                bulk.dictionary_changed()
            bulk.add(chunk, learnt)
            total += len(chunk)
            if progress:
                progress(len(chunk))
            chunk = list(itertools.islice(docs, batch))
        bulk.commit()
    except BaseException:
        writer.cancel()
        raise
    finally:
        if bulk is not None:
            bulk.close()
    return total
