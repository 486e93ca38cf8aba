"""``flask check-urls [--apply]`` and the data migration that runs it (issue 11 item 1): stored
shop URLs and websites are re-checked with the browser's parser; a certified shop whose URL fails
is suspended with a reason, an audit entry and a mail; clean data loses nothing; a second run
changes nothing."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import AuditLog, Shop, Status
from marketplace.services.mail import read_outbox
from marketplace.services.url_audit import check_stored_urls
from tests import factories as f

BAD = "https://evil.example\\.tmall.com/"


def _world():
    owner = f.make_user(email="owner@example.com")
    ent = f.make_enterprise("佛山复核电器有限公司", owner=owner)
    good = f.make_shop(ent, url="https://fuhe.tmall.com/")
    bad = f.make_shop(ent, url=BAD, name="旧网址店")
    home = f.make_shop(ent, platform_slug="jd", url="https://www.jd.com/", name="平台首页店")
    pending_bad = f.make_shop(ent, url="https://x.tmall.com:8080/", status=Status.PENDING, name="待审店")
    other = f.make_enterprise("中山网址有限公司")
    other.website = "https://user@www.zhongshan-demo.cn/"
    db.session.commit()
    return ent, good, bad, home, pending_bad, other


def _audits() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditLog))


def test_report_only_changes_nothing(app, runner):
    ent, good, bad, home, pending_bad, other = _world()
    result = runner.invoke(args=["check-urls"])
    assert result.exit_code == 0, result.output
    assert "已检查店铺网址 4 个，企业官网 1 个；未通过 4 个；暂停认证店铺 0 家。" in result.output
    assert f"店铺 #{bad.id}" in result.output and "反斜杠" in result.output
    assert f"店铺 #{home.id}" in result.output and "不是店铺的网址" in result.output
    assert f"企业官网 #{other.id}" in result.output and "--apply" in result.output
    db.session.expire_all()
    assert {s.status for s in (good, bad, home, pending_bad)} == {Status.CERTIFIED, Status.PENDING}
    assert _audits() == 0 and read_outbox() == []


def test_apply_suspends_failing_certified_shops_once(app, runner):
    ent, good, bad, home, pending_bad, other = _world()
    result = runner.invoke(args=["check-urls", "--apply"])
    assert result.exit_code == 0, result.output
    assert "暂停认证店铺 2 家" in result.output
    db.session.expire_all()
    assert db.session.get(Shop, good.id).status == Status.CERTIFIED
    assert db.session.get(Shop, pending_bad.id).status == Status.PENDING  # reported, review checks it again
    for shop in (bad, home):
        shop = db.session.get(Shop, shop.id)
        assert shop.status == Status.SUSPENDED and shop.status_reason.startswith("网址复核未通过")
    entries = db.session.scalars(select(AuditLog).where(AuditLog.action == "shop.suspended")).all()
    assert {e.entity_id for e in entries} == {bad.id, home.id}
    mails = read_outbox()
    assert [m["To"] for m in mails] == ["owner@example.com"] * 2
    assert any("旧网址店" in m.get_content() and "网址复核未通过" in m.get_content() for m in mails)
    assert client_go(app, bad.id) == 404
    again = runner.invoke(args=["check-urls", "--apply"])
    assert "暂停认证店铺 0 家" in again.output
    assert len(read_outbox()) == 2 and _audits() == len(entries)


def client_go(app, shop_id: int) -> int:
    return app.test_client().get(f"/go/{shop_id}").status_code


def test_clean_demo_data_loses_nothing(app):
    from marketplace.services.demo import load_demo_data

    load_demo_data()
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(Shop).where(Shop.status == Status.CERTIFIED))
    report = check_stored_urls(apply=True)
    db.session.commit()
    assert report.failures == [] and report.suspended == []
    assert report.shops_checked > 100
    after = db.session.scalar(select(func.count()).select_from(Shop).where(Shop.status == Status.CERTIFIED))
    assert before == after


def _old_schema_shop(ent, url: str):
    """A certified shop inserted with the columns of the old schema only (the ORM model has the
    newest columns, e.g. ``verify_code``, which the downgraded table lacks)."""
    from types import SimpleNamespace

    from sqlalchemy import text

    from marketplace.clock import utc_now

    now = utc_now()
    shop_id = db.session.execute(text(
        "INSERT INTO shop (enterprise_id, platform_id, name, url, shop_type, status, status_reason, click_count, "
        "created_at, updated_at, certified_at, version) VALUES (:e, :p, :n, :u, '旗舰店', 'certified', '', 0, "
        ":t, :t, :t, 1) RETURNING id"),
        {"e": ent.id, "p": f.platform("tmall").id, "n": f"店铺{len(url)}", "u": url, "t": now}).scalar()
    return SimpleNamespace(id=shop_id)


def test_data_migration_runs_the_check_after_upgrade(tmp_path):
    """Upgrading across revision 9d2f6b1c4e7a with ``init-db`` suspends the failing shops."""
    from flask_migrate import downgrade

    from marketplace import create_app
    from marketplace.cli import init_database

    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "i"),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite3'}", "SECRET_KEY": "x",
                      "LOAD_DEMO_DATA": False})
    with app.app_context():
        init_database()
        downgrade(directory=str(app.config["MIGRATIONS_DIR"]), revision="8c3d5e7f9a1b")  # the revision before 9d2f6b1c4e7a
        ent = f.make_enterprise("升级前有限公司")
        bad, good = (_old_schema_shop(ent, url) for url in (BAD, "https://shengji.tmall.com/"))
        db.session.commit()
        init_database()
        db.session.expire_all()
        assert db.session.get(Shop, bad.id).status == Status.SUSPENDED
        assert db.session.get(Shop, good.id).status == Status.CERTIFIED
        init_database()  # nothing to apply: the flag is only set while the revision is applied
        assert "url_recheck_requested" not in app.extensions
        db.engine.dispose()
