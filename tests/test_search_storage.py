"""The index files are read from shared read-only maps (search_index/storage.py), and searching
still works where a file cannot be mapped."""
import mmap
import sys
from pathlib import Path

from search_index import SearchEngine, storage
from search_index.api import SearchRequest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from search_bench import build_documents  # noqa: E402


def _engine(tmp_path) -> SearchEngine:
    engine = SearchEngine(str(tmp_path / "index"))
    with engine.write_lock():
        engine.rebuild(iter(build_documents(600)), checkpoint=0)
    return engine


def _answers(engine: SearchEngine) -> list:
    return [(r.total, [(h.kind, h.id, h.score) for h in r.hits], r.facets)
            for r in (engine.search(SearchRequest(q=q)) for q in ("旗舰店", "佛山 陶瓷", "meidi", "食品"))]


def test_segments_are_read_from_maps_without_copies(tmp_path):
    engine = _engine(tmp_path)
    try:
        assert _answers(engine)[0][0] > 0
        with engine._searcher() as ref:
            reader = ref.searcher.leaf_searchers()[0][0].reader()
            postings = reader._terms._dbfile if hasattr(reader, "_terms") else None
        assert isinstance(postings, storage.MappedFile), type(postings)
    finally:
        engine.close()


def test_files_that_cannot_be_mapped_are_read_plainly_with_the_same_answers(tmp_path, monkeypatch):
    engine = _engine(tmp_path)
    try:
        mapped = _answers(engine)
    finally:
        engine.close()

    def refuse(*args, **kwargs):
        raise OSError("mmap not supported on this file system")

    monkeypatch.setattr(mmap, "mmap", refuse)  # the standard library's, as a file system without mmap
    engine = SearchEngine(str(tmp_path / "index"))
    try:
        assert _answers(engine) == mapped
    finally:
        engine.close()
