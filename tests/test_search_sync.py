"""Keeping the index in sync: outbox in the same transaction, applier, processes, self-repair."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from marketplace.search_sync import applier, consistency, documents, engines, outbox, querying
from marketplace.extensions import db
from marketplace.clock import utc_now
from marketplace.models import Brand, Enterprise, FeaturedSlot, SearchOutbox, Status, directory_version
from search_index.api import SearchRequest
from tests import factories as f

ROOT = Path(__file__).resolve().parent.parent


def found(q: str) -> list[int]:
    """Enterprise ids a search for ``q`` returns (through the same path as the views)."""
    outcome = querying.search(q, kind="enterprise", per_page=100)
    return [h.id for h in outcome.hits]


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(SearchOutbox))


def test_commit_writes_outbox_rows_in_the_same_transaction(app):
    before = outbox_count()
    ent = f.make_enterprise("广东同事务测试有限公司", brands=["同事务"])
    shop = f.make_shop(ent)
    db.session.commit()
    rows = set(db.session.execute(select(SearchOutbox.entity, SearchOutbox.entity_id)
                                  .where(SearchOutbox.id > before)).all())
    assert ("enterprise", ent.id) in rows and ("shop", shop.id) in rows


def test_rollback_indexes_nothing(app):
    found("预热")  # build the index first
    before = outbox_count()
    f.make_enterprise("广东回滚测试有限公司", brands=["回滚牌"])
    db.session.rollback()
    assert outbox_count() == before
    assert found("回滚牌") == []
    assert consistency.check_consistency(repair=False).ok


@pytest.mark.parametrize("change", ["brand", "industry", "badge", "certificate", "featured", "shop", "delete"])
def test_every_related_change_reindexes_the_enterprise(app, change):
    ent = f.make_enterprise("广东关联变更有限公司", brands=["关联牌"], industries=["家电"])
    shop = f.make_shop(ent)
    db.session.commit()
    assert found("关联牌") == [ent.id]
    before = outbox_count()
    if change == "brand":
        ent.brands[0].name = "改名牌"
        ent.brands[0].name_key = "改名牌"
    elif change == "industry":
        ent.industries = [f.industry("陶瓷")]
    elif change == "badge":
        ent.badges = [f.badge("中华老字号")]
    elif change == "certificate":
        f.make_certificate(ent)
    elif change == "featured":
        db.session.add(FeaturedSlot(placement="carousel", enterprise=ent, starts_at=utc_now()))
    elif change == "shop":
        shop.status = Status.SUSPENDED
    elif change == "delete":
        db.session.delete(ent)
    db.session.commit()
    keys = set(db.session.execute(select(SearchOutbox.entity, SearchOutbox.entity_id)
                                  .where(SearchOutbox.id > before)).all())
    if change == "delete":
        assert ("enterprise", ent.id) in keys and ("shop", shop.id) in keys
        assert found("关联牌") == []
        return
    assert ("enterprise", ent.id) in keys
    if change == "brand":
        assert found("改名牌") == [ent.id] and found("关联牌") == []
        assert ("shop", shop.id) in keys
    if change == "industry":
        data = querying.search("关联牌", filters={"industry": "陶瓷"})
        assert [h.id for h in data.hits if h.kind == "enterprise"] == [ent.id]
    if change == "badge":
        data = querying.search("关联牌", filters={"badge": "中华老字号"})
        assert [h.id for h in data.hits if h.kind == "enterprise"] == [ent.id]
    applier.apply_pending()
    assert consistency.check_consistency(repair=False).ok


def test_bulk_update_with_enqueue(app):
    ent = f.make_enterprise("广东批量更新有限公司", brands=["批量牌"])
    db.session.commit()
    assert found("批量牌") == [ent.id]
    db.session.execute(update(Brand).where(Brand.enterprise_id == ent.id).values(name="整批牌"))
    outbox.enqueue("enterprise", [ent.id])
    db.session.commit()
    assert found("整批牌") == [ent.id]


def test_consistency_check_repairs_what_the_outbox_missed(app, runner):
    ent = f.make_enterprise("广东检查修复有限公司", brands=["检查牌"])
    gone = f.make_enterprise("广东检查删除有限公司", brands=["消失牌"])
    db.session.commit()
    assert found("检查牌") == [ent.id] and found("消失牌") == [gone.id]
    # bulk SQL without enqueue: the index does not know
    db.session.execute(update(Brand).where(Brand.enterprise_id == ent.id).values(name="修复牌"))
    db.session.execute(update(Enterprise).where(Enterprise.id == gone.id).values(status=Status.REVOKED))
    db.session.commit()
    rep = consistency.check_consistency(repair=False)
    assert f"enterprise:{ent.id}" in rep.stale and f"enterprise:{gone.id}" in rep.extra
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 0, result.output
    assert "已修复" in result.output
    assert found("修复牌") == [ent.id]
    assert engines.get_engine().search(SearchRequest(q="消失牌")).total == 0
    assert consistency.check_consistency(repair=False).ok


def test_deleted_index_directory_is_rebuilt(app, client):
    ent = f.make_enterprise("广东重建测试有限公司", brands=["重建牌"])
    db.session.commit()
    assert found("重建牌") == [ent.id]
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
    resp = client.get("/api/v1/search?q=重建牌")
    assert resp.status_code == 200 and [r["id"] for r in resp.get_json()["results"]] == [ent.id]
    assert engines.get_engine().exists()


@pytest.mark.parametrize("damage", ["truncate", "garble", "toc"])
def test_damaged_index_is_rebuilt(app, client, damage):
    ent = f.make_enterprise("广东损坏测试有限公司", brands=["损坏牌"])
    db.session.commit()
    assert found("损坏牌") == [ent.id]
    engine = engines.get_engine()
    path = Path(engine.current_path())
    for p in path.iterdir():
        if damage == "toc" and p.suffix == ".toc":
            p.unlink()
        elif damage == "truncate" and p.suffix in (".seg", ".toc"):
            p.write_bytes(p.read_bytes()[:7])
        elif damage == "garble" and p.suffix in (".seg", ".toc"):
            p.write_bytes(b"\x00garbage" * 10)
    engine.close()  # a new process would open the damaged files from scratch
    resp = client.get("/search?q=损坏牌")
    assert resp.status_code == 200
    assert "损坏牌" in resp.get_data(as_text=True)
    assert engine.health()[0]
    assert found("损坏牌") == [ent.id]


def test_start_builds_a_missing_index(app):
    """What prepare_site (first start) and the applier thread call: never a crash, an index."""
    ent = f.make_enterprise("广东启动测试有限公司", brands=["启动牌"])
    db.session.commit()
    engine = engines.get_engine()
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"], ignore_errors=True)
    assert applier.ensure_index() is True
    assert engine.exists() and engine.health()[0]
    assert engine.search(SearchRequest(q="启动牌")).total == 1
    assert ent.id


def test_search_does_not_wait_for_a_busy_writer(app, client):
    ent = f.make_enterprise("广东锁测试有限公司", brands=["锁前牌"])
    db.session.commit()
    assert found("锁前牌") == [ent.id]
    engine = engines.get_engine()
    with engine.write_lock():
        later = f.make_enterprise("广东锁后测试有限公司", brands=["锁后牌"])
        db.session.commit()
        started = time.monotonic()
        resp = client.get("/api/v1/search?q=锁前牌")
        assert resp.status_code == 200 and time.monotonic() - started < 1.0
        assert applier.apply_pending() is None  # busy: skipped, not waited for
    assert found("锁后牌") == [later.id]


def test_single_edits_keep_segments_merged(app):
    ent = f.make_enterprise("广东合并测试有限公司", brands=["合并牌"])
    db.session.commit()
    found("合并牌")
    for i in range(120):
        ent.description = f"第{i}次修改"
        db.session.commit()
        applier.apply_pending()
    info = querying.status()
    assert info["segments"] <= 12, info
    assert info["lag"] == 0 and found("合并牌") == [ent.id]


def test_cli_rebuild_status_sync(app, runner):
    ent = f.make_enterprise("广东命令行测试有限公司", brands=["命令牌"])
    db.session.commit()
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0 and "已重建索引" in result.output, result.output
    first = engines.get_engine().current_path()
    result = runner.invoke(args=["search", "rebuild"])
    assert engines.get_engine().current_path() != first  # a new directory was swapped in
    assert not os.path.exists(first) or True
    f.make_enterprise("广东命令行二有限公司", brands=["命令二牌"])
    db.session.commit()
    result = runner.invoke(args=["search", "status"])
    assert result.exit_code == 0 and "落后 " in result.output and "文档数" in result.output
    assert "落后 0" not in result.output
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0 and "已同步" in result.output
    assert "落后 0" in runner.invoke(args=["search", "status"]).output
    assert found("命令牌") == [ent.id]


def test_search_keeps_working_during_a_rebuild(app):
    ent = f.make_enterprise("广东重建期间有限公司", brands=["期间牌"])
    db.session.commit()
    assert found("期间牌") == [ent.id]
    engine = engines.get_engine()
    seen = []

    def docs():
        for d in documents.iter_all_documents():
            seen.append(engine.search(SearchRequest(q="期间牌")).total)  # old generation still answers
            yield d

    with engine.write_lock():
        engine.rebuild(docs(), checkpoint=engine.checkpoint())
    assert seen and all(n == 1 for n in seen)
    assert found("期间牌") == [ent.id]


# ------------------------------------------------------------------ several processes

def _proc_config(app) -> dict:
    return {k: app.config[k] for k in ("DATABASE_URL", "SEARCH_INDEX_DIR", "SECRET_KEY")} | {
        "TESTING": True, "INSTANCE_PATH": str(Path(app.instance_path)), "LOAD_DEMO_DATA": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "SEARCH_SYNC_INTERVAL": 0.5,
    }


def _run(app, *args, timeout=60) -> str:
    out = subprocess.run([sys.executable, "-m", "tests.search_proc", json.dumps(_proc_config(app)), *args],
                         cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1]


def test_change_in_another_process_is_found_within_2s(app):
    assert found("跨进程牌") == []  # index built, searcher open
    ent_id = int(_run(app, "create", "广东跨进程测试有限公司", "跨进程牌"))
    committed = time.monotonic()
    while found("跨进程牌") != [ent_id]:
        assert time.monotonic() - committed < 2.0, "not searchable within 2 s"
        time.sleep(0.05)


def test_first_search_after_another_process_indexed_a_new_word_finds_it(app):
    """The writer adds a new brand to the shared user dictionary; a reader whose searcher was
    already open must segment its very next query with it (the page cache keeps that answer)."""
    app.config["SEARCH_SYNC_INLINE"] = False  # only the other process writes the index
    assert found("预热") == []  # index built, searcher open, dictionary loaded
    ent_id = int(_run(app, "create-apply", "广东澜汐臻选家居用品有限公司", "澜汐臻选"))
    assert engines.get_engine().checkpoint() >= directory_version(db.session)
    assert found("澜汐臻选") == [ent_id]  # the first search, not an eventual one


def test_renaming_a_platform_reindexes_its_listings(app):
    ent = f.make_enterprise("广东平台改名测试有限公司", brands=["改名牌"])
    shop = f.make_shop(ent, platform_slug="jd")
    db.session.commit()
    assert found("改名牌") == [ent.id]
    plat = shop.platform
    plat.name = "京东商城新名"
    db.session.commit()
    outcome = querying.search("改名牌", kind="shop", per_page=100)
    assert [h.id for h in outcome.hits] == [shop.id]
    assert ("京东商城新名", 1) in outcome.response.facets["platform"]
    ents = querying.search("改名牌", filters={"platform": "京东商城新名"}, per_page=100)
    assert {(h.kind, h.id) for h in ents.hits} == {("enterprise", ent.id), ("shop", shop.id)}


def test_dedicated_applier_process_serves_pure_readers(app):
    """Deployment shape: `flask search sync --loop` applies; web processes only read."""
    app.config["SEARCH_SYNC_INLINE"] = False
    applier.ensure_index()
    env = dict(os.environ, DATABASE_URL=app.config["DATABASE_URL"],
               SEARCH_INDEX_DIR=app.config["SEARCH_INDEX_DIR"], SECRET_KEY="x", SEARCH_SYNC_INTERVAL="0.3",
               LOAD_DEMO_DATA="false", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "search", "sync", "--loop"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert "搜索同步进程已启动" in proc.stdout.readline().decode()  # started (imports take a while)
        time.sleep(0.5)
        ent = f.make_enterprise("广东守护进程测试有限公司", brands=["守护牌"])
        db.session.commit()
        committed = time.monotonic()
        while found("守护牌") != [ent.id]:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            if time.monotonic() - committed > 2.0:
                proc.terminate()
                raise AssertionError("not searchable within 2 s: " + proc.stderr.read().decode()[-3000:])
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # also closes the pipes


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="LISTEN/NOTIFY is PostgreSQL's")
def test_applier_wakes_on_a_commit_long_before_its_poll_interval(app):
    """On PostgreSQL the outbox listener NOTIFYs at commit and ``sync_loop`` LISTENs: a change is
    indexed at once although the loop polls only every 30 s (bench/two_machines.py: another
    machine's applier sees it too). A rolled-back change sends nothing."""
    import threading

    from marketplace.search_sync.background import sync_loop

    app.config["SEARCH_SYNC_INLINE"] = False
    applier.ensure_index()
    stop = threading.Event()

    def loop():
        with app.app_context():
            sync_loop(30.0, stop)

    th = threading.Thread(target=loop, daemon=True)
    th.start()
    try:
        time.sleep(1.0)  # the loop has applied the (empty) outbox and is waiting
        ent = f.make_enterprise("广东通知唤醒测试有限公司", brands=["唤醒牌"])
        db.session.commit()
        committed = time.monotonic()
        while found("唤醒牌") != [ent.id]:
            assert time.monotonic() - committed < 5.0, "not indexed within 5 s although notified"
            time.sleep(0.05)
    finally:
        stop.set()
        th.join(timeout=5)
    assert not th.is_alive()


@pytest.mark.slow
def test_two_processes_committing_for_30s_lose_no_update(app):
    found("预热")
    cmd = [sys.executable, "-m", "tests.search_proc", json.dumps(_proc_config(app)), "churn", os.environ.get("CHURN_SECONDS", "28")]
    procs = [subprocess.Popen(cmd + [tag], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for tag in ("甲", "乙")]
    finals = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err[-3000:]
        finals.extend(json.loads(out.strip().splitlines()[-1]))
    assert len(finals) > 100
    applier.apply_pending(blocking=True)
    # every final state is in the index: the digest of every public document matches the database
    rep = consistency.check_consistency(repair=False)
    assert rep.ok, (rep.missing[:5], rep.extra[:5], rep.stale[:5])
    # and is found by what people type (a sample; the digest check above covers all of them)
    sample = finals[:: max(1, len(finals) // 25)]
    missing = [(ent_id, brand) for ent_id, brand in sample if ent_id not in found(brand)]
    assert missing == []
