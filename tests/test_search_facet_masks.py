"""Facet counts by bitmasks (many matches) equal the counts by ``Counter`` (few matches), on an
index of several segments with deletions, before and after a commit that adds a segment."""
import sys
from pathlib import Path

import pytest

from search_index import SearchEngine, facets
from search_index.api import SearchRequest
from search_index.schema import doc_key

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from search_bench import build_documents  # noqa: E402

QUERIES = ["旗舰店", "陶瓷", "佛山", "食品", "专卖店", "广州 食品", "meidi", "火星探测器"]


def _answers(engine: SearchEngine, kind: str = "") -> list:
    out = []
    for q in QUERIES:
        resp = engine.search(SearchRequest(q=q, kind=kind))
        out.append((q, resp.total, [(h.kind, h.id) for h in resp.hits], resp.facets))
    return out


def _both_ways(engine: SearchEngine, monkeypatch, kind: str = "") -> tuple[list, list]:
    monkeypatch.setattr(facets, "MASK_COUNT_SHARE", 10**9)  # always Counter
    by_counter = _answers(engine, kind)
    monkeypatch.setattr(facets, "MASK_COUNT_SHARE", 0)  # always bitmasks
    return by_counter, _answers(engine, kind)


@pytest.fixture
def engine(tmp_path):
    engine = SearchEngine(str(tmp_path / "index"))
    docs = build_documents(1200)
    with engine.write_lock():
        engine.rebuild(iter(docs[:800]), checkpoint=0)
        engine.apply(docs[800:1000], checkpoint=1)  # a second segment
        engine.apply(delete_keys=[doc_key(d["kind"], d["id"]) for d in docs[::7]], checkpoint=2)  # deletions in both
    engine.later = docs[1000:]
    yield engine
    engine.close()


def test_bitmask_counts_equal_counter_counts_over_segments_and_deletions(engine, monkeypatch):
    by_counter, by_masks = _both_ways(engine, monkeypatch)
    assert by_counter == by_masks
    assert any(counts["city"] for _q, total, _hits, counts in by_masks if total), "some facets were counted"
    assert _both_ways(engine, monkeypatch, kind="shop")[0] == _both_ways(engine, monkeypatch, kind="shop")[1]


def test_a_commit_adds_the_new_segment_to_the_masks(engine, monkeypatch):
    _both_ways(engine, monkeypatch)  # masks of the first two segments are kept
    with engine.write_lock():
        engine.apply(engine.later, checkpoint=3)
    by_counter, by_masks = _both_ways(engine, monkeypatch)
    assert by_counter == by_masks
    total = dict((q, t) for q, t, _h, _f in by_masks)["旗舰店"]
    assert total > 0


def test_per_segment_arrays_after_commits_answer_as_a_fresh_engine(engine):
    """The flat arrays are put together from per-segment parts kept across commits: after a
    commit that adds a segment and deletes from the others, the warm engine answers exactly as
    one that reads the index for the first time, and numbers the same owners."""
    _answers(engine)  # parts of the first two segments are kept
    with engine.write_lock():
        engine.apply(engine.later, delete_keys=[doc_key(d["kind"], d["id"]) for d in engine.later[::5]], checkpoint=3)
    fresh = SearchEngine(engine.root)
    try:
        assert _answers(engine) == _answers(fresh)
        assert _answers(engine, kind="shop") == _answers(fresh, kind="shop")
        with engine._searcher() as warm_ref, fresh._searcher() as fresh_ref:
            assert list(engine._owners(warm_ref)) == list(fresh._owners(fresh_ref))
            assert len(engine._arrays(warm_ref)[0]) == warm_ref.searcher.doc_count_all()
    finally:
        fresh.close()
