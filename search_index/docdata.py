"""Per-document data a searcher needs beyond its postings (mixin of ``SearchEngine``, through
``searching.SearchMixin``): the decoded ``meta`` column, and the flat arrays built from it
(facet signatures, kinds, facet groups, owners, sort ranks, live documents).

Why per segment: a commit (one per approval) opens a new searcher, but leaves every segment but
its new small one as it was. The metadata and the arrays' parts are cached by segment id and
pruned when their segment goes, so a new searcher works out only its new segment's documents.
"""
from __future__ import annotations

from array import array
from typing import TYPE_CHECKING

from .api import FACET_GROUPS
from .schema import KINDS, decode_meta
from .vocabulary import segment_key

if TYPE_CHECKING:
    from .store import _SearcherRef

_KIND_CODES = {k: i + 1 for i, k in enumerate(KINDS)}  # 0: no meta


class DocDataMixin:
    """Relies on the caches ``store.IndexStore`` sets up (``_segment_meta`` and the others)."""

    def _metas(self, ref: _SearcherRef) -> list:
        """Decoded meta per global document number for this searcher (cached per segment).
        Also notes the searcher's segments as (cache key, first docnum, count) in ``ref.segments``."""
        if ref.metas is not None:
            return ref.metas
        flat: list = []
        segments = []
        subs = ref.searcher.leaf_searchers()
        for sub, offset in subs:
            reader = sub.reader()
            cache_key = segment_key(ref.gen_path, reader)
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
            segments.append((cache_key, offset, len(metas)))
            if len(flat) < offset:
                flat.extend([None] * (offset - len(flat)))
            flat.extend(metas)
        live = {key for key, _offset, _n in segments if key}
        for cache in (self._segment_meta, self._segment_masks, self._segment_terms, self._segment_arrays_cache):
            for key in list(cache):
                if key not in live:
                    del cache[key]
        ref.segments = segments
        ref.metas = flat
        return flat

    def _with_signature(self, meta):
        """Append (as item 7) an integer id of the document's facet combination: documents sharing one
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
        """(signature id, kind code, group ids per facet group) per global document number, as
        flat arrays built once per searcher from per-segment parts (``_segment_arrays``): facet
        counting then touches one integer per matching document. Also sets ``ref.owners``."""
        if ref.arrays is None:
            metas = self._metas(ref)
            lookups = self._group_lookups()
            sig, kinds, owners = array("i"), bytearray(), array("q")
            groups = [array("i") for _ in FACET_GROUPS]
            for key, offset, n in ref.segments:
                if len(sig) < offset:  # documents without a segment part (see _metas): no meta
                    gap = offset - len(sig)
                    sig.extend([-1] * gap)
                    kinds.extend(bytes(gap))
                    owners.extend(range(-len(owners) - 1, -offset - 1, -1))
                    for g in groups:
                        g.extend([-1] * gap)
                part = self._segment_arrays(metas, key, offset, n, lookups)
                sig.extend(part[0])
                kinds.extend(part[1])
                for g, values in zip(groups, part[2]):
                    g.extend(values)
                owners.extend(part[3])
            ref.owners = owners
            ref.arrays = (sig, bytes(kinds), groups)
        return ref.arrays

    def _segment_arrays(self, metas: list, key: str | None, offset: int, n: int, lookups: list):
        """One segment's (signature ids, kind codes, group ids per facet group, owners), cached
        per segment: after a commit only its new small segment is computed (signature and group
        ids are numbered engine-wide and never change)."""
        cached = self._segment_arrays_cache.get(key) if key else None
        if cached is not None and cached[0] == offset:  # owners number platforms by docnum
            return cached[1:]
        seg = metas[offset:offset + n]
        sig = array("i", [-1 if m is None else m[7] for m in seg])
        kinds = bytes(0 if m is None else _KIND_CODES.get(m[0], 0) for m in seg)
        groups = [array("i", map(lookup.__getitem__, sig)) for lookup in lookups]
        owners = array("q", [(m[6] or -d - 1) if m else -d - 1 for d, m in enumerate(seg, offset)])
        if key:
            self._segment_arrays_cache[key] = (offset, sig, kinds, groups, owners)
        return sig, kinds, groups, owners

    def _group_lookups(self) -> list[list[int]]:
        """Per facet group, signature id -> group id (index -1, no meta, maps to -1), numbering
        the signatures seen since the last call."""
        lookups = []
        with self._thread_lock:
            for g, fields in enumerate(FACET_GROUPS):
                ids, sigs, of = self._group_ids[g], self._group_sigs[g], self._group_of[g]
                for full in self._sigs[len(of):]:
                    key = tuple(p for p in full if p[0] in fields)
                    gid = ids.get(key)
                    if gid is None:
                        gid = ids[key] = len(sigs)
                        sigs.append(key)
                        self._group_vals[g].append(tuple(map(self._value_id, key)))
                    of.append(gid)
                lookups.append(of + [-1])
        return lookups

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

    def _owners(self, ref: _SearcherRef):
        """docnum -> enterprise the document belongs to (platforms: a number of their own)."""
        if ref.owners is None:
            self._arrays(ref)
        return ref.owners

    def _live(self, ref: _SearcherRef) -> list[int]:
        if ref.live is None:
            ref.live = list(ref.searcher.reader().all_doc_ids())
        return ref.live

    def _value_id(self, pair: tuple[str, str]) -> int:
        """A number for one (facet, value) pair (facet counts add up in a list indexed by it)."""
        vid = self._value_ids.get(pair)
        if vid is None:
            vid = self._value_ids[pair] = len(self._values)
            self._values.append(pair)
        return vid
