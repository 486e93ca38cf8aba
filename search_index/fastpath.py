"""Query evaluation without Whoosh's per-document matcher loop.

Whoosh scores a query by walking a tree of matchers one document at a time, several Python
method calls per document per term: a word like ``旗舰店`` that matches 40,000 documents costs
tens of milliseconds before anything else happens. Our queries have a fixed, simple shape
(``query.parse``): groups combined with AND (or OR for the partial retry); a group is the best
of its alternatives, each a weighted AND of parts; a part is an OR of plain terms over a few
fields. This module evaluates exactly that shape from the posting blocks in bulk and, for one
word, gives the same scores Whoosh's ``TF_IDF`` gives:

    score(doc) = sum over matching terms of  posting weight x idf(term)  (x the term's weight)

(the posting weight already carries the field boost and the document's badge boost, as in
Whoosh). Documents are then picked for the page with ``top_scored`` / ``top_ranked``, which
break ties the way Whoosh's collector does (lower document number first).

Fuzzy terms are looked up first (``searching``) and then evaluated here like any other term.
"""
from __future__ import annotations

import heapq
import threading
import zlib
from array import array
from io import BytesIO
from itertools import accumulate, compress, islice, repeat
from operator import add, mul
from pickle import Unpickler, loads

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.system import _INT_SIZE, _int_struct


def _postings(reader, field: str, btext: bytes, offset: int, idf: float):
    """(global docnums, weight x idf) of one term in one segment, deleted documents left out;
    None if absent. Whoosh 3 postings are decoded a block at a time (``_w3_blocks``); any other
    matcher one posting at a time."""
    try:
        m = reader.postings(field, btext)
    except TermNotFound:
        return None
    deleted = None
    if isinstance(m, FilterMatcher):
        deleted = m._ids if m._exclude else None
        m = m.child
        m.reset()
    ids = array("i")
    scores = array("d")
    if isinstance(m, W3LeafMatcher):
        for block_ids, weights, count in _w3_blocks(m, offset):
            ids.extend(block_ids)
            if weights is None or isinstance(weights, float):  # every posting weighs the same
                scores.extend(array("d", [_f32(1.0 if weights is None else weights) * idf]) * count)
            else:
                scores.extend(map(idf.__mul__, array("f", weights)))
    else:
        while m.is_active():
            ids.append(m.id() + offset)
            scores.append(m.weight() * idf)
            m.next()
    if deleted:
        keep = [(d - offset) not in deleted for d in ids]
        ids, scores = array("i", compress(ids, keep)), array("d", compress(scores, keep))
    return ids, scores


def _f32(x: float) -> float:
    """``x`` rounded to single precision, as Whoosh's weight arrays hold it."""
    return array("f", [x])[0]


def _w3_blocks(m: W3LeafMatcher, offset: int):
    """(global docnums, weights, count) per posting block of one term, decoded at C speed: the
    term's postings are read in one piece and each block's delta-coded ids are summed by
    ``accumulate``, instead of the matcher's few Python calls per posting and file reads per
    block (a broad word's first search decodes tens of thousands of postings). The layout is
    ``W3PostingsWriter._write_block``'s: after a 4-byte header, per block its length (negative
    on the last one), the pickled info tuple, then the pickled, maybe zlib'd, data tuple."""
    total = m._length  # Whoosh 2.7.4's W3TermInfo.from_bytes leaves it a 1-tuple when read back
    total = total[0] if isinstance(total, tuple) else total
    raw = m._postfile.get(m._baseoffset, total - _INT_SIZE)
    buf = BytesIO(raw)
    pos = 0
    while True:
        (length,) = _int_struct.unpack_from(raw, pos)
        end = pos + _INT_SIZE + abs(length)
        buf.seek(pos + _INT_SIZE)
        count, _maxid, _maxweight, compression, _minlen, _maxlen = Unpickler(buf).load()
        data = raw[buf.tell():end]
        ids, weights = loads(zlib.decompress(data) if compression else data)[:2]
        if m._byteids:
            ids = (d + offset for d in ids)
        else:  # delta-coded from 0 in each block
            ids = islice(accumulate(ids, initial=offset), 1, None)
        yield ids, weights, count
        if length < 0:
            return
        pos = end


class PostingCache:
    """Decoded postings of recently used terms for ONE searcher (one index state): global
    document numbers and ``weight x idf`` per posting, as compact arrays.

    It also keeps, for recently searched words, the postings of their fields merged into one
    {docnum: score} dict (``merged``), like Lucene's query cache keeps the documents of frequent
    clauses: a word such as 旗舰店 matches 40,000 shops in two fields, and merging them in Python
    is most of its cost. Those dicts are shared: callers copy before changing one.

    This caches index structures, not results: every search still intersects, scores,
    filters, counts facets, ranks, loads stored fields and highlights. It is dropped with its
    searcher, so a commit never serves stale postings. Bounded by the number of postings held
    (merged dicts, about eight times larger per entry, by a fifth of that number)."""

    def __init__(self, max_postings: int = 2_000_000):
        self.max_postings = max_postings
        self.size = 0
        self.items: dict[tuple, tuple] = {}
        self.lock = threading.Lock()
        self.max_merged = max_postings // 5
        self.merged_size = 0
        self.merged: dict[tuple, dict] = {}

    def merged_get(self, key: tuple):
        return self.merged.get(key)

    def merged_put(self, key: tuple, value: dict) -> None:
        n = len(value)
        if n > self.max_merged:
            return
        with self.lock:
            while self.merged and self.merged_size + n > self.max_merged:  # evict oldest first
                self.merged_size -= len(self.merged.pop(next(iter(self.merged))))
            if key not in self.merged:
                self.merged[key] = value
                self.merged_size += n

    def get(self, searcher, field: str, btext: bytes):
        key = (field, btext)
        got = self.items.get(key)
        if got is not None:
            return got
        idf = searcher.idf(field, btext)
        all_ids = array("i")
        all_scores = array("d")
        for sub, offset in searcher.leaf_searchers():
            p = _postings(sub.reader(), field, btext, offset, idf)
            if p:
                all_ids.extend(p[0])
                all_scores.extend(p[1])
        got = (all_ids, all_scores)
        n = len(all_ids)
        if n <= self.max_postings:
            with self.lock:
                while self.items and self.size + n > self.max_postings:  # evict oldest first
                    old = self.items.pop(next(iter(self.items)))
                    self.size -= len(old[0])
                if key not in self.items:
                    self.items[key] = got
                    self.size += n
        return got


def token_scores(searcher, terms, scored: bool = True, cache: PostingCache | None = None,
                 skip_fields: frozenset = frozenset()) -> dict[int, float]:
    """{global docnum: score} for documents matching ANY of ``terms`` ((field, text, weight)).

    The dict may be shared through the cache: do not change it (copy first)."""
    cache = cache or PostingCache()
    key = (tuple(terms), skip_fields, scored)
    got = cache.merged_get(key)
    if got is None:
        got = _merge_terms(searcher, terms, scored, cache, skip_fields)
        cache.merged_put(key, got)
    return got


def _merge_terms(searcher, terms, scored: bool, cache: PostingCache, skip_fields: frozenset) -> dict[int, float]:
    """Sum of the terms' scores per document: ``acc[d] = acc.get(d, 0.0) + score x weight`` in
    term order, as C-level iterators (``map``/``zip`` into ``dict.update``) rather than a Python
    loop over tens of thousands of postings."""
    acc: dict[int, float] = {}
    for field, text, weight in terms:
        if field not in searcher.schema or field in skip_fields:
            continue
        btext = searcher.schema[field].to_bytes(text)
        ids, scores = cache.get(searcher, field, btext)
        if not ids:
            continue
        if not scored:
            acc.update(dict.fromkeys(ids, 0.0))
            continue
        if weight != 1.0:
            scores = map(mul, scores, repeat(weight))
        if acc:  # each id occurs once per term, so reading acc while updating it is safe
            scores = map(add, map(acc.get, ids, repeat(0.0)), scores)
        acc.update(zip(ids, scores))
    return acc


def combine(per_part: list[dict[int, float]], mode: str, scored: bool = True) -> dict[int, float]:
    """The AND (every part) or OR (any part) of per-part scores, scores summed."""
    if not per_part:
        return {}
    if len(per_part) == 1:
        return per_part[0]
    if mode == "and":
        common = set(min(per_part, key=len))
        for d in per_part:
            common.intersection_update(d)
            if not common:
                return {}
        if not scored:
            return dict.fromkeys(common, 0.0)
        docs = list(common)
        total = map(per_part[0].__getitem__, docs)
        for d in per_part[1:]:  # summed part by part, in order
            total = map(add, total, map(d.__getitem__, docs))
        return dict(zip(docs, total))
    out = dict(per_part[0])
    for d in per_part[1:]:
        out.update(zip(d.keys(), map(add, map(out.get, d.keys(), repeat(0.0)), d.values())))
    return out


PLACE_BOOST = 2.0
FILL_BELOW = 20  # a page of results


class Evaluator:
    """Scores a parsed query (groups of alternatives, see ``query``) against one searcher.

    ``partial`` leaves out sub-word and fuzzy matching (a partial match must rest on whole
    words). ``trace`` keeps, for every labelled alternative (a synonym or place), the documents
    it matched, so the caller can tell the user which expansions its results used."""

    def __init__(self, searcher, cache: PostingCache, scored: bool = True, partial: bool = False):
        self.searcher = searcher
        self.cache = cache
        self.scored = scored
        self.partial = partial
        self.skip = frozenset({"sub"}) if partial else frozenset()
        self.trace: list[tuple[str, object, dict[int, float]]] = []  # (group text, alt, docs)
        self.complete = True  # some document matched every group, places included

    def query(self, groups, mode: str = "and") -> dict[int, float]:
        """AND (or, for the partial retry, OR) of the groups. With AND, place groups (``soft``)
        are required when at least FILL_BELOW documents match everything (佛山 陶瓷 with
        hundreds of Foshan ceramics: those); with fewer, the other groups' matches follow the
        complete ones (whose score is multiplied by PLACE_BOOST), so a place boosts rather than
        empties the page. Every group is required when all of them are places."""
        hard = [g for g in groups if not g.soft] if mode == "and" else groups
        soft = [g for g in groups if g.soft] if hard else []
        hard = hard or groups
        per_group = []
        for g in hard:
            d = self.group(g)
            if mode == "and" and not d:
                return {}
            per_group.append(d)
        result = combine(per_group, mode, self.scored)
        if soft and result:
            result = self._boost(result, soft)
        return result

    def _boost(self, out: dict[int, float], soft) -> dict[int, float]:
        """``out`` with the place groups ``soft`` applied (a new dict; ``out`` is not changed)."""
        matched = [self.group(g) for g in soft]
        everywhere = set(out.keys())
        for d in matched:
            everywhere.intersection_update(d.keys())
        self.complete = bool(everywhere)
        if len(everywhere) >= FILL_BELOW:  # enough documents in that place: only those
            return {doc: sum(d[doc] for d in matched) + out[doc] for doc in everywhere} if self.scored \
                else dict.fromkeys(everywhere, 0.0)
        if self.scored:
            out = dict(out)  # may be shared (see token_scores)
            for d in matched:
                for doc in out.keys() & d.keys():
                    out[doc] = (out[doc] + d[doc]) * PLACE_BOOST
        return out

    def group(self, group) -> dict[int, float]:
        """The best alternative per document. The returned dict may be shared (see
        ``token_scores``): do not change it."""
        alts = group.alts
        if len(alts) == 1 and alts[0].weight == 1.0 and not alts[0].label:
            return self.alt(alts[0])
        acc: dict[int, float] = {}
        owned = False
        for alt in alts:
            if alt.fallback and acc:
                continue
            if self.partial and alt.kind in ("sub", "fuzzy"):
                continue
            d = self.alt(alt)
            if alt.label:
                self.trace.append((group.text, alt, d))
            if not d:
                continue
            w = alt.weight
            if not acc:
                acc, owned = (d, False) if w == 1.0 else ({k: v * w for k, v in d.items()}, True)
                continue
            if not owned:
                acc, owned = dict(acc), True
            get = acc.get
            for k, v in d.items():
                v *= w
                if v > get(k, -1.0):
                    acc[k] = v
        return acc

    def alt(self, alt) -> dict[int, float]:
        per_part = []
        for part in alt.parts:
            if isinstance(part, list):
                d = token_scores(self.searcher, part, self.scored, self.cache, self.skip)
            else:
                d = self.group(part)
            if not d:
                return {}
            per_part.append(d)
        return combine(per_part, "and", self.scored)


def top_scored(rows: list[int], scores: dict[int, float], k: int) -> list[int]:
    """The ``k`` best of ``rows`` by score (descending), ties by document number (ascending)."""
    if k <= 0 or not rows:
        return []
    if k >= len(rows):
        return sorted(rows, key=lambda d: (-scores[d], d))
    vals = scores.values() if len(rows) == len(scores) else map(scores.__getitem__, rows)
    thr = heapq.nlargest(k, vals)[-1]
    cand = [d for d in rows if scores[d] >= thr]
    if len(cand) <= 4 * k:
        cand.sort(key=lambda d: (-scores[d], d))
        return cand[:k]
    above = [d for d in cand if scores[d] > thr]  # fewer than k
    above.sort(key=lambda d: (-scores[d], d))
    ties = heapq.nsmallest(k - len(above), [d for d in cand if scores[d] == thr])
    return above + ties


def top_ranked(rows: list[int], rank, k: int) -> list[int]:
    """The ``k`` first of ``rows`` in a precomputed order (``rank[docnum]`` = position)."""
    if k <= 0 or not rows:
        return []
    if k >= len(rows):
        return sorted(rows, key=rank.__getitem__)
    return heapq.nsmallest(k, rows, key=rank.__getitem__)
