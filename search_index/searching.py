"""Searching: per-segment metadata, ranking arrays, facet filtering and counts, the
``search`` entry point and "did you mean" (mixin of ``SearchEngine``).
"""
from __future__ import annotations

import os
from array import array
from collections import Counter
from itertools import compress
from typing import TYPE_CHECKING

from whoosh.query import Term

from .analysis import has_cjk, pinyin_variants
from .api import FACET_GROUPS, FEW_RESULTS, SORTS, Hit, IndexUnavailable, SearchRequest, SearchResponse
from .fastpath import query_scores, top_ranked, top_scored
from .query import ParsedQuery, highlight, parse
from .schema import FACET_FIELDS, KINDS, decode_meta

if TYPE_CHECKING:
    from .store import _SearcherRef


class SearchMixin:
    """Query half of ``SearchEngine``; relies on the searcher handling of ``store.IndexStore``."""

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
        page = max(1, int(req.page))
        per_page = max(1, min(100, int(req.per_page)))
        filters = {f: v for f, v in (req.filters or {}).items() if f in FACET_FIELDS and v}
        kind = req.kind if req.kind in KINDS else ""

        with self._searcher() as ref:
            # Segment the query only now: getting a current searcher loads the words another
            # process's writer added to the user dictionary. Parsed earlier, the first search after
            # a new brand was indexed split that brand (澜汐臻选 -> 澜汐/臻/选) and found nothing,
            # and the full-page cache then kept that empty page.
            pq = parse(req.q)
            sort = req.sort if req.sort in SORTS else "relevance"
            if not pq.tokens and sort == "relevance":
                sort = "newest"  # browsing without words: newest first
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
                    except Exception:  # noqa: BLE001 - a suggestion is optional  # nosec B110
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
