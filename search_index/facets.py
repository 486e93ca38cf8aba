"""Facet filtering and counts over a search's matches (mixin of ``SearchEngine``, through
``searching.SearchMixin``; it reads the per-searcher state of ``docdata``: ``_arrays`` and the
segments ``_metas`` notes in ``ref.segments``).

Few matches are counted per facet group with ``Counter``; many (``MASK_COUNT_SHARE`` of the
index's documents) with bitmasks, one per facet value, kept per segment across commits.
"""
from __future__ import annotations

from collections import Counter
from itertools import compress, repeat
from typing import TYPE_CHECKING

from .schema import FACET_FIELDS, KINDS

if TYPE_CHECKING:
    from .store import _SearcherRef

# Matches, as a share of the index's documents, from which facet counts by bitmasks beat Counter:
# Counter's cost grows with the matches, the masks' with the index (each value's mask is as wide
# as the index). Measured on 54,295 documents: equal at ~1,700 matches (0.45 ms each), bitmasks
# twice as fast at 5,000 (bench/README.md, issue 15, session 10).
MASK_COUNT_SHARE = 1 / 32
_BITS = bytes.maketrans(b"\x00\x01", b"01")  # document flags -> base-2 digits (_bitmask)


class FacetMixin:
    """Facet half of the query side; relies on ``SearchMixin._arrays`` and ``IndexStore``'s state."""

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
        if not filters and len(docs) >= MASK_COUNT_SHARE * len(sig):
            return self._count_by_masks(ref, sig, docs, counts, matched)
        if not filters:
            # the common case: count small per-group signatures (city+region, platform+shop
            # type, industry+badge) in C, then spread each group's count over its values,
            # adding up in a list indexed by value number (cheaper than a dict per value)
            acc = [0] * len(self._values)
            for g, garr in enumerate(groups):
                gcounts = Counter(map(garr.__getitem__, docs))
                if -1 in gcounts:  # documents without a meta value: never counted nor listed
                    del gcounts[-1]
                    docs = [d for d in docs if sig[d] >= 0]
                gvals = self._group_vals[g]
                for gid, c in gcounts.items():
                    for vid in gvals[gid]:
                        acc[vid] += c
            values = self._values
            for vid, c in enumerate(acc):
                if c:
                    f, v = values[vid]
                    counts[f][v] = c
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

    def _count_by_masks(self, ref: _SearcherRef, sig, docs: list[int], counts: dict, matched: int):
        """Facet counts of many matches (``_filter_and_count`` without filters): the matches as
        one bitmask, each value's count one AND and a popcount against that value's mask.
        Three ``Counter`` passes over 40,000 matches (旗舰店) cost 9 ms; this 3 ms."""
        masks, without_meta = self._value_masks(ref)
        matches = _bitmask(docs, len(sig))
        if matches & without_meta:  # documents without a meta value: never counted nor listed
            docs = [d for d in docs if sig[d] >= 0]
        values = self._values
        for vid, mask in enumerate(masks):
            c = (matches & mask).bit_count()
            if c:
                f, v = values[vid]
                counts[f][v] = c
        return docs, counts, matched

    def _value_masks(self, ref: _SearcherRef):
        """(per facet value number, the bitmask of the documents having it; the bitmask of the
        documents without meta) for this searcher: each segment's masks shifted to its first
        document number. A segment's masks are kept until it goes (like its metas), so after a
        commit only the new segment is worked out (about 90 ms per 100,000 documents)."""
        if ref.masks is None:
            sig, _kinds, groups = self._arrays(ref)
            masks = [0] * len(self._values)
            without_meta = 0
            for key, offset, n in ref.segments:
                seg = self._segment_masks.get(key) if key else None
                if seg is None:
                    seg = self._masks_of(sig, groups, offset, n)
                    if key:
                        self._segment_masks[key] = seg
                for vid, mask in enumerate(seg[0]):
                    if mask:
                        masks[vid] |= mask << offset
                without_meta |= seg[1] << offset
            ref.masks = (masks, without_meta)
        return ref.masks

    def _masks_of(self, sig, groups, offset: int, n: int) -> tuple[list[int], int]:
        """One segment's (value masks, without-meta mask), bit 0 being document ``offset``."""
        docs_of: list[list[int]] = [[] for _ in self._values]
        for g, garr in enumerate(groups):
            by_gid: dict[int, list[int]] = {}
            for d, gid in enumerate(garr[offset:offset + n]):
                if gid >= 0:
                    by_gid.setdefault(gid, []).append(d)
            gvals = self._group_vals[g]
            for gid, ds in by_gid.items():
                for vid in gvals[gid]:
                    docs_of[vid].extend(ds)
        without_meta = [d for d, s in enumerate(sig[offset:offset + n]) if s < 0]
        return [_bitmask(ds, n) for ds in docs_of], _bitmask(without_meta, n)


def _bitmask(docs, n: int) -> int:
    """The documents ``docs`` (numbers below ``n``) as an int with bit d set for each: a
    bytearray flag per document set at C speed, read as base-2 digits."""
    flags = bytearray(n)
    any(map(flags.__setitem__, docs, repeat(1)))  # __setitem__ returns None: consumes all
    return int(flags.translate(_BITS)[::-1] or b"0", 2)
