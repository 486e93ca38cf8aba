"""Pruning the search outbox with two appliers (two machines, two index directories)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from marketplace.clock import utc_now
from marketplace.extensions import db
from marketplace.models import SearchApplierHeartbeat, SearchOutbox, directory_version
from marketplace.search_sync import applier, pruning
from search_index import SearchEngine
from search_index.api import SearchRequest
from tests import factories as f


def _age_outbox(days: int) -> None:
    """Pretend every outbox row so far was written ``days`` ago."""
    db.session.execute(update(SearchOutbox).values(created_at=utc_now() - timedelta(days=days)))
    db.session.commit()


def _prune() -> pruning.PruneReport:
    with applier._private_session() as session:
        return pruning.prune(session)


def _outbox_ids() -> list[int]:
    return list(db.session.scalars(select(SearchOutbox.id).order_by(SearchOutbox.id)))


def _finds(engine: SearchEngine, word: str) -> bool:
    return bool(engine.search(SearchRequest(q=word, kind="enterprise")).hits)


def test_two_appliers_prune_only_what_both_applied_and_a_late_machine_rebuilds(app, tmp_path):
    a, b = SearchEngine(str(tmp_path / "a")), SearchEngine(str(tmp_path / "b"))
    f.make_enterprise("广东甲机测试有限公司", brands=["甲机牌"])
    db.session.commit()
    applier.apply_pending(blocking=True, engine=a)
    applier.apply_pending(blocking=True, engine=b)
    assert db.session.scalar(select(func.count()).select_from(SearchApplierHeartbeat)) == 2

    f.make_enterprise("广东乙机测试有限公司", brands=["乙机牌"])
    db.session.commit()
    applier.apply_pending(blocking=True, engine=a)  # B has not applied the newest rows yet
    b_checkpoint = b.checkpoint()
    _age_outbox(days=8)

    rep = _prune()
    assert rep.live_machines == 2 and rep.through_id == b_checkpoint
    assert min(_outbox_ids()) > b_checkpoint, "rows B has not applied stay"
    assert _prune().deleted == 0, "pruning again changes nothing"

    applier.apply_pending(blocking=True, engine=b)
    assert _finds(b, "乙机牌")

    # B goes away for longer than the retention while changes continue through A.
    db.session.execute(update(SearchApplierHeartbeat).where(SearchApplierHeartbeat.machine == pruning.machine_name(b))
                       .values(seen_at=utc_now() - timedelta(days=9)))
    stale_b = b.checkpoint()
    f.make_enterprise("广东丙机测试有限公司", brands=["丙机牌"])
    db.session.commit()
    f.make_enterprise("广东丁机测试有限公司", brands=["丁机牌"])
    db.session.commit()
    applier.apply_pending(blocking=True, engine=a)
    _age_outbox(days=8)
    head = directory_version()

    rep = _prune()
    assert rep.live_machines == 1 and rep.through_id > stale_b
    assert _outbox_ids()[-1] == head, "the head row stays: it is the directory version"
    assert directory_version() == head

    assert pruning.needs_rebuild(db.session, b.checkpoint())
    applier.apply_pending(blocking=True, engine=b)  # B notices the pruned rows and rebuilds
    assert b.checkpoint() >= head
    assert _finds(b, "丙机牌") and _finds(b, "丁机牌"), "nothing B missed is lost"


def test_nothing_is_pruned_before_the_retention_or_without_a_live_applier(app, tmp_path):
    f.make_enterprise("广东保留期测试有限公司", brands=["保留牌"])
    db.session.commit()
    before = _outbox_ids()
    assert _prune().deleted == 0, "no applier has said what it applied"
    applier.apply_pending(blocking=True, engine=SearchEngine(str(tmp_path / "x")))
    assert _prune().deleted == 0, "rows younger than the retention stay"
    assert _outbox_ids() == before


def test_cli_prune(app, runner, tmp_path):
    f.make_enterprise("广东命令行清理有限公司")
    db.session.commit()
    applier.apply_pending(blocking=True, engine=SearchEngine(str(tmp_path / "y")))
    f.make_enterprise("广东命令行清理二有限公司")
    db.session.commit()
    applier.apply_pending(blocking=True, engine=SearchEngine(str(tmp_path / "y")))
    _age_outbox(days=8)
    result = runner.invoke(args=["search", "prune"])
    assert result.exit_code == 0, result.output
    assert "已清理变更队列" in result.output
    assert len(_outbox_ids()) == 1
