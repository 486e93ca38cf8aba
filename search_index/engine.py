"""The search engine: index lifecycle, writing, searching, facets, suggestions.

On-disk layout under the root directory (``SEARCH_INDEX_DIR``)::

    root/current -> gen-<time>-<random>     symlink to the live index generation
    root/gen-.../                             a Whoosh index + checkpoint.json + userdict.txt
    root/write.lock                           our single-writer lock (fcntl.flock)

* A rebuild writes a complete new generation and swaps the ``current`` symlink with
  ``os.replace`` (atomic on POSIX). Searches keep using the old generation until then; every
  search notices the swap by re-reading the symlink (one ``readlink`` call).
* The checkpoint (last applied outbox id) lives inside the generation directory, so it always
  describes exactly the index next to it: a swapped-in rebuild brings its own checkpoint.
* One writer at a time: ``write_lock()`` is a non-blocking ``flock`` on ``write.lock``; callers
  that do not get it skip their turn (``LockBusy``) instead of waiting on Whoosh's lock.
* Searchers are shared per process; a new one is opened when the index changed
  (``up_to_date``) and the old one is closed only after its last user is done with it.
* Facet counts and sorting read one ``meta`` column per document, decoded once per segment
  and cached by segment id, so a commit of one document does not re-read 100,000.
"""
from __future__ import annotations

import logging

from .api import (  # noqa: F401 - re-exported: importable from search_index.engine as before
    CHECKPOINT_FILE, CURRENT, FACET_GROUPS, FEW_RESULTS, POSTING_CACHE, REBUILD_LIMITMB, SORTS,
    USERDICT_FILE, WEIGHTING, Hit, IndexUnavailable, LockBusy, SearchRequest, SearchResponse,
    Suggestion,
)
from .schema import FACET_FIELDS, doc_key  # noqa: F401 - re-exported
from .searching import SearchMixin
from .store import IndexStore, _read_checkpoint, _SearcherRef  # noqa: F401 - re-exported
from .suggest import SuggestMixin, _matching_name  # noqa: F401 - re-exported

log = logging.getLogger(__name__)


class SearchEngine(SuggestMixin, SearchMixin, IndexStore):
    """A Chinese directory index rooted at ``root``. Thread-safe; one instance per process.

    The code lives in sibling modules: ``store`` (lifecycle, locking, writing, rebuild, swap),
    ``searching`` (search, facets, ranking, "did you mean") and ``suggest`` (autocomplete).
    """


__all__ = ["FACET_FIELDS", "Hit", "IndexUnavailable", "LockBusy", "SearchEngine", "SearchRequest",
           "SearchResponse", "Suggestion", "doc_key"]
