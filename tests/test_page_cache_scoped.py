"""Scoped page-cache invalidation (marketplace/page_changes.py): a change drops only the pages it
can alter."""
import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Role, SearchOutbox
from marketplace import page_changes
from marketplace.page_changes import PAGE_ALL, PAGE_ENT, PAGE_LISTS
from marketplace.services.listings.enterprises import update_enterprise
from tests.factories import make_application, make_enterprise, make_shop, make_user


@pytest.fixture
def app_config(app_config):
    app_config["PAGE_CACHE_SECONDS"] = 60
    app_config["PAGE_CACHE_CHECK_SECONDS"] = 0  # read the outbox on every request
    return app_config


def _get(app, path):
    return app.test_client().get(path)


def _state(app, path) -> str:
    return _get(app, path).headers.get("X-Page-Cache", "none")


def _two_enterprises():
    owner = make_user()
    a = make_enterprise(name="广东甲号实业有限公司", owner=owner, description="甲的旧简介")
    make_shop(a)
    b = make_enterprise(name="广东乙号实业有限公司", owner=make_user())
    make_shop(b)
    db.session.commit()
    return owner, a, b


def _page_rows_since(head: int) -> set[tuple[str, int]]:
    rows = db.session.execute(select(SearchOutbox.entity, SearchOutbox.entity_id).where(SearchOutbox.id > head))
    return {(e, i) for e, i in rows if e.startswith("page_")}


def _head() -> int:
    return db.session.scalar(select(db.func.max(SearchOutbox.id))) or 0


def _warm(app, *paths):
    for path in paths:
        _get(app, path)
        assert _state(app, path) == "hit", path


def test_pending_application_drops_nothing_public(app):
    owner, a, b = _two_enterprises()
    pages = ["/", "/enterprises", f"/enterprises/{a.id}", f"/enterprises/{b.id}", "/about"]
    _warm(app, *pages)
    head = _head()
    result = update_enterprise(owner, a.id, {
        "name": a.name, "uscc": a.uscc, "brands": "；".join(a.brand_names), "city_id": str(a.city_id),
        "industry_ids": [i.id for i in a.industries], "description": "甲的新简介（待审核）",
        "website": "", "founded_year": "", "version": str(a.version)})
    db.session.commit()
    assert result.application is not None and not result.applied  # waits for review
    assert _page_rows_since(head) == set()
    for path in pages:
        assert _state(app, path) == "hit", path
    assert "甲的新简介" not in _get(app, f"/enterprises/{a.id}").get_data(as_text=True)


def test_approved_edit_drops_that_enterprise_and_the_pages_showing_it_only(app, login_as):
    owner, a, b = _two_enterprises()
    page_a, page_b = f"/enterprises/{a.id}", f"/enterprises/{b.id}"
    browse_a = "/enterprises?sort=name"  # lists both
    _warm(app, page_a, page_b, browse_a, "/about")
    application = make_application(a, "enterprise_edit", applicant=owner, payload={"description": "甲的新简介"})
    db.session.commit()
    head = _head()
    reviewer = make_user(Role.STAFF)
    db.session.commit()
    staff = login_as(reviewer, app.test_client())
    assert staff.post(f"/staff/review/{application.id}/approve").status_code == 302
    assert _page_rows_since(head) == {(PAGE_ENT, a.id)}  # content only: no list, no count changed
    fresh = _get(app, page_a)
    assert fresh.headers["X-Page-Cache"] == "miss" and "甲的新简介" in fresh.get_data(as_text=True)
    assert _state(app, page_b) == "hit"  # another enterprise's page stays cached
    assert _state(app, browse_a) == "miss"  # a list showing A is rendered again
    assert _state(app, "/about") == "hit"  # counts only: unchanged


def test_revocation_drops_every_page_listing_it(app):
    _owner, a, b = _two_enterprises()
    page_a, page_b = f"/enterprises/{a.id}", f"/enterprises/{b.id}"
    lists = ["/", "/enterprises", "/enterprises?sort=name", "/about"]
    _warm(app, page_a, page_b, *lists)
    head = _head()
    a.status = "revoked"
    db.session.commit()
    assert {(PAGE_ENT, a.id), (PAGE_LISTS, 0)} <= _page_rows_since(head)
    assert _get(app, page_a).status_code == 404
    for path in lists:
        resp = _get(app, path)
        assert resp.headers["X-Page-Cache"] == "miss", path
        assert "广东甲号实业有限公司" not in resp.get_data(as_text=True), path
    assert _state(app, page_b) == "hit"  # its own page shows nothing of A


def test_structural_edit_drops_lists_and_counts(app):
    _owner, a, b = _two_enterprises()
    _warm(app, f"/enterprises/{b.id}", "/about", "/enterprises")
    head = _head()
    a.name = "广东甲号改名实业有限公司"  # the name orders the lists
    db.session.commit()
    assert _page_rows_since(head) == {(PAGE_ENT, a.id), (PAGE_LISTS, 0)}
    assert _state(app, "/enterprises") == "miss"
    assert _state(app, "/about") == "miss"
    assert _state(app, f"/enterprises/{b.id}") == "hit"


def test_pending_shop_of_a_certified_enterprise_drops_nothing(app):
    _owner, a, _b = _two_enterprises()
    _warm(app, f"/enterprises/{a.id}", "/enterprises")
    head = _head()
    make_shop(a, status="pending", platform_slug="jd")
    db.session.commit()
    assert _page_rows_since(head) == set()
    assert _state(app, f"/enterprises/{a.id}") == "hit"
    assert _state(app, "/enterprises") == "hit"


def test_other_changes_still_drop_everything(app):
    _owner, a, _b = _two_enterprises()
    _warm(app, f"/enterprises/{a.id}", "/enterprises")
    head = _head()
    a.industries[0].name = "家用电器"  # shown on every page that shows an enterprise of it
    db.session.commit()
    assert (PAGE_ALL, 0) in _page_rows_since(head)
    assert _state(app, f"/enterprises/{a.id}") == "miss"
    assert _state(app, "/enterprises") == "miss"


def test_a_second_worker_judges_shared_pages_by_what_their_renderer_had_seen(app):
    from tests.test_page_cache import _second_worker

    _owner, a, b = _two_enterprises()
    page_a, page_b = f"/enterprises/{a.id}", f"/enterprises/{b.id}"
    _get(app, page_a), _get(app, page_b)
    a.description = "甲的又一个新简介"
    db.session.commit()
    with _second_worker(app) as other:  # started after the change: it never saw it happen
        assert other.get(page_b).headers["X-Page-Cache"] == "hit"
        resp = other.get(page_a)
        assert resp.headers["X-Page-Cache"] == "miss" and "甲的又一个新简介" in resp.get_data(as_text=True)


def test_catalog_aggregates_survive_a_content_edit(app):
    from marketplace.services.catalog.cache import cached

    _owner, a, _b = _two_enterprises()
    calls = []
    with app.test_request_context("/"):
        cached("probe", lambda: calls.append(1) or len(calls))
        a.description = "甲只改了简介"
        db.session.commit()
        assert cached("probe", lambda: calls.append(1) or len(calls)) == 1  # kept
        a.status = "suspended"
        db.session.commit()
        assert cached("probe", lambda: calls.append(1) or len(calls)) == 2  # a count may have changed


def test_a_change_committed_late_under_a_lower_id_is_still_seen(app):
    """PostgreSQL hands out outbox ids before commit: a transaction holding a lower id can commit
    after a higher one was already read. Its row must still drop the pages it names."""
    from sqlalchemy import insert

    from marketplace.clock import utc_now

    _owner, _a, b = _two_enterprises()
    page_b = f"/enterprises/{b.id}"
    _warm(app, page_b)
    head = _head()
    table = SearchOutbox.__table__
    db.session.execute(insert(table), [{"id": head + 2, "entity": "shop", "entity_id": 0, "created_at": utc_now()}])
    db.session.commit()
    assert _state(app, page_b) == "hit"  # head + 2 seen; head + 1 not committed yet
    db.session.execute(insert(table), [{"id": head + 1, "entity": PAGE_ENT, "entity_id": b.id,
                                        "created_at": utc_now()}])
    db.session.commit()
    assert _state(app, page_b) == "miss"


def test_a_pending_shop_appended_to_a_loaded_enterprise_drops_nothing(app):
    from marketplace.models import Shop
    from tests.factories import platform

    _owner, a, _b = _two_enterprises()
    _warm(app, f"/enterprises/{a.id}", "/enterprises")
    head = _head()
    assert a.shops  # the collection is loaded: appending makes the enterprise "modified"
    a.shops.append(Shop(name="待审核的新店", url="https://pending-new.tmall.com/", platform=platform("tmall"),
                        shop_type="flagship", status="pending"))
    db.session.commit()
    assert _page_rows_since(head) == set()
    assert _state(app, f"/enterprises/{a.id}") == "hit"
    assert _state(app, "/enterprises") == "hit"


def test_a_search_is_dropped_when_another_description_gains_the_word(app):
    """Search results depend on every listing's text, not only on the listings they show: the
    page that found B for a word must find A too once A's description has it."""
    _owner, a, b = _two_enterprises()
    b.description = "乙的简介：qzvlamp 灯饰系列"
    db.session.commit()
    search = "/search?q=qzvlamp"
    _warm(app, search, f"/enterprises/{b.id}")
    body = _get(app, search).get_data(as_text=True)
    assert f"/enterprises/{b.id}\"" in body and f"/enterprises/{a.id}\"" not in body
    head = _head()
    a.description = "甲的新简介：qzvlamp 吸顶灯"
    db.session.commit()
    assert _page_rows_since(head) == {(PAGE_ENT, a.id)}  # content only
    fresh = _get(app, search)
    assert fresh.headers["X-Page-Cache"] == "miss"
    assert f"/enterprises/{a.id}\"" in fresh.get_data(as_text=True)
    assert _state(app, f"/enterprises/{b.id}") == "hit"  # B's own page is still kept


def test_search_pages_depend_on_every_listings_text(app):
    """A Latin word that finds fewer than three listings is also looked for approximately
    (mdiea -> midea) in the whole vocabulary, so such a search page depends on every listing's
    text: a content change of an enterprise it did not show drops it; an enterprise's own page
    does not depend on others."""
    _owner, a, b = _two_enterprises()
    _warm(app, "/search?q=qzvlamp", f"/enterprises/{b.id}")
    entries = {key[3]: entry for key, entry in app.extensions["page_cache"].entries.items()}
    search, own = entries["/search"], entries[f"/enterprises/{b.id}"]
    assert search.text is True and not own.text and a.id not in search.shown
    a.description = "甲的新简介：qzvlamp 吸顶灯"
    db.session.commit()
    tracker = page_changes.tracker(app)
    tracker.poll(force=True)
    only_b = frozenset({b.id})
    assert not tracker.valid(search.rendered_at, search.known, only_b, True, text=True)
    assert tracker.valid(search.rendered_at, search.known, only_b, True, text=False)


def _search_entry(app, path):
    _warm(app, path)
    key = next(k for k in app.extensions["page_cache"].entries if k[3] == "/search")
    return app.extensions["page_cache"].entries[key]


def test_a_chinese_search_is_kept_when_a_change_cannot_alter_it(app):
    """A search in Chinese words depends only on the enterprises it matched and on texts that
    contain its words: A's edit without them keeps the page that showed B, A's edit adding one
    drops it (and the next render finds A)."""
    _owner, a, b = _two_enterprises()
    b.description = "乙的简介：琉璃吸顶灯系列"
    db.session.commit()
    search = "/search?q=吸顶灯"
    entry = _search_entry(app, search)
    assert isinstance(entry.text, page_changes.TextNeed)
    assert "吸顶灯" in entry.text.words and entry.text.matched == {b.id}
    a.description = "甲的新简介：不锈钢厨具"
    db.session.commit()
    assert _state(app, search) == "hit"
    a.description = "甲的新简介：水晶吸頂燈"  # Traditional: the index reads it as 吸顶灯
    db.session.commit()
    fresh = _get(app, search)
    assert fresh.headers["X-Page-Cache"] == "miss"
    assert f"/enterprises/{a.id}\"" in fresh.get_data(as_text=True)


def test_a_search_is_dropped_when_an_enterprise_it_matched_loses_the_word(app):
    """Totals and facet counts include matches the page does not show: an enterprise that
    matched (its old text had the word) drops the page when its content changes, even though
    its new text no longer has the word and the page did not show it."""
    app.config["PER_PAGE"] = 1
    _owner, a, b = _two_enterprises()
    a.description = "甲的简介：琉璃吸顶灯"
    b.description = "乙的简介：琉璃吸顶灯系列"
    db.session.commit()
    search = "/search?q=吸顶灯"
    entry = _search_entry(app, search)
    assert entry.text.matched == {a.id, b.id} and len(entry.shown) < 2
    hidden = a if a.id not in entry.shown else b
    hidden.description = "改为不锈钢厨具"
    db.session.commit()
    assert _state(app, search) == "miss"


def test_text_need_without_words_or_matches_follows_every_change(app):
    """The tracker's rule itself: matched or containing a word drops, neither keeps, and a
    search that cannot name its words (None: pinyin, fuzzy, a suggestion) follows every change."""
    _owner, a, b = _two_enterprises()
    tracker = page_changes.tracker(app)
    tracker.poll(force=True)
    rendered, known = page_changes.machine_time(), tracker.known()
    a.description = "甲的新简介：不锈钢厨具"
    db.session.commit()
    tracker.poll(force=True)
    keeps = page_changes.TextNeed(("吸顶灯",), frozenset({b.id}))
    assert tracker.valid(rendered, known, frozenset({b.id}), True, text=keeps)
    assert not tracker.valid(rendered, known, frozenset({b.id}), True, text=keeps._replace(words=("厨具",)))
    assert not tracker.valid(rendered, known, frozenset({b.id}), True, text=keeps._replace(matched={a.id}))
    assert not tracker.valid(rendered, known, frozenset({b.id}), True, text=True)
