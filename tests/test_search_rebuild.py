"""The rebuild's writer (search_index/bulk.py) writes the index Whoosh's own writer would write,
in one process and in two (the derived fields in a forked second process).

Each index is built in a fresh interpreter: the segmenter's dictionary is process-wide and grows
batch by batch during a rebuild, so builds in one process would not start from the same state.
The documents are shuffled so that brands (dictionary words) keep arriving in later batches.
"""
import hashlib
import io
import json
import multiprocessing
import os
import pickle
import random
import subprocess
import sys
from pathlib import Path

import pytest

from search_index import SearchEngine, bulk, store
from search_index.api import SearchRequest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from search_bench import build_documents  # noqa: E402

BATCH = 100


def _documents() -> list[dict]:
    docs = build_documents(700)
    random.Random(7).shuffle(docs)
    return docs


def _whoosh_writer(path: str) -> None:
    """The reference: Whoosh's ``add_document`` for every ``to_fields``, batch by batch after the
    dictionary words, committed into one segment."""
    from whoosh.writing import CLEAR

    from search_index.analysis import append_user_dictionary
    from search_index.schema import RebuildCodec, build_schema, dictionary_words, to_fields
    from search_index.storage import MappedStorage

    os.makedirs(path)
    ix = MappedStorage(path).create_index(build_schema())
    writer = ix.writer(codec=RebuildCodec())
    docs = _documents()
    for start in range(0, len(docs), BATCH):
        chunk = docs[start:start + BATCH]
        append_user_dictionary(os.path.join(path, "userdict.txt"), [w for d in chunk for w in dictionary_words(d)])
        for d in chunk:
            writer.add_document(**to_fields(d))
    writer.commit(mergetype=CLEAR)


def _decoded_blocks(raw: bytes) -> list:
    """A term's posting blocks as (block info, ids, weights, values) tuples. Compared decoded,
    not as bytes: pickle writes a value bytes object seen earlier in the block as a reference,
    and the bulk writer shares the value objects of repeated values where Whoosh has copies."""
    blocks, pos = [], 4  # after the W3 header magic
    while pos < len(raw):
        size = int.from_bytes(raw[pos:pos + 4], "big", signed=True)
        stream = io.BytesIO(raw[pos + 4:pos + 4 + abs(size)])
        blocks.append((pickle.load(stream), pickle.load(stream)))
        pos += 4 + abs(size)
    return blocks


def index_digest(path: str) -> dict[str, str]:
    """A digest of everything searching reads, independent of where postings sit in the file:
    per term its term info (without the offset) and postings, the field numbers, stored
    fields, field lengths and their totals, and the columns."""
    from whoosh import index
    from whoosh.codec.whoosh3 import W3TermInfo
    from whoosh.system import unpack_int, unpack_long

    reader = index.open_dir(path).reader()
    parts = {k: hashlib.sha256() for k in ("terms", "postings", "docs", "columns", "fieldmap")}
    terms = reader._terms
    parts["fieldmap"].update(repr(sorted(terms._fieldmap.items())).encode())
    head = W3TermInfo._struct.size
    for key, info in terms._tindex.items():
        parts["terms"].update(repr(terms._keydecoder(key)).encode() + (info if info[0] else info[:head]))
        if not info[0]:
            offset, length = unpack_long(info[head:head + 8])[0], unpack_int(info[head + 8:head + 12])[0]
            terms._postfile.seek(offset)
            parts["postings"].update(repr(_decoded_blocks(terms._postfile.read(length))).encode())
    schema = reader.schema
    scorable = [f for f in sorted(schema.names()) if schema[f].scorable]
    for d in range(reader.doc_count_all()):
        parts["docs"].update(pickle.dumps((sorted(reader.stored_fields(d).items()),
                                           [reader.doc_field_length(d, f, 0) for f in scorable]), 4))
    parts["docs"].update(repr([reader.field_length(f) for f in scorable]).encode())
    for f in sorted(schema.names()):
        if schema[f].column_type:
            parts["columns"].update(repr(list(reader.column_reader(f))).encode())
    reader.close()
    return {k: h.hexdigest() for k, h in parts.items()}


def _build(mode: str, path: str) -> None:
    if mode == "whoosh":
        _whoosh_writer(path)
        return
    engine = SearchEngine(path)
    with engine.write_lock():
        engine.rebuild(iter(_documents()), checkpoint=0, batch=BATCH, procs=int(mode))


def _digest_in_fresh_process(mode: str, tmp_path) -> dict:
    path = str(tmp_path / mode)
    out = subprocess.run([sys.executable, "-m", "tests.test_search_rebuild", mode, path], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_bulk_writer_writes_the_index_whoosh_writes_in_one_and_two_processes(tmp_path):
    reference = _digest_in_fresh_process("whoosh", tmp_path)
    assert _digest_in_fresh_process("1", tmp_path) == reference
    assert _digest_in_fresh_process("2", tmp_path) == reference


def _failing(docs, after: int):
    for i, d in enumerate(docs):
        if i == after:
            raise RuntimeError("database went away")
        yield d


def test_a_failed_two_process_rebuild_stops_its_second_process_and_keeps_the_old_index(tmp_path, monkeypatch):
    engine = SearchEngine(str(tmp_path / "index"))
    docs = _documents()
    with engine.write_lock():
        engine.rebuild(iter(docs), checkpoint=0, batch=BATCH)
    before = engine.search(SearchRequest(q="旗舰店"))
    # other tests may have left idle threads in this process; none of them is segmenting now
    monkeypatch.setattr(store.threading, "active_count", lambda: 1)
    children = []
    monkeypatch.setattr(bulk.Deriver, "add", lambda self, words, docs, add=bulk.Deriver.add: (
        children.append(self.child), add(self, words, docs)))
    with engine.write_lock(), pytest.raises(RuntimeError):
        engine.rebuild(_failing(docs, 3 * BATCH + 5), checkpoint=1, batch=BATCH)
    assert children and children[0] is not None  # it did run in two processes
    assert multiprocessing.active_children() == []
    after = engine.search(SearchRequest(q="旗舰店"))
    assert (after.total, [h.id for h in after.hits]) == (before.total, [h.id for h in before.hits])
    assert engine.checkpoint() == 0
    assert not list((tmp_path / "index").glob("gen-*/derived-postings.tmp"))


if __name__ == "__main__":  # python -m tests.test_search_rebuild MODE PATH: build, print the digest
    _build(sys.argv[1], sys.argv[2])
    target = sys.argv[2] if sys.argv[1] == "whoosh" else os.path.realpath(os.path.join(sys.argv[2], "current"))
    print(json.dumps(index_digest(target)))
