"""The guarantee the page cache's search invalidation rests on (marketplace/page_changes.TextNeed):
every term the index holds for a document's word, sub-word, pinyin and initials fields, and so
every term a query can match on (``ParsedQuery.word_terms``), is a substring of the document's
``searchable_text``. If it failed, a cached search page could miss a listing whose new
description, brand or shop name matches it."""
from datetime import datetime

from hypothesis import given, settings, strategies as st

from search_index.analysis import chinese_analyzer, space_analyzer
from search_index.query import _walk_alts, parse
from search_index.schema import PINYIN_BOOSTS, TEXT_BOOSTS, searchable_text, to_fields
from search_index.searching import FUZZY_FIELDS
from search_index.thesaurus import Thesaurus

# Simplified and Traditional characters, full-width and accented Latin, punctuation and spaces.
ALPHABET = "吸顶灯燈飾廣州东莞瓷磚家私梳化雪柜凉茶涼茶電飯煲美兰的品牌旗舰店了和 ，。！Ａｂ１éMideamlgz-/·\u200b\t"
TEXT = st.text(alphabet=ALPHABET, max_size=40)
MATCHED_FIELDS = {*TEXT_BOOSTS, *PINYIN_BOOSTS, "sub"}  # the fields searchable_text covers


def _doc(name, brand, description):
    return {"kind": "enterprise", "id": 1, "name": name, "brands": [brand] if brand else [],
            "enterprise_name": "", "description": description, "city": "广州", "region": "珠三角",
            "industries": ["家居"], "badges": [], "places": ["番禺"], "platforms": ["天猫"],
            "shop_types": ["旗舰店"], "certified_at": datetime(2026, 1, 1), "visits": 0}


def _indexed_terms(doc) -> set[str]:
    fields = to_fields(doc)
    ana, space = chinese_analyzer(), space_analyzer()
    terms = {t.text for f in TEXT_BOOSTS for t in ana(fields[f])}
    return terms | {t.text for f in ("sub", *PINYIN_BOOSTS) for t in space(fields[f])}


def _thesaurus():
    thesaurus = Thesaurus()
    thesaurus.add_group(["梳化", "沙发"])
    return thesaurus


@settings(max_examples=300, deadline=None)
@given(name=TEXT, brand=TEXT, description=TEXT)
def test_every_indexed_term_is_in_the_searchable_text(name, brand, description):
    doc = _doc(name, brand, description)
    text = searchable_text(doc)
    assert [t for t in _indexed_terms(doc) if t not in text] == []


@settings(max_examples=300, deadline=None)
@given(query=TEXT)
def test_queries_read_only_fields_the_searchable_text_covers(query):
    pq = parse(query, _thesaurus())
    pq.add_fuzzy(lambda token: [(f, token + "x", 0.7) for f in FUZZY_FIELDS])  # as searching._fuzzy_terms
    fields = {f for alt in _walk_alts(pq.groups) for part in alt.parts if isinstance(part, list)
              for f, _t, _w in part}
    assert fields <= MATCHED_FIELDS
    assert pq.word_terms() or pq.empty


@settings(max_examples=300, deadline=None)
@given(query=TEXT, name=TEXT, description=TEXT)
def test_a_document_without_any_word_of_a_query_cannot_match_it(query, name, description):
    doc = _doc(name or "广东示例实业有限公司", "示例", description)
    words = parse(query, _thesaurus()).word_terms()
    if not any(w in searchable_text(doc) for w in words):
        assert not set(words) & _indexed_terms(doc)


def test_word_terms_of_typical_queries():
    assert parse("吸顶灯").word_terms() == ("吸顶", "吸顶灯", "顶灯")
    assert "meilan" in parse("Mei Lan").word_terms()
    assert {"沙发", "梳化"} <= set(parse("梳化", _thesaurus()).word_terms())
