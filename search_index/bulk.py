"""Bulk indexing for a full rebuild: Whoosh's segment writer with a cheaper posting path, in
two processes.

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
* The postings are written with the codec's own posting writer, a block at a time, and the
  term index gets the same keys and term infos as Whoosh's ``FieldWriter`` would write, so the
  segment is the one Whoosh would write.
* Two processes (``Deriver``): the ``schema.DERIVED_FIELDS`` (pinyin, initials, hidden
  bigrams, the did-you-mean lexicon: half of the postings, and the half of ``to_fields`` that
  costs most) are computed, pooled (``CodedPool``: all of them are split-analysed) and written
  by a forked second process, fed the documents
  batch by batch with the words the dictionary learnt before each batch, in the same order, so
  it segments exactly as this process does. At the end it writes its fields' postings to a file
  of its own while this process writes the others; its file is appended to the segment's
  posting file and its term infos' offsets moved by the length that preceded it. Its field
  lengths (per document, for the length columns) come back with them. With ``procs=1`` the
  same ``Deriver`` works in this process.

Only for a fresh, empty index written in one segment (``store.rebuild``); incremental writes
keep Whoosh's own writer.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import re
import shutil
import struct
from array import array

from whoosh.analysis import CompositeAnalyzer, RegexTokenizer, StripFilter
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3TermInfo, _lenfield
from whoosh.filedb.structfile import StructFile
from whoosh.formats import Frequency
from whoosh.system import pack_uint, pack_ushort
from whoosh.util.numeric import length_to_byte
from whoosh.writing import CLEAR

from .analysis import SpaceTokenizer, add_user_words
from .schema import DERIVED_FIELDS, base_fields, derived_fields, doc_boost, doc_facets

# the second process's posting file, in the generation directory until appended to the segment's
DERIVED_POSTINGS = "derived-postings.tmp"

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
    pool's memory went on per-term arrays)."""

    def __init__(self):
        self.fields: dict[str, dict[bytes, list]] = {}
        self.values: dict[bytes, bytes] = {}  # interned short value strings (packed frequencies)

    def add(self, docnum: int, fieldname: str, items: list, boost: float) -> int:
        """A document's postings in one field (``_items`` of its value); returns the sum of
        their frequencies (the field length). The loop is inlined: one function call per
        posting was a tenth of the rebuild."""
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
        interned = self.values
        length = 0
        for tbytes, freq, weight, vbytes in items:
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
        return length

    def write(self, schema, codec, postfile) -> dict[str, tuple[list, bytes]]:
        """Write every posting, by field, term and docnum, into ``postfile`` as Whoosh's field
        writer would (emptying the pool); returns per field its terms and their term infos, for
        ``write_term_index``: ``INFO_SIZE`` bytes each, end to end in one string (half a million
        small strings were the peak of a rebuild's memory)."""
        written = {}
        for fieldname in sorted(self.fields):
            terms = self.fields.pop(fieldname)
            fmt = schema[fieldname].format
            postwriter = codec.postings_writer(postfile)
            tlist, infos = sorted(terms), bytearray()
            for tbytes in tlist:
                docnums, weights, values = self._postings(terms.pop(tbytes))
                postwriter.start_postings(fmt, W3TermInfo())
                _add_blocks(postwriter, docnums, weights, values)
                info = postwriter.finish_postings().to_bytes()
                if len(info) != INFO_SIZE:
                    raise ValueError("inlined postings: the codec's inlinelimit must be 1")
                infos += info
            written[fieldname] = (tlist, bytes(infos))
        return written

    @staticmethod
    def _postings(entry) -> tuple:
        """A term's (docnums, weights, values)."""
        if type(entry) is tuple:
            return (entry[0],), (entry[1],), (entry[2],)
        return entry


class CodedPool(TermPool):
    """A ``TermPool`` for split-analysed fields in under half its memory. There a posting's
    weight and value follow from the token's frequency, the field boost and the document boost,
    a handful of combinations: a posting is its docnum and the number (code) of its (weight,
    value) pair, ``(docnums, codes)`` arrays per term, or one int ``docnum << 32 | code`` while
    the term has one posting (most do)."""

    def __init__(self):
        super().__init__()
        self.table: list[tuple[float, bytes]] = []  # code -> (weight, value)
        self.codes: dict[tuple[float, float], dict[int, int]] = {}  # boosts -> {frequency: code}

    def add_split(self, docnum: int, fieldname: str, tokens: list[str], field_boost: float, boost: float) -> int:
        """A document's tokens in one field; the same postings as ``TermPool.add`` of their
        ``_split_items``. Returns the field length."""
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
        codes = self.codes.get((field_boost, boost))
        if codes is None:
            codes = self.codes[(field_boost, boost)] = {}
        freqs: dict[str, int] = {}
        for w in tokens:
            freqs[w] = freqs.get(w, 0) + 1
        for w, f in freqs.items():
            code = codes.get(f)
            if code is None:  # the weight as _split_items then TermPool.add compute it
                vbytes = pack_uint(f)
                code = codes[f] = len(self.table)
                self.table.append((float(f) * field_boost * boost, self.values.setdefault(vbytes, vbytes)))
            tbytes = w.encode("utf-8")
            entry = terms.get(tbytes)
            if entry is None:
                terms[tbytes] = docnum << 32 | code
                continue
            if type(entry) is int:
                entry = terms[tbytes] = (array("I", (entry >> 32,)), array("I", (entry & 0xFFFFFFFF,)))
            entry[0].append(docnum)
            entry[1].append(code)
        return len(tokens)

    def _postings(self, entry) -> tuple:
        table = self.table
        if type(entry) is int:
            weight, value = table[entry & 0xFFFFFFFF]
            return (entry >> 32,), (weight,), (value,)
        docnums, codes = entry
        return docnums, [table[c][0] for c in codes], [table[c][1] for c in codes]


def write_term_index(fieldwriter, written: dict[str, tuple[list, bytes]]) -> None:
    """The term index of ``TermPool.write``'s fields, as ``W3FieldWriter.finish_term`` adds it:
    fields numbered in name order, key = field number + term bytes."""
    fmap = fieldwriter._fieldmap
    tindex = fieldwriter._tindex
    for fieldname in sorted(written):
        prefix = pack_ushort(fmap.setdefault(fieldname, len(fmap)))
        tlist, infos = written.pop(fieldname)
        for i, tbytes in enumerate(tlist):
            tindex.add(prefix + tbytes, infos[i * INFO_SIZE:(i + 1) * INFO_SIZE])


# A term info whose postings are in the posting file (never inlined with inlinelimit=1): the
# fixed part, then the postings' offset (8 bytes) and length (4).
_INFO_HEAD = W3TermInfo._struct.size
INFO_SIZE = _INFO_HEAD + 12
_OFFSET = struct.Struct("!q")  # whoosh.system.pack_long


def _move_offsets(written: dict[str, tuple[list, bytes]], base: int) -> None:
    """Add ``base`` to the posting offsets of term infos written by ``TermPool.write`` (whose
    postings were copied ``base`` bytes into another posting file)."""
    for fieldname, (tlist, infos) in written.items():
        buf = bytearray(infos)
        for pos in range(_INFO_HEAD, len(buf), INFO_SIZE):
            _OFFSET.pack_into(buf, pos, _OFFSET.unpack_from(buf, pos)[0] + base)
        written[fieldname] = (tlist, bytes(buf))


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


class Derived:
    """The ``DERIVED_FIELDS`` of every document, pooled: computed from the documents in order
    (``schema.derived_fields``), their postings and their field lengths (one array per scorable
    field, indexed by docnum)."""

    def __init__(self, schema):
        self.schema = schema
        self.pool = CodedPool()
        self.docnum = 0
        self.splitters = {name: _splitter(schema[name]) for name in DERIVED_FIELDS}
        if None in self.splitters.values() or any(schema[n].stored or schema[n].column_type for n in DERIVED_FIELDS):
            raise ValueError("the derived fields must be split-analysed, neither stored nor columns")
        self.lengths = {name: array("I") for name in DERIVED_FIELDS if schema[name].scorable}

    def add(self, docs: list[dict]) -> None:
        pool = self.pool
        for doc in docs:
            facets = doc_facets(doc)
            boost = doc_boost(facets)
            for fieldname, value in derived_fields(doc, facets).items():
                tokens = self.splitters[fieldname](value)
                length = pool.add_split(self.docnum, fieldname, tokens, self.schema[fieldname].format.field_boost, boost)
                if fieldname in self.lengths:
                    self.lengths[fieldname].append(length)
            self.docnum += 1


def _derive_in_child(conn, schema, codec, path: str) -> None:
    """The second process: ``Derived`` over the batches received (after teaching the segmenter
    the words this process learnt before each), then its postings written into ``path``; sends
    back the lengths and term infos. Garbage collection is off: the pool makes no reference
    cycles, and a collection would walk, and so copy, every object inherited from the parent
    (the fork shares them until written)."""
    gc.disable()
    gc.freeze()
    derived = Derived(schema)
    while (batch := conn.recv()) is not None:
        words, docs = batch
        add_user_words(words)
        derived.add(docs)
    with open(path, "wb") as fh:
        written = derived.pool.write(schema, codec, StructFile(fh))
    conn.send((derived.lengths, written))
    conn.close()


class Deriver:
    """Feeds documents to ``Derived``, in a forked second process (``procs=2``) or in this one."""

    def __init__(self, schema, codec, procs: int, path: str):
        self.schema = schema
        self.codec = codec
        self.path = path  # the second process's posting file
        self.local = Derived(schema) if procs <= 1 else None
        self.child = None
        if self.local is None:
            ctx = multiprocessing.get_context("fork")  # inherits the segmenter's dictionary as it is now
            self.conn, child_conn = ctx.Pipe()
            self.child = ctx.Process(target=_derive_in_child, args=(child_conn, schema, codec, path), daemon=True)
            self.child.start()
            child_conn.close()

    def add(self, words: list[str], docs: list[dict]) -> None:
        """The next documents, after the dictionary learnt ``words`` (in this order)."""
        if self.local is not None:
            self.local.add(docs)
        else:
            self.conn.send((words, docs))

    def start_writing(self) -> None:
        """No more documents: the second process writes its postings (meanwhile this one writes
        its own)."""
        if self.child is not None:
            self.conn.send(None)

    def finish(self, postfile) -> tuple[dict, dict]:
        """The derived postings appended to ``postfile``; returns (lengths, term infos)."""
        if self.local is not None:
            return self.local.lengths, self.local.pool.write(self.schema, self.codec, postfile)
        lengths, written = self.conn.recv()
        self.child.join()
        base = postfile.tell()
        with open(self.path, "rb") as fh:
            shutil.copyfileobj(fh, postfile, 1 << 20)
        os.remove(self.path)
        _move_offsets(written, base)
        return lengths, written

    def close(self) -> None:
        """Stop the second process if it is still running (the rebuild failed)."""
        if self.child is not None and self.child.is_alive():
            self.child.kill()
        if self.child is not None:
            self.child.join()


class BulkWriter:
    """Adds documents to a fresh Whoosh ``SegmentWriter`` through a ``TermPool`` and a
    ``Deriver``; ``commit`` writes the one segment. Use ``add`` for every batch of documents
    (never the writer's own methods)."""

    def __init__(self, writer, procs: int, path: str):
        if not self.supports(writer.schema) or writer.docnum:
            raise ValueError("BulkWriter needs a fresh writer and a schema without vectors or spelling fields")
        self.writer = writer
        self.schema = writer.schema
        self.pool = TermPool()
        self.deriver = Deriver(self.schema, writer.codec, procs, path)
        self._analysed: dict[tuple[str, str], list] = {}
        self._sorted_fields: dict[frozenset, list[str]] = {}
        self._splitters = {name: _splitter(field) for name, field in self.schema.items()}

    @staticmethod
    def supports(schema) -> bool:
        """Whether every field is one ``add`` handles: no term vectors, no separate spelling
        field."""
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

    def add(self, docs: list[dict], words: list[str]) -> None:
        """A batch of documents, analysed after the dictionary learnt ``words`` (in this order):
        their derived fields go to the ``Deriver`` first (the second process starts on them at
        once), the others (``schema.base_fields``) are indexed here."""
        self.deriver.add(words, docs)
        for doc in docs:
            self._add(base_fields(doc, doc_facets(doc)))

    def _add(self, fields: dict) -> None:
        """What ``SegmentWriter.add_document`` does, minus the pool tuples and re-analysis."""
        w = self.writer
        schema = self.schema
        docnum = w.docnum
        docboost = float(fields.get("_boost", 1.0))
        names = self._sorted_fields.get(frozenset(fields))
        if names is None:
            names = sorted(n for n in fields if not n.startswith("_"))
            w._check_fields(schema, names + list(DERIVED_FIELDS))
            self._sorted_fields[frozenset(fields)] = names
        perdoc = w.perdocwriter
        perdoc.start_doc(docnum)
        for fieldname in names:
            value = fields[fieldname]
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                boost = float(fields.get(f"_{fieldname}_boost", docboost))
                length = self.pool.add(docnum, fieldname, self._items(fieldname, field, value), boost)
                if not field.scorable:
                    length = 0
            perdoc.add_field(fieldname, field, value if field.stored else None, length)
            column = field.column_type
            if column:
                perdoc.add_column_value(fieldname, column, field.to_column_value(value))
        perdoc.finish_doc()
        w._added = True
        w.docnum += 1

    def commit(self) -> None:
        """Write the segment (postings from both pools) and the TOC, as ``commit(mergetype=CLEAR)``."""
        w = self.writer
        w._check_state()
        segments = w._merge_segments(CLEAR, None, None)
        if w._added:
            self.deriver.start_writing()
            postfile = w.fieldwriter._postfile
            written = self.pool.write(self.schema, w.codec, postfile)
            lengths, derived = self.deriver.finish(postfile)
            _add_lengths(w.perdocwriter, lengths)
            w.perdocwriter.close()
            write_term_index(w.fieldwriter, written | derived)
            w.fieldwriter.close()
            w._close_segment()
            w._assemble_segment()
            segments.append(w.get_segment())
        else:
            w._close_segment()
        w._commit_toc(segments)
        w._finish()

    def close(self) -> None:
        """Stop the second process if the rebuild failed (after ``commit`` it has ended)."""
        self.deriver.close()


def _add_lengths(perdoc, lengths: dict[str, array]) -> None:
    """The derived fields' lengths into the per-document writer, as its ``add_field`` records
    them (a length column value for each non-zero length, and the field's total); each column
    takes its values by docnum, so adding them after the other fields' gives the same column."""
    for fieldname, values in lengths.items():
        lenfield = _lenfield(fieldname)
        total = 0
        for docnum, length in enumerate(values):
            if length:
                perdoc._docnum = docnum
                perdoc.add_column_value(lenfield, LENGTHS_COLUMN, length_to_byte(length))
                total += length
        if total:
            perdoc._fieldlengths[fieldname] += total
