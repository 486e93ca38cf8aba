"""Enterprise cards kept per process (marketplace/services/catalog/cards.py): reused between
requests until the change tracker sees a change of their enterprise, or of everything."""
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, text

from app import create_app
from marketplace import page_changes
from marketplace.clock import monotonic
from marketplace.extensions import db
from marketplace.models import Brand, Platform, Status
from marketplace.services.catalog.cards import CardStore, EnterpriseCard
from tests.factories import make_enterprise, make_shop


@pytest.fixture
def app_config(app_config):
    # this process reads the outbox at its first request and after its own commits only
    app_config["PAGE_CACHE_CHECK_SECONDS"] = 600
    return app_config


class Statements:
    """The SQL statements the app runs while it is open."""

    def __init__(self, app):
        self.engine, self.seen = db.engine, []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._note)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._note)

    def _note(self, conn, cursor, statement, params, context, executemany):
        self.seen.append(" ".join(statement.split()))

    def card_reads(self) -> list[str]:
        """The card loader's brand query (one per load of cards not kept)."""
        return [s for s in self.seen if s.startswith("SELECT brand.enterprise_id, brand.name FROM brand")]


@contextmanager
def _other_worker(app, **config):
    """A second app on the same database: another worker process, with its own tracker."""
    keep = ("TESTING", "DATABASE_URL", "SEARCH_INDEX_DIR", "SECRET_KEY", "LOAD_DEMO_DATA", "PAGE_CACHE_SECONDS",
            "SERVER_NAME_FOR_LINKS", "PASSWORD_HASH_METHOD")
    overrides = {k: v for k, v in app.config.items() if k in keep}
    other = create_app({**overrides, "INSTANCE_PATH": app.instance_path + "-worker2", "PAGE_CACHE_CHECK_SECONDS": 0,
                        **config})
    with other.app_context():
        try:
            yield other
        finally:
            db.session.remove()
            db.engine.dispose()  # close its pooled connections (PostgreSQL warns about leaked ones)


def _commit_in_another_worker():
    """Commit as another worker would: this worker learns of the change only when it next reads
    the outbox (a commit of its own makes it read the outbox at its next request)."""
    db.session.commit()
    page_changes.tracker().checked_at = monotonic()


def _two():
    a = make_enterprise(brands=["甲品牌"])
    make_shop(a)
    b = make_enterprise(brands=["乙品牌"])
    make_shop(b)
    db.session.commit()
    return a, b


def test_kept_cards_are_not_read_again(app, client):
    _two()
    assert "甲品牌" in client.get("/enterprises").get_data(as_text=True)
    with Statements(app) as sql:
        html = client.get("/enterprises").get_data(as_text=True)
    assert "甲品牌" in html and "乙品牌" in html
    assert not sql.card_reads() and not [s for s in sql.seen if "FROM shop" in s]
    # which ids are public is still asked every time
    assert any(s.startswith("SELECT enterprise.id FROM enterprise WHERE enterprise.id IN") for s in sql.seen)


def test_own_change_shows_at_once_and_keeps_other_cards(app, client):
    a, b = _two()
    client.get("/enterprises")
    store: CardStore = app.extensions["card_store"]
    kept_b = store.kept[b.id].card
    db.session.scalar(select(Brand).where(Brand.enterprise_id == a.id)).name = "甲新品牌"
    db.session.commit()
    with Statements(app) as sql:
        html = client.get("/enterprises").get_data(as_text=True)
    assert "甲新品牌" in html and "乙品牌" in html
    assert store.kept[b.id].card is kept_b  # B did not change: its card (and markup) stays
    assert [s.endswith("IN (?) ORDER BY brand.position, brand.id") or "IN (%(" in s
            for s in sql.card_reads()] == [True]  # only A's card was read again


def test_other_workers_change_shows_when_this_worker_reads_the_outbox(app, client):
    a, _ = _two()
    client.get("/enterprises")
    db.session.scalar(select(Brand).where(Brand.enterprise_id == a.id)).name = "别处改的品牌"
    _commit_in_another_worker()
    # this worker has not read the outbox since (its interval is long): the kept card stays
    assert "别处改的品牌" not in client.get("/enterprises").get_data(as_text=True)
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 0
    assert "别处改的品牌" in client.get("/enterprises").get_data(as_text=True)


def test_platform_rename_renews_every_card(app, client):
    a, b = _two()
    old_name = db.session.get(Platform, a.shops[0].platform_id).name
    assert old_name in client.get("/enterprises").get_data(as_text=True)
    db.session.get(Platform, a.shops[0].platform_id).name = "改名后的平台"
    _commit_in_another_worker()
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 0
    html = client.get("/enterprises").get_data(as_text=True)
    assert html.count("改名后的平台") >= 1 and "chip-platform" in html


def test_revoked_enterprise_leaves_at_once(app, client):
    a, b = _two()
    client.get("/")
    client.get("/enterprises")
    a.status = Status.REVOKED
    db.session.commit()
    for path in ("/", "/enterprises"):
        html = client.get(path).get_data(as_text=True)
        assert "甲品牌" not in html and "乙品牌" in html, path


def test_same_markup_with_and_without_kept_cards(app, client):
    _two()
    make_enterprise(brands=["丙品牌"], badges=["中华老字号"], industries=["陶瓷", "家电"])
    db.session.commit()
    paths = ["/", "/enterprises", "/enterprises?sort=name", "/industries/ceramics", "/cities/foshan"]

    def page(c, path):  # the search box's element ids are made per render
        return re.sub(r"q-\d+", "q-N", c.get(path).get_data(as_text=True))

    kept = [page(client, p) for p in paths]
    kept_again = [page(client, p) for p in paths]
    with _other_worker(app, CATALOG_CACHE_SECONDS=0) as fresh_app:
        fresh = [page(fresh_app.test_client(), p) for p in paths]
        assert "card_store" in app.extensions and "card_store" not in fresh_app.extensions
    assert kept == kept_again == fresh


def test_store_keeps_the_most_recently_used():
    store = CardStore(limit=2)

    def card(i):
        return EnterpriseCard(id=i, name=str(i), uscc="", description=None, logo_sha256=None, certified_at=None,
                              click_count=0, city=None, brand_names=[], industries=[], badges=[],
                              public_shops=[])

    store.keep([card(1), card(2)], 0.0, (0, frozenset()))
    store.kept.move_to_end(1)  # 1 used since
    store.keep([card(3)], 0.0, (0, frozenset()))
    assert list(store.kept) == [1, 3]


def test_search_hits_are_kept_cards(app, client):
    a, b = _two()
    first = client.get("/search?q=甲品牌").get_data(as_text=True)
    assert "甲品牌" in first and f"/enterprises/{a.id}" in first
    with Statements(app) as sql:
        again = client.get("/search?q=甲品牌&sort=relevance").get_data(as_text=True)
    assert f"/enterprises/{a.id}" in again and not sql.card_reads()
    db.session.scalar(select(Brand).where(Brand.enterprise_id == a.id)).name = "甲品牌二代"
    db.session.commit()
    assert "甲品牌二代" in client.get("/search?q=甲品牌").get_data(as_text=True)
    api = client.get("/api/v1/search?q=甲品牌").get_json()
    assert [r["name"] for r in api["results"] if r["kind"] == "enterprise"] == ["甲品牌二代"]


def test_shop_hits_carry_kept_cards_and_fresh_shops(app, client):
    a = make_enterprise(brands=["甲品牌"])
    shop = make_shop(a, name="甲品牌天猫旗舰店")
    db.session.commit()
    html = client.get("/search?q=旗舰店&kind=shop").get_data(as_text=True)
    assert "甲品牌天猫旗舰店" in html and "天猫" in html and f"/enterprises/{a.id}#shops-title" in html
    api = client.get("/api/v1/search?q=旗舰店&kind=shop").get_json()["results"]
    assert [(r["name"], r["platform"], r["city"]) for r in api] == [("甲品牌天猫旗舰店", "天猫", "佛山")]
    with Statements(app) as sql:
        client.get("/search?q=旗舰店&kind=shop&sort=relevance")
    assert not sql.card_reads()  # the enterprise's card is kept; the shop row is read every time
    shop.status = Status.REVOKED
    db.session.commit()
    assert "甲品牌天猫旗舰店" not in client.get("/search?q=旗舰店&kind=shop").get_data(as_text=True)


def test_enterprise_and_shop_hits_are_read_with_one_statement(app, client):
    a = make_enterprise(brands=["甲品牌"])
    make_shop(a, name="甲品牌天猫旗舰店")
    b = make_enterprise(brands=["甲品牌优选"])
    make_shop(b, name="甲品牌优选京东店")
    db.session.commit()
    client.get("/search?q=甲品牌")  # the cards are kept from now on
    with Statements(app) as sql:
        html = client.get("/search?q=甲品牌&sort=relevance").get_data(as_text=True)
    assert all(n in html for n in ("甲品牌天猫旗舰店", "甲品牌优选京东店", f"/enterprises/{a.id}\"",
                                   f"/enterprises/{b.id}\""))
    hit_reads = [s for s in sql.seen if "FROM shop" in s or s.startswith("SELECT enterprise.id FROM enterprise")]
    assert len(hit_reads) == 1 and "UNION ALL" in hit_reads[0] and not sql.card_reads()
    # a status changed by bulk SQL, which skips the outbox: the enterprise and its shop leave at once
    db.session.execute(text("UPDATE enterprise SET status = 'revoked' WHERE id = :id"), {"id": b.id})
    db.session.commit()
    html = client.get("/search?q=甲品牌&sort=newest").get_data(as_text=True)
    assert "甲品牌天猫旗舰店" in html and "甲品牌优选" not in html and f"/enterprises/{b.id}\"" not in html
