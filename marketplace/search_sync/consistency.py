"""Consistency check: compare every public row's content digest with the index and repair.
"""
from __future__ import annotations

from dataclasses import dataclass, field


from search_index.schema import doc_key

from .applier import _private_session
from .documents import build_documents, iter_all_documents
from .engines import get_engine


@dataclass
class ConsistencyReport:
    expected: int = 0
    indexed: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.stale)


def check_consistency(repair: bool = True) -> ConsistencyReport:
    """Compare every public row's document digest with the index; optionally repair.

    Differences come from lost outbox rows (bulk SQL without ``enqueue``, manual database
    edits) or an index restored from a backup; the repair re-indexes exactly those keys."""
    engine = get_engine()
    with _private_session() as session:
        expected = {doc_key(d["kind"], d["id"]): d["digest"] for d in iter_all_documents(session)}
        session.rollback()
        actual = engine.digests()
        rep = ConsistencyReport(expected=len(expected), indexed=len(actual))
        rep.missing = sorted(k for k in expected if k not in actual)
        rep.extra = sorted(k for k in actual if k not in expected)
        rep.stale = sorted(k for k in expected if k in actual and actual[k] != expected[k])
        if repair and not rep.ok:
            keys = [(k.split(":")[0], int(k.split(":")[1])) for k in rep.missing + rep.extra + rep.stale]
            with engine.write_lock(blocking=True, timeout=60):
                docs, deletes = build_documents(keys, session)
                session.rollback()
                engine.apply(docs, deletes)
            rep.repaired = True
    return rep
