"""A Chinese directory search engine on Whoosh 2.7.4 (no Flask, no ``marketplace`` imports).

Modules:

* ``analysis`` – text normalisation (NFKC, Cf removal, lower case, Traditional -> Simplified),
  the rjieba tokenizer Whoosh pickles into the index, the user dictionary and pinyin helpers.
* ``schema`` – the one index schema (enterprises, shops and platforms, told apart by ``kind``)
  and the document builder that turns a plain dict into Whoosh fields.
* ``query`` – turns untrusted user input into a Whoosh query without the query parser.
* ``engine`` – ``SearchEngine``, assembled from:
  * ``store`` – opening, the write lock, checkpoint, writing, rebuilding (new directory + atomic swap);
  * ``searching`` – searching, facets, ranking, highlights and "did you mean";
  * ``suggest`` – autocomplete;
  * ``api`` – the errors, request/response dataclasses and constants they share.

The public API takes and returns plain dicts and dataclasses; see ``engine.SearchEngine``.
"""
from .engine import (
    FACET_FIELDS, Hit, IndexUnavailable, LockBusy, SearchEngine, SearchRequest, SearchResponse,
    Suggestion,
)

__all__ = [
    "FACET_FIELDS", "Hit", "IndexUnavailable", "LockBusy", "SearchEngine", "SearchRequest",
    "SearchResponse", "Suggestion",
]
