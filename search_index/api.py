"""Shared vocabulary of the search engine: errors, request/response dataclasses, constants.

Imported by ``store``, ``searching``, ``suggest`` and ``engine``; imports none of them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from whoosh import scoring

from .thesaurus import Thesaurus


CURRENT = "current"
CHECKPOINT_FILE = "checkpoint.json"
FORMAT_FILE = "format.json"
USERDICT_FILE = "userdict.txt"
SORTS = ("relevance", "newest", "visits")
# TF-IDF with the schema's field boosts (brand > name > description) and document boosts
# (badges). BM25F ranked the same in our tests but reads every matching document's field
# length, which made broad queries ~40% slower.
WEIGHTING = scoring.TF_IDF()
FEW_RESULTS = 3
# Beyond this many matching documents a response does not list its matched enterprises (a set of
# ids per cached page): such broad searches depend on every listing's text.
MAX_TRACKED_MATCHES = 20_000
# Decoded postings kept per searcher (about 12 bytes each): see fastpath.PostingCache.
POSTING_CACHE = 1_000_000
# Facets counted together (few distinct combinations per group): see _filter_and_count.
FACET_GROUPS = (("city", "region"), ("platform", "shop_type"), ("industry", "badge"))


class IndexUnavailable(Exception):
    """The index is missing or damaged; callers rebuild it and answer from the database."""


class LockBusy(Exception):
    """Another thread or process is writing the index right now."""


@dataclass
class SearchRequest:
    """What to search: text, kind, facet filters (facet -> value), sort and page."""

    q: str = ""
    kind: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    thesaurus: Thesaurus | None = None  # synonyms and places applied to ``q``


@dataclass
class Hit:
    kind: str
    id: int
    score: float
    name: str
    highlight: str | None


@dataclass
class SearchResponse:
    query: str
    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]
    suggestion: str | None = None
    partial: bool = False  # no document had every word; these match some of them
    fuzzy: bool = False  # Latin words were matched approximately
    tokens: list[str] = field(default_factory=list)
    # expansions the results used: {"kind": "synonym"|"place", "text": typed word, "label": expansion}
    expansions: list[dict] = field(default_factory=list)
    # What the answer depends on beyond the documents it shows, for the page cache: called, it
    # gives the texts it matched on (``ParsedQuery.word_terms``) and the enterprises owning any
    # matching document (totals and facets count them too); None when any document's text may
    # change it (approximate Latin words or a "did you mean" were looked for, or more than
    # MAX_TRACKED_MATCHES matches). A callable because listing the enterprises of 20,000 matches
    # costs about a millisecond, which only the HTML page, about to be cached, needs.
    text_dependency: Callable[[], tuple[tuple[str, ...], frozenset[int]] | None] = field(
        default=lambda: None, repr=False, compare=False)

    def to_dict(self) -> dict:
        return {
            "query": self.query, "total": self.total, "page": self.page, "per_page": self.per_page,
            "hits": [h.__dict__ for h in self.hits],
            "facets": {f: [{"value": v, "count": c} for v, c in vals] for f, vals in self.facets.items()},
            "suggestion": self.suggestion, "partial": self.partial, "fuzzy": self.fuzzy,
            "expansions": self.expansions,
        }


@dataclass
class Suggestion:
    text: str
    kind: str
    id: int
