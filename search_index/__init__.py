"""A Chinese directory search engine on Whoosh 2.7.4 (no Flask, no ``marketplace`` imports).

Modules (callers import names from the module that defines them):

* ``analysis`` – text normalisation (NFKC, Cf removal, lower case, Traditional -> Simplified,
  Latin tone marks folded), the rjieba tokenizer Whoosh pickles into the index, the user
  dictionary, character bigrams and pinyin helpers.
* ``schema`` – the one index schema (enterprises, shops and platforms, told apart by ``kind``)
  and the document builder that turns a plain dict into Whoosh fields.
* ``thesaurus`` – query-time synonyms (two-way groups, one-way rules) and place names.
* ``query`` – turns untrusted user input into groups of alternatives, without the query parser.
* ``fastpath`` – evaluates those groups from posting blocks in bulk.
* ``store`` – opening, the write lock, checkpoint, writing, rebuilding (new directory + atomic swap);
* ``storage`` – the index files, mapped read-only and shared by every process;
* ``bulk`` – the rebuild's writer: Whoosh's segment files without its posting pool (memory, speed),
  the derived fields (pinyin, bigrams, lexicon) in a forked second process;
* ``searching`` – searching, ranking, highlights and "did you mean";
* ``docdata`` – per-document metadata and the arrays built from it, kept per segment;
* ``vocabulary`` – the index's words within a few edits of a typed word (per-segment term lists);
* ``facets`` – facet filters and counts over the matches;
* ``suggest`` – autocomplete;
* ``api`` – the errors, request/response dataclasses and constants they share.

``SearchEngine`` (below) is the one object callers hold. Its on-disk layout under the root
directory (``SEARCH_INDEX_DIR``)::

    root/current -> gen-<time>-<random>     symlink to the live index generation
    root/gen-.../                             a Whoosh index + checkpoint.json + userdict.txt + format.json
    root/write.lock                           our single-writer lock (fcntl.flock)

* A rebuild writes a complete new generation and swaps the ``current`` symlink with
  ``os.replace`` (atomic on POSIX). Searches keep using the old generation until then; every
  search notices the swap by re-reading the symlink (one ``readlink`` call).
* The checkpoint (last applied outbox id) lives inside the generation directory, so it always
  describes exactly the index next to it: a swapped-in rebuild brings its own checkpoint.
* ``format.json`` records the index format (schema and analysis version); a generation written by
  an older format is reported unavailable, which makes the caller rebuild it.
* One writer at a time: ``write_lock()`` is a non-blocking ``flock`` on ``write.lock``; callers
  that do not get it skip their turn (``LockBusy``) instead of waiting on Whoosh's lock.
* Searchers are shared per process; a new one is opened when the index changed
  (``up_to_date``) and the old one is closed only after its last user is done with it.
* Facet counts and sorting read one ``meta`` column per document, decoded once per segment
  and cached by segment id, so a commit of one document does not re-read 100,000.
"""
from __future__ import annotations

from .searching import SearchMixin
from .store import IndexStore
from .suggest import SuggestMixin


class SearchEngine(SuggestMixin, SearchMixin, IndexStore):
    """A Chinese directory index rooted at ``root``. Thread-safe; one instance per process.

    The code lives in sibling modules: ``store`` (lifecycle, locking, writing, rebuild, swap),
    ``searching`` (search, ranking, "did you mean") with ``facets`` (filters and counts), and
    ``suggest`` (autocomplete).
    """


__all__ = ["SearchEngine"]
