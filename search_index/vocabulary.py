"""Words of the index within a few edits of a typed word (approximate Latin words, "did you mean").

Why: Whoosh's ``terms_within`` walks every term of the field that shares the word's first letter
and computes each Damerau-Levenshtein distance in Python: 25-40 ms per word at 50,000 listings,
paid by every search that finds few or no results (a typo, a brand not listed), and by each
process again after every commit. Here the terms of one segment, field and first character are
listed once, when first asked for (only those: a whole field's terms cost several MB per
process), and kept across commits like the segment metadata (``searching._metas`` prunes them
with it); the distances come from rapidfuzz's optimal string alignment distance, the same
measure as Whoosh's ``damerau_levenshtein`` (a swap of two neighbouring letters is one edit), in
C++. The words found are the same (tests/test_search_vocabulary.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from rapidfuzz import process
from rapidfuzz.distance import OSA

if TYPE_CHECKING:
    from .store import _SearcherRef


def segment_key(gen_path: str, reader) -> str | None:
    """The cache key of a segment reader's segment (None when it has no id)."""
    seg = getattr(reader, "segment", None)
    segid = seg().segment_id() if callable(seg) else None
    return f"{gen_path}:{segid}" if segid else None


class VocabularyMixin:
    """``terms_within`` for ``SearchEngine``; keeps ``self._segment_terms``."""

    def _terms_within(self, ref: _SearcherRef, field: str, text: str, maxdist: int) -> set[str]:
        """Whoosh's ``reader.terms_within(field, text, maxdist, prefix=1)``: the terms of
        ``field`` starting with ``text``'s first character within ``maxdist`` edits of it."""
        if not text:
            return set()
        candidates: set[str] = set()
        for sub, _offset in ref.searcher.leaf_searchers():
            candidates.update(self._prefix_terms(ref.gen_path, sub.reader(), field, text[0]))
        found = process.extract(text, candidates, scorer=OSA.distance, score_cutoff=maxdist, limit=None)
        return {term for term, _distance, _key in found}

    def _prefix_terms(self, gen_path: str, reader, field: str, first: str) -> list[str]:
        """One segment's terms of ``field`` starting with ``first`` (cached per segment)."""
        key = segment_key(gen_path, reader)
        lists = self._segment_terms.setdefault(key, {}) if key else {}
        terms = lists.get((field, first))
        if terms is None:
            fieldobj = reader.schema[field]
            terms = lists[field, first] = [fieldobj.from_bytes(b) for b in reader.expand_prefix(field, first)]
        return terms
