"""Approximate words and "did you mean" read the vocabulary through ``vocabulary._terms_within``
(per-segment term lists, rapidfuzz's optimal string alignment distance): it must find exactly
the words Whoosh's ``terms_within`` finds, on an index of several segments, also after a commit
adds words."""
import random
import sys
from pathlib import Path

import pytest

from search_index import SearchEngine
from search_index.api import SearchRequest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from search_bench import build_documents  # noqa: E402

FIELDS = (("pykey", 1), ("pinyin", 1), ("pinyin", 2), ("brand", 1), ("name", 2))


@pytest.fixture
def engine(tmp_path):
    engine = SearchEngine(str(tmp_path / "index"))
    docs = build_documents(900)
    with engine.write_lock():
        engine.rebuild(iter(docs[:600]), checkpoint=0)
        engine.apply(docs[600:800], checkpoint=1)  # a second segment
    engine.later = docs[800:]
    yield engine
    engine.close()


def _typos(words: list[str], rnd: random.Random, n: int) -> list[str]:
    """Words with one slip each: a letter changed, dropped, inserted, or two swapped."""
    out = []
    for _ in range(n):
        w = list(rnd.choice(words))
        i = rnd.randrange(len(w))
        slip = rnd.randrange(4)
        if slip == 0:
            w[i] = rnd.choice("aeinoux")
        elif slip == 1 and len(w) > 1:
            del w[i]
        elif slip == 2 and i + 1 < len(w):
            w[i], w[i + 1] = w[i + 1], w[i]
        else:
            w.insert(i, rnd.choice("aeiou"))
        out.append("".join(w))
    return out


def _same_as_whoosh(engine: SearchEngine, seed: int) -> int:
    rnd = random.Random(seed)
    compared = 0
    with engine._searcher() as ref:
        reader = ref.searcher.reader()
        for field, maxdist in FIELDS:
            words = [t.decode() if isinstance(t, bytes) else t for t in reader.lexicon(field)]
            for typed in _typos([w for w in words if w.isascii()] or words, rnd, 40):
                assert engine._terms_within(ref, field, typed, maxdist) == set(
                    reader.terms_within(field, typed, maxdist, prefix=1)), (field, typed)
                compared += 1
    return compared


def test_the_same_words_as_whoosh_over_segments(engine):
    assert _same_as_whoosh(engine, seed=1) == 40 * len(FIELDS)


def test_a_commit_adds_its_words(engine):
    _same_as_whoosh(engine, seed=2)  # term lists of the first two segments are kept
    with engine.write_lock():
        engine.apply(engine.later, checkpoint=2)
    assert _same_as_whoosh(engine, seed=3)


def test_a_typo_of_a_brand_added_later_is_corrected(engine):
    doc = dict(engine.later[0], id=99999, name="Zorvexa 旗舰店", brands=["Zorvexa"])
    assert engine.search(SearchRequest(q="zorvxea")).total == 0
    with engine.write_lock():
        engine.apply([doc], checkpoint=2)
    resp = engine.search(SearchRequest(q="zorvxea"))
    assert resp.fuzzy and resp.total >= 1
