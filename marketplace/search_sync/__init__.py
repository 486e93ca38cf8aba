"""The only bridge between the database and ``search_index``.

Design:

1. **Outbox in the same transaction.** An ``after_flush`` listener on the session writes one
   ``SearchOutbox`` row per changed indexed entity (enterprise / shop / platform) with the same
   connection, so the rows commit or roll back with the change itself: a rollback indexes
   nothing, and nothing committed is ever missed. Changes made with bulk SQL (which the ORM does
   not see) call ``enqueue(entity, ids)``.
2. **Idempotent applier.** ``apply_pending()`` reads outbox rows past the checkpoint stored in
   the index directory, re-reads each entity's CURRENT state and replaces or deletes its
   document. Replaying a row is harmless, so a crash between the Whoosh commit and the
   checkpoint write only causes a replay. On PostgreSQL, sequence values are not handed out in
   commit order: the checkpoint only moves past a gap in ids once the gap is ``GAP_GRACE``
   seconds old (a rolled-back transaction), so a slow transaction's row is never skipped.
3. **One writer, nobody waits.** The applier takes the engine's non-blocking ``flock``; when
   another thread or process holds it, this turn is skipped (that holder is applying the same
   rows). Requests therefore never wait on, nor see, Whoosh's ``LockError``.
4. **No daemon in the embedded default** (``SEARCH_SYNC_INLINE=true``): every web process starts
   a background applier thread on its first request that runs every ``SEARCH_SYNC_INTERVAL``
   seconds, and a search first applies pending rows itself when the checkpoint lags behind the
   outbox (bounded batch, non-blocking lock). So a change committed in any process is searchable
   in every process within about one interval (< 2 s), and a search right after a commit in
   the same process already sees it. Each process's searcher notices new index generations
   by itself. With ``SEARCH_SYNC_INLINE=false`` (gunicorn + ``flask search sync --loop``) the
   web workers only read.
5. **Self-healing.** A missing or damaged index is rebuilt (into a new directory, swapped in
   atomically) at start, by the applier thread, or on the first search that notices; meanwhile
   searches are answered from the database. ``check_consistency`` compares the content digest
   of every public row with the index and repairs differences (hourly in the applier thread,
   and ``flask search check``).
6. **The database has the last word.** Search hits are loaded from the database by id and
   anything no longer public is dropped, so a stale index can never show a revoked listing.

Package layout (one job per module; imports only point down this list):

* ``engines`` – this process's ``SearchEngine`` per index directory; tuning constants.
* ``thesaurus`` – the query-time synonyms (from the database) and place names, cached per process.
* ``documents`` – index documents built from the database.
* ``outbox`` – the ``after_flush`` outbox listener and ``enqueue``.
* ``applier`` – applying outbox rows, rebuild, ``ensure_index``.
* ``consistency`` – ``check_consistency`` (digest comparison and repair).
* ``background`` – the applier thread, ``sync_loop``, ``catch_up``.
* ``querying`` – ``search`` / ``resolve`` / database fallback / ``suggest`` / ``status`` for the views.
* ``cli`` – ``init_app`` and the ``flask search`` commands.

Callers import what they use from the module that defines it (``search_sync.querying.search``,
``search_sync.outbox.enqueue``, ``search_sync.cli.init_app`` ...); this package defines nothing.
"""
