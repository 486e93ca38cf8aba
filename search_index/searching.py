"""Searching: the ``search`` entry point, ranking, highlights and "did you mean" (mixin of
``SearchEngine``; the per-document data it reads is in ``docdata``, facet filtering and counts
in ``facets``, the vocabulary for approximate words in ``vocabulary``).
"""
from __future__ import annotations

import heapq
import os
from typing import TYPE_CHECKING

from .analysis import has_cjk, pinyin_variants
from .api import FEW_RESULTS, MAX_TRACKED_MATCHES, SORTS, Hit, IndexUnavailable, SearchRequest, SearchResponse
from .docdata import DocDataMixin
from .facets import FacetMixin
from .fastpath import Evaluator, top_ranked, top_scored
from .query import ParsedQuery, highlight, parse
from .thesaurus import compact
from .schema import FACET_FIELDS, KINDS
from .vocabulary import VocabularyMixin

if TYPE_CHECKING:
    from .store import _SearcherRef

FUZZY_FIELDS = ("brand", "name", "pinyin")
DIVERSIFY_WINDOW = 40  # two pages
REPEAT_DECAY = 0.3
EXACT_BONUS = 1.0  # a document named exactly what was typed scores (1 + bonus) times as much


class SearchMixin(VocabularyMixin, FacetMixin, DocDataMixin):
    """Query half of ``SearchEngine``; relies on the searcher handling of ``store.IndexStore``."""

    # ------------------------------------------------------------ index state

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
            pq = parse(req.q, req.thesaurus)
            sort = req.sort if req.sort in SORTS else "relevance"
            if pq.empty and sort == "relevance":
                sort = "newest"  # browsing without words: newest first
            self._arrays(ref)
            scores, partial, ev = self._score(ref, pq, sort == "relevance")
            rows, counts, nmatched = self._filter_and_count(ref, scores, filters, kind)
            fuzzy = False
            try_fuzzy = not pq.empty and len(rows) < FEW_RESULTS and bool(pq.latin_tokens)
            if try_fuzzy:
                if pq.add_fuzzy(lambda token: self._fuzzy_terms(ref, token)):
                    ev2 = Evaluator(ref.searcher, ref.postings, sort == "relevance")
                    fz = ev2.query(pq.groups, "or" if partial else "and")
                    frows, fcounts, fmatched = self._filter_and_count(ref, fz, filters, kind)
                    if fmatched > nmatched:
                        scores, ev, fuzzy = fz, ev2, True
                        rows, counts, nmatched = frows, fcounts, fmatched
            total = len(rows)
            hits = self._page_hits(ref, pq, rows, scores, sort, page, per_page)
            suggestion = None
            ask_suggestion = not pq.empty and (total == 0 or partial or fuzzy)
            if ask_suggestion:
                suggestion = self._did_you_mean(ref, pq)
            expansions = _used_expansions(ev, rows, scores, bool(filters or kind)) if ev else []
            # approximate words and "did you mean" are looked up in the whole vocabulary
            text_dependency = self._text_dependency(ref, pq, scores, try_fuzzy or ask_suggestion)
        facets = {}
        for f in FACET_FIELDS:
            c = counts[f]
            if f in filters and filters[f] not in c:
                c[filters[f]] = 0
            facets[f] = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))
        return SearchResponse(query=pq.text, total=total, page=page, per_page=per_page, hits=hits,
                              facets=facets, suggestion=suggestion, partial=partial, fuzzy=fuzzy,
                              tokens=pq.tokens, expansions=expansions, text_dependency=text_dependency)

    def _text_dependency(self, ref: _SearcherRef, pq: ParsedQuery, scores, vocabulary: bool):
        """A response's ``text_dependency`` (see ``SearchResponse``). ``vocabulary``: approximate
        words or a suggestion were looked for, which any listing may change."""
        if pq.empty:  # no words: which documents match depends on the filters alone
            return lambda: ((), frozenset())
        if vocabulary or len(scores) > MAX_TRACKED_MATCHES:
            return lambda: None
        words, owners = pq.word_terms(), self._owners(ref)  # scores is never changed after search
        return lambda: (words, frozenset(filter((0).__lt__, map(owners.__getitem__, scores))))

    def _score(self, ref: _SearcherRef, pq: ParsedQuery, scored: bool):
        """(scores, partial, evaluator): every group required; when nothing has them all, any
        group on whole words (partial). No words: every document; only symbols: nothing."""
        if pq.text and pq.empty:
            return {}, False, None  # only punctuation/symbols: a clear "no results", not everything
        if pq.empty:
            return dict.fromkeys(self._live(ref), 0.0), False, None
        ev = Evaluator(ref.searcher, ref.postings, scored)
        scores = ev.query(pq.groups, "and")
        if scores or len(pq.groups) < 2:
            if scored:
                scores = self._exact_bonus(ref, pq, scores)
            return scores, bool(scores) and not ev.complete, ev
        ev = Evaluator(ref.searcher, ref.postings, scored, partial=True)
        scores = ev.query(pq.groups, "or")
        return scores, bool(scores), ev

    def _exact_bonus(self, ref: _SearcherRef, pq: ParsedQuery, scores: dict) -> dict:
        """A document whose name or brand is exactly the query (or, for a one-word query, exactly
        one of its synonyms) goes first: 京东 the platform before every 京东 shop, 榕野 before
        榕野堂. Returns ``scores`` or, when a bonus applies, a changed copy (``scores`` may be
        shared, see ``fastpath.token_scores``)."""
        wanted = {pq.compact: 1.0}
        if len(pq.groups) == 1:
            for alt in pq.groups[0].alts:
                if alt.kind == "synonym" and alt.label:
                    wanted.setdefault(compact(alt.label), alt.weight)
        field = ref.searcher.schema["names"]
        owned = False
        for text, weight in wanted.items():
            if not text:
                continue
            ids, _ = ref.postings.get(ref.searcher, "names", field.to_bytes(text))
            for d in ids:
                if d in scores:
                    if not owned:
                        scores, owned = dict(scores), True
                    scores[d] *= 1.0 + EXACT_BONUS * weight
        return scores

    def _page_hits(self, ref: _SearcherRef, pq: ParsedQuery, rows, scores, sort: str, page: int,
                   per_page: int) -> list[Hit]:
        """The hits of one page, with highlighted description snippets."""
        start = (page - 1) * per_page
        if start >= len(rows):
            return []
        if sort == "relevance":
            page_docs = self._relevance_order(ref, rows, scores, start + per_page)[start:]
        else:
            page_docs = top_ranked(rows, self._rank(ref, sort), start + per_page)[start:]
        marks = pq.highlight_tokens()
        hits = []
        for docnum in page_docs:
            stored = ref.searcher.stored_fields(docnum)
            hits.append(Hit(kind=stored["kind"], id=int(stored["db_id"]), score=round(float(scores[docnum]), 4),
                            name=stored.get("name", ""),
                            highlight=highlight(stored.get("description", ""), marks)))
        return hits

    def _relevance_order(self, ref: _SearcherRef, rows, scores, k: int) -> list[int]:
        """The first ``k`` rows by score, spread over enterprises: within the first
        DIVERSIFY_WINDOW, each further document of an enterprise already listed (its shops after
        it) counts REPEAT_DECAY times less, so one brand's five shops do not fill the first page.
        The same order for every page (the window is fixed; beyond it, plain score order)."""
        window = top_scored(rows, scores, max(k, DIVERSIFY_WINDOW))
        head = spread(window[:DIVERSIFY_WINDOW], scores, self._owners(ref))
        return (head + window[DIVERSIFY_WINDOW:])[:k]

    def _fuzzy_terms(self, ref: _SearcherRef, token: str) -> list[tuple[str, str, float]]:
        """Brand, name and pinyin terms within one edit of a Latin word, a swap of two neighbouring
        letters counting as one edit (``mdiea`` -> ``midea``); two edits for words of 9+ letters."""
        reader = ref.searcher.reader()
        if any((f, token) in reader for f in ("brand", "name", "pinyin", "initials")):
            return []  # the word itself is known: approximate matches would only add noise
        limit = 2 if len(token) >= 9 else 1
        swapped = token[1] + token[0] + token[2:]
        out: list[tuple[str, str, float]] = []
        for f in FUZZY_FIELDS:
            cands = self._terms_within(ref, f, token, limit)  # those sharing the first letter
            if (f, swapped) in reader:
                cands.add(swapped)
            near = [c for c in sorted(cands) if c != token][:10]
            # two neighbouring letters swapped is the commonest slip of the fingers: it ranks first
            out += [(f, c, 1.0 if _is_swap(token, c) else 0.7) for c in near]
        return out

    def _did_you_mean(self, ref: _SearcherRef, pq: ParsedQuery) -> str | None:
        """Correct each word through the pinyin lexicon in every reading of its characters:
        广洲 -> guangzhou -> 广州; 崇光 -> chongguang -> 重光. Asked only when nothing (or only a
        partial or approximate match) was found, and never when the query names a brand or
        enterprise exactly."""
        reader = ref.searcher.reader()
        if reader.doc_frequency("names", pq.compact):
            return None
        out, changed = [], False
        for word in pq.words:
            best = _correct_word(reader, word, lambda py: self._near_readings(ref, py))
            out.append(best or word)
            changed = changed or bool(best)
        return " ".join(out) if changed else None

    def _near_readings(self, ref: _SearcherRef, py: str) -> list[str]:
        """Lexicon pinyin one edit away from ``py`` (for typos in the pinyin itself)."""
        if len(py) < 4:
            return []
        return sorted(self._terms_within(ref, "pykey", py, 1) - {py})[:20]


def _is_swap(a: str, b: str) -> bool:
    """True when ``b`` is ``a`` with two neighbouring letters swapped."""
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def spread(docs: list[int], scores: dict, owners) -> list[int]:
    """``docs`` (best first) re-ordered so that the n-th document of one enterprise scores
    REPEAT_DECAY**n of its score; ties keep the lower document number first."""
    heap = [(-scores[d], d, 0) for d in docs]
    heapq.heapify(heap)
    taken: dict[int, int] = {}
    out = []
    while heap:
        neg, d, seen = heapq.heappop(heap)
        owner = owners[d]
        n = taken.get(owner, 0)
        if n != seen:
            heapq.heappush(heap, (-scores[d] * REPEAT_DECAY ** n, d, n))
            continue
        out.append(d)
        taken[owner] = n + 1
    return out


def _correct_word(reader, word: str, near_readings) -> str | None:
    """The lexicon word that sounds like ``word`` (same pinyin in any reading first, then one
    edit away: ``near_readings(pinyin)``), most frequent first; None when ``word`` is itself a
    known word or has no match."""
    if has_cjk(word):
        readings = list(pinyin_variants(word))
    elif word.isalnum() and word.isascii() and len(word) >= 2:
        readings = [word]
    else:
        return None
    if not readings or any(reader.doc_frequency("pymap", f"{py}:{word}") for py in readings):
        return None
    return _most_frequent(reader, readings, word) or _most_frequent(reader, near_readings(readings[0]), word)


def _most_frequent(reader, readings, word: str) -> str | None:
    """The lexicon word other than ``word`` with one of ``readings`` in the most documents."""
    best, best_df = None, 0
    for py in readings:
        for btext in reader.expand_prefix("pymap", py + ":"):
            text = btext.decode("utf-8") if isinstance(btext, bytes) else btext
            w = text.split(":", 1)[1]
            df = reader.doc_frequency("pymap", text)
            if w != word and df > best_df:
                best, best_df = w, df
    return best


def _used_expansions(ev: Evaluator, rows, scores: dict, filtered: bool) -> list[dict]:
    """The synonyms and places that matched at least one result, in query order, each once."""
    if not ev.trace or not rows:
        return []
    found = set(rows) if filtered else scores
    out, seen = [], set()
    for text, alt, docs in ev.trace:
        key = (alt.kind, text, alt.label)
        if key in seen or not docs:
            continue
        small, big = (docs, found) if len(docs) <= len(found) else (found, docs)
        if any(d in big for d in small):
            seen.add(key)
            out.append({"kind": alt.kind, "text": text, "label": alt.label})
    return out

