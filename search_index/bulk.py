"""Bulk indexing for a full rebuild: Whoosh's segment writer with a cheaper posting path.

Whoosh's ``SegmentWriter.add_document`` sends every posting as a 5-tuple into a
``PostingPool`` that sorts all of them at commit (5 million tuples at 100,000 listings, about
190 bytes each by its own estimate: 1 GB of pool to sort in one run, or runs spilled to disk
and merged in Python). A profile of the rebuild showed the pool, the sort and the re-analysis of
values that repeat on every shop (brands, the enterprise's name, city / industry tags) as most of
its cost. Here:

* ``TermPool`` groups postings by (field, term) as they arrive, in compact arrays (docnum as a
  32-bit int, weight as a double, the value bytes interned): documents are added in docnum
  order, so each term's postings are already sorted and only the distinct terms are sorted at
  the end. Memory is about 20 bytes per posting plus a few hundred per distinct term.
* ``BulkWriter.add`` analyses each (field, value) once per dictionary state: a value seen again
  (five shops share their enterprise's brands and tags) reuses the analysed postings. The
  cache is dropped whenever the segmenter's dictionary gains words, so every value is analysed
  exactly as Whoosh would analyse it at that moment.
* Fields whose analysis is a plain split (the pinyin, initials and sub-word fields split on
  spaces, the keyword fields on commas) are counted directly (``_split_items``) instead of
  through Whoosh's token objects: the same terms, frequencies, weights and value bytes.
* The postings are written straight into the codec's field writer (the same calls Whoosh's
  ``FieldWriter.add_postings`` makes), so the segment files are the ones Whoosh would write.

Only for a fresh, empty index written in one segment (``store.rebuild``); incremental writes
keep Whoosh's own writer.
"""
from __future__ import annotations

import re
from array import array

from whoosh.analysis import CompositeAnalyzer, RegexTokenizer, StripFilter
from whoosh.formats import Frequency
from whoosh.system import pack_uint
from whoosh.writing import CLEAR

from .analysis import SpaceTokenizer

# analysed (field, value) pairs kept between dictionary changes; enough for a batch of
# documents, bounded so a huge batch cannot grow it without limit
ANALYSIS_CACHE = 20_000


_NON_SPACE = re.compile(r"\S+")  # SpaceTokenizer's pattern
_NON_COMMA = "[^,]+"  # KEYWORD(commas=True)'s pattern


def _splitter(field):
    """A function splitting a value into the token texts ``field``'s analyzer would emit, when
    that analyzer is a plain split (else None)."""
    if type(field.format) is not Frequency:
        return None
    ana = field.analyzer
    if type(ana) is SpaceTokenizer:
        return lambda value: [w.lower() for w in _NON_SPACE.findall(value)]
    if (type(ana) is CompositeAnalyzer and len(ana.items) == 2 and type(ana.items[0]) is RegexTokenizer
            and ana.items[0].expression.pattern == _NON_COMMA and not ana.items[0].gaps
            and type(ana.items[1]) is StripFilter):
        pattern = ana.items[0].expression
        return lambda value: [w.strip() for w in pattern.findall(value)]
    return None


def _split_items(split, field_boost: float, value: str) -> list:
    """What ``Frequency.word_values`` + ``FieldType.index`` yield for a split analysis: per
    distinct token (first occurrence order) its bytes, frequency, weight (each token's boost is
    1.0, so frequency x field boost) and the packed frequency."""
    freqs: dict[str, int] = {}
    for w in split(value):
        freqs[w] = freqs.get(w, 0) + 1
    return [(w.encode("utf-8"), f, float(f) * field_boost, pack_uint(f)) for w, f in freqs.items()]


class TermPool:
    """Postings grouped by field, then term bytes: ``[docnums, weights, values]`` per term, or a
    ``(docnum, weight, value)`` tuple while the term has one posting (most do: a third of the
    pool's memory went on per-term arrays). ``BulkWriter.add`` appends to them directly: one
    function call per posting was a tenth of the rebuild."""

    def __init__(self):
        self.fields: dict[str, dict[bytes, list]] = {}
        self.values: dict[bytes, bytes] = {}  # interned short value strings (packed frequencies)
        self.postings = 0

    def write(self, schema, fieldwriter) -> None:
        """Feed every posting, sorted by field, term and docnum, to a codec field writer."""
        for fieldname in sorted(self.fields):
            terms = self.fields.pop(fieldname)
            fieldwriter.start_field(fieldname, schema[fieldname])
            for tbytes in sorted(terms):
                entry = terms.pop(tbytes)
                if type(entry) is tuple:
                    docnums, weights, values = (entry[0],), (entry[1],), (entry[2],)
                else:
                    docnums, weights, values = entry
                fieldwriter.start_term(tbytes)
                _add_blocks(fieldwriter._postwriter, docnums, weights, values)
                fieldwriter.finish_term()
            fieldwriter.finish_field()


def _add_blocks(postwriter, docnums, weights, values) -> None:
    """A term's postings into a ``W3PostingsWriter`` a block at a time: the state its
    ``add_posting`` would have built one posting at a time (full blocks written as they fill,
    the last one left for ``finish_postings``), without the per-posting calls. No length
    statistics (``RebuildCodec.length_stats`` is off, so Whoosh passes length 0 too)."""
    limit = postwriter._blocklimit
    n = len(docnums)
    for start in range(0, n, limit):
        if start:
            postwriter._write_block()
        end = min(n, start + limit)
        postwriter._ids = array("I", docnums[start:end])
        block_weights = weights[start:end]
        postwriter._weights = array("f", block_weights)
        postwriter._values = [v for v in values[start:end] if v]
        postwriter._maxweight = max(0, max(block_weights))


class BulkWriter:
    """Adds documents to a fresh Whoosh ``SegmentWriter`` through a ``TermPool``; ``commit``
    writes the one segment. Use ``add`` for every document (never the writer's own methods)."""

    def __init__(self, writer):
        self.writer = writer
        self.schema = writer.schema
        self.pool = TermPool()
        self._analysed: dict[tuple[str, str], list] = {}
        self._sorted_fields: dict[frozenset, list[str]] = {}
        self._splitters = {name: _splitter(field) for name, field in self.schema.items()}

    @staticmethod
    def supports(schema) -> bool:
        """Whether every field is one ``add`` handles: no term vectors, no separate spelling
        field (a schema with them is written by Whoosh's own writer)."""
        return all(not field.vector and not field.separate_spelling() for _name, field in schema.items())

    def dictionary_changed(self) -> None:
        """The segmenter learnt new words: analyse every value afresh from now on."""
        self._analysed.clear()

    def _items(self, fieldname: str, field, value) -> list:
        if not isinstance(value, str):
            return list(field.index(value))
        split = self._splitters.get(fieldname)
        if split is not None:
            return _split_items(split, field.format.field_boost, value)
        key = (fieldname, value)
        items = self._analysed.get(key)
        if items is None:
            items = list(field.index(value))
            if len(self._analysed) >= ANALYSIS_CACHE:
                self._analysed.clear()
            self._analysed[key] = items
        return items

    def add(self, fields: dict) -> None:
        """What ``SegmentWriter.add_document`` does, minus the pool tuples and re-analysis."""
        w = self.writer
        schema = self.schema
        docnum = w.docnum
        docboost = float(fields.get("_boost", 1.0))
        names = self._sorted_fields.get(frozenset(fields))
        if names is None:
            names = sorted(n for n in fields if not n.startswith("_"))
            w._check_fields(schema, names)
            self._sorted_fields[frozenset(fields)] = names
        perdoc = w.perdocwriter
        perdoc.start_doc(docnum)
        pool = self.pool
        interned = pool.values
        for fieldname in names:
            value = fields[fieldname]
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                boost = float(fields.get(f"_{fieldname}_boost", docboost))
                scorable = field.scorable
                terms = pool.fields.get(fieldname)
                if terms is None:
                    terms = pool.fields[fieldname] = {}
                items = self._items(fieldname, field, value)
                for tbytes, freq, weight, vbytes in items:
                    if scorable:
                        length += freq
                    if vbytes is None:
                        vbytes = b""
                    elif len(vbytes) <= 16:
                        vbytes = interned.setdefault(vbytes, vbytes)
                    entry = terms.get(tbytes)
                    if entry is None:  # most terms (names, pinyin) occur once: a plain tuple
                        terms[tbytes] = (docnum, weight * boost, vbytes)
                        continue
                    if type(entry) is tuple:
                        entry = terms[tbytes] = [array("I", (entry[0],)), array("d", (entry[1],)), [entry[2]]]
                    entry[0].append(docnum)
                    entry[1].append(weight * boost)
                    entry[2].append(vbytes)
                pool.postings += len(items)
            perdoc.add_field(fieldname, field, value if field.stored else None, length)
            column = field.column_type
            if column:
                perdoc.add_column_value(fieldname, column, field.to_column_value(value))
        perdoc.finish_doc()
        w._added = True
        w.docnum += 1

    def commit(self) -> None:
        """Write the segment (postings from the pool) and the TOC, as ``commit(mergetype=CLEAR)``."""
        w = self.writer
        w._check_state()
        segments = w._merge_segments(CLEAR, None, None)
        if w._added:
            w.perdocwriter.close()
            self.pool.write(self.schema, w.fieldwriter)
            w.fieldwriter.close()
            w._close_segment()
            w._assemble_segment()
            segments.append(w.get_segment())
        else:
            w._close_segment()
        w._commit_toc(segments)
        w._finish()
