"""Full-page cache for anonymous public pages (marketplace/page_cache.py)."""
import re
import time
from contextlib import contextmanager

import pytest
from flask import flash, request

from marketplace.extensions import db
from marketplace.models import Role
from tests.factories import make_enterprise, make_shop, make_user


@pytest.fixture
def app_config(app_config):
    app_config["PAGE_CACHE_SECONDS"] = 60
    app_config["PAGE_CACHE_CHECK_SECONDS"] = 0  # check the outbox head on every request in tests
    return app_config


def _anon(app):
    return app.test_client()


def _ent(**kw):
    ent = make_enterprise(owner=make_user(), **kw)
    make_shop(ent)
    db.session.commit()
    return ent


def _headers(resp):
    return sorted((k, v) for k, v in resp.headers.items() if k != "X-Page-Cache")


def test_second_anonymous_get_is_a_hit_with_same_body_and_headers(app):
    ent = _ent(name="广东缓存命中实业有限公司")
    for path in ("/", f"/enterprises/{ent.id}", "/enterprises?sort=name", "/platforms", "/about"):
        first = _anon(app).get(path)
        assert first.status_code == 200, path
        assert first.headers["X-Page-Cache"] == "miss"
        second = _anon(app).get(path)
        assert second.headers["X-Page-Cache"] == "hit", path
        assert second.get_data() == first.get_data()
        assert _headers(second) == _headers(first)
        assert "script-src 'self'" in second.headers["Content-Security-Policy"]
        assert second.headers["X-Content-Type-Options"] == "nosniff"
        assert "Cookie" in second.headers["Vary"]
        assert second.mimetype == "text/html"
    assert "广东缓存命中实业有限公司" in _anon(app).get(f"/enterprises/{ent.id}").get_data(as_text=True)


def test_query_string_order_does_not_matter_but_values_do(app):
    _ent()
    assert _anon(app).get("/enterprises?sort=name&page=1").headers["X-Page-Cache"] == "miss"
    assert _anon(app).get("/enterprises?page=1&sort=name").headers["X-Page-Cache"] == "hit"
    assert _anon(app).get("/enterprises?page=1&sort=newest").headers["X-Page-Cache"] == "miss"


def test_session_cookie_is_never_served_nor_stored(app, login_as):
    ent = _ent()
    page = f"/enterprises/{ent.id}"
    _anon(app).get(page)
    assert _anon(app).get(page).headers["X-Page-Cache"] == "hit"
    staff = login_as(make_user(Role.STAFF), app.test_client())
    db.session.commit()
    resp = staff.get(page)
    assert resp.status_code == 200 and "X-Page-Cache" not in resp.headers
    # a logged-in visitor's page (with its header links) is never stored for others
    app.extensions["page_cache"].clear()
    staff.get("/about")
    assert _anon(app).get("/about").headers["X-Page-Cache"] == "miss"
    # a remember cookie alone also bypasses the cache
    other = app.test_client()
    other.set_cookie("remember_token", "x")
    assert "X-Page-Cache" not in other.get("/about").headers


def test_revoked_enterprise_is_404_right_after_the_decision(app, login_as):
    ent = _ent(name="广东即将撤销实业有限公司")
    page = f"/enterprises/{ent.id}"
    _anon(app).get(page)
    assert _anon(app).get(page).headers["X-Page-Cache"] == "hit"
    home = _anon(app).get("/").get_data(as_text=True)
    staff = login_as(make_user(Role.STAFF), app.test_client())
    db.session.commit()
    resp = staff.post(f"/staff/enterprises/{ent.id}/status", data={"action": "revoked", "reason": "售假查实"})
    assert resp.status_code == 302
    after = _anon(app).get(page)
    assert after.status_code == 404
    assert "X-Page-Cache" not in after.headers or after.headers["X-Page-Cache"] == "miss"
    assert _anon(app).get(page).status_code == 404  # the 404 was not stored either
    if "广东即将撤销实业有限公司" in home:
        assert "广东即将撤销实业有限公司" not in _anon(app).get("/").get_data(as_text=True)


def test_invalidation_waits_at_most_the_check_interval(app, app_config):
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 0.3
    ent = _ent(name="广东间隔检查实业有限公司")
    page = f"/enterprises/{ent.id}"
    _anon(app).get(page)
    assert _anon(app).get(page).headers["X-Page-Cache"] == "hit"
    ent.status = "suspended"
    db.session.commit()
    time.sleep(0.35)
    assert _anon(app).get(page).status_code == 404


def test_script_variants_are_cached_separately(app):
    _ent()
    hans = _anon(app).get("/about")
    assert _anon(app).get("/about").headers["X-Page-Cache"] == "hit"
    hant_client = _anon(app)
    hant_client.set_cookie("script", "hant")
    hant = hant_client.get("/about")
    assert hant.headers["X-Page-Cache"] == "miss"
    again = hant_client.get("/about")
    assert again.headers["X-Page-Cache"] == "hit"
    assert again.get_data() == hant.get_data() != hans.get_data()
    assert re.search(r'<html[^>]*lang="zh-Hant"', again.get_data(as_text=True))
    assert not re.search(r'<html[^>]*lang="zh-Hant"', _anon(app).get("/about").get_data(as_text=True))
    # ?script=hant sets a cookie: served fresh, never stored
    first = _anon(app).get("/about?script=hant")
    assert "Set-Cookie" in first.headers
    second = _anon(app).get("/about?script=hant")
    assert second.headers["X-Page-Cache"] == "miss" and "Set-Cookie" in second.headers


def test_flash_messages_never_reach_a_cached_page(app):
    _ent()
    state = {"flash": False}

    @app.before_request
    def _maybe_flash():
        if state["flash"] and request.path == "/about":
            flash("只给这位访客看的消息", "success")

    state["flash"] = True
    first = _anon(app).get("/about")
    assert "只给这位访客看的消息" in first.get_data(as_text=True)
    assert first.headers["X-Page-Cache"] == "miss"
    state["flash"] = False
    second = _anon(app).get("/about")
    assert second.headers["X-Page-Cache"] == "miss"  # the flashed page was not stored
    assert "只给这位访客看的消息" not in second.get_data(as_text=True)
    # and a visitor with a pending flash (session cookie) never gets the shared page
    c = _anon(app)
    with c.session_transaction() as sess:
        sess["_flashes"] = [("success", "另一条私人消息")]
    resp = c.get("/about")
    assert "另一条私人消息" in resp.get_data(as_text=True) and "X-Page-Cache" not in resp.headers


def test_set_cookie_responses_and_errors_are_not_cached(app):
    _ent()

    @app.after_request
    def _cookie(response):
        if request.args.get("cookie"):
            response.set_cookie("tracking", "1")
        return response

    _anon(app).get("/about?cookie=1")
    assert _anon(app).get("/about?cookie=1").headers["X-Page-Cache"] == "miss"
    assert _anon(app).get("/enterprises/999999").status_code == 404
    second = _anon(app).get("/enterprises/999999")
    assert second.status_code == 404 and second.headers.get("X-Page-Cache") != "hit"


def test_non_public_pages_are_never_cached(app):
    ent = _ent()
    shop_id = ent.shops[0].id
    for path in (f"/go/{shop_id}", "/api/v1/search?q=测试", "/account/login"):
        _anon(app).get(path)
        assert "X-Page-Cache" not in _anon(app).get(path).headers, path
    assert _anon(app).head("/about").headers.get("X-Page-Cache") != "hit"


def test_owner_preview_of_unpublished_enterprise_is_not_cached(app, login_as):
    owner = make_user()
    ent = make_enterprise(owner=owner, status="draft")
    db.session.commit()
    c = login_as(owner, app.test_client())
    assert c.get(f"/enterprises/{ent.id}").status_code == 200
    assert _anon(app).get(f"/enterprises/{ent.id}").status_code == 404


def test_cache_is_bounded(app):
    app.config["PAGE_CACHE_MAX_ENTRIES"] = 3
    app.config["PAGE_CACHE_DIR"] = "off"
    _ent()
    for page in range(1, 7):
        _anon(app).get(f"/enterprises?page={page}")
    cache = app.extensions["page_cache"]
    assert len(cache.entries) == 3
    assert _anon(app).get("/enterprises?page=6").headers["X-Page-Cache"] == "hit"
    assert _anon(app).get("/enterprises?page=1").headers["X-Page-Cache"] == "miss"  # evicted (LRU)


def test_shared_store_is_bounded(app, tmp_path):
    app.config["PAGE_CACHE_DIR"] = str(tmp_path / "shared")
    app.config["PAGE_CACHE_MAX_FILES"] = 4
    _ent()
    for page in range(1, 30):
        assert _anon(app).get(f"/enterprises?page={page}").status_code == 200
    files = list((tmp_path / "shared").iterdir())
    assert len(files) <= 4 + 2  # cachelib prunes past the threshold (+ its count file and a lease)


def test_ttl_expiry(app):
    app.config["PAGE_CACHE_SECONDS"] = 1
    _ent()
    _anon(app).get("/about")
    assert _anon(app).get("/about").headers["X-Page-Cache"] == "hit"
    time.sleep(1.05)
    assert _anon(app).get("/about").headers["X-Page-Cache"] == "miss"


def test_zero_seconds_disables_the_cache(app):
    app.config["PAGE_CACHE_SECONDS"] = 0
    _ent()
    for _ in range(2):
        assert "X-Page-Cache" not in _anon(app).get("/about").headers
    assert len(app.extensions["page_cache"].entries) == 0


@contextmanager
def _second_worker(app):
    """Another worker on the same machine: its own app (own in-process tier, own outbox-head
    check, own connection pool) over the same database and the same shared page store."""
    from marketplace import create_app

    keep = ("TESTING", "DATABASE_URL", "SEARCH_INDEX_DIR", "SECRET_KEY", "LOAD_DEMO_DATA", "PAGE_CACHE_SECONDS",
            "PAGE_CACHE_CHECK_SECONDS", "PAGE_CACHE_DIR", "PAGE_CACHE_STALE_SECONDS", "SERVER_NAME_FOR_LINKS",
            "PASSWORD_HASH_METHOD")
    overrides = {k: v for k, v in app.config.items() if k in keep}
    overrides["INSTANCE_PATH"] = app.config["PAGE_CACHE_DIR"] + "-worker2"
    other = create_app(overrides)
    with other.app_context():
        try:
            yield other.test_client()
        finally:
            db.session.remove()
            db.engine.dispose()  # close its pooled connections (PostgreSQL warns about leaked ones)


def test_a_page_rendered_by_one_worker_is_a_hit_in_another(app):
    ent = _ent(name="广东共享缓存实业有限公司")
    page = f"/enterprises/{ent.id}"
    first = _anon(app).get(page)
    assert first.headers["X-Page-Cache"] == "miss"
    with _second_worker(app) as other:
        second = other.get(page)
    assert second.headers["X-Page-Cache"] == "hit"
    assert second.get_data() == first.get_data()
    assert _headers(second) == _headers(first)


def test_a_change_hides_shared_pages_from_every_worker(app):
    ent = _ent(name="广东共享撤销实业有限公司")
    page = f"/enterprises/{ent.id}"
    _anon(app).get(page)
    with _second_worker(app) as other:
        assert other.get(page).headers["X-Page-Cache"] == "hit"
    ent.status = "revoked"
    db.session.commit()  # writes an outbox row: the head moves
    with _second_worker(app) as other:
        assert other.get(page).status_code == 404  # the shared copy is filed under the old head
    assert _anon(app).get(page).status_code == 404


def test_expired_page_is_served_stale_while_one_worker_renders_it(app):
    app.config["PAGE_CACHE_SECONDS"] = 1
    app.config["PAGE_CACHE_STALE_SECONDS"] = 30
    _ent()
    first = _anon(app).get("/about")
    assert first.headers["X-Page-Cache"] == "miss"
    time.sleep(1.05)
    cache = app.extensions["page_cache"]
    key = cache.key_for({"REQUEST_METHOD": "GET", "PATH_INFO": "/about", "HTTP_HOST": "localhost",
                         "wsgi.url_scheme": "http", "SCRIPT_NAME": ""})
    lease = "lease|" + cache.shared_key(key)
    assert cache.shared().add(lease, 12345, timeout=10)  # another worker is re-rendering it
    stale = _anon(app).get("/about")
    assert stale.headers["X-Page-Cache"] == "stale"
    assert stale.get_data() == first.get_data()
    cache.shared().delete(lease)  # that worker died: the lease is free again
    fresh = _anon(app).get("/about")
    assert fresh.headers["X-Page-Cache"] == "miss"  # this request renders and stores it
    assert _anon(app).get("/about").headers["X-Page-Cache"] == "hit"
    assert not cache.shared().has(lease)  # released after storing


def test_stale_pages_never_survive_a_listing_change(app):
    app.config["PAGE_CACHE_SECONDS"] = 1
    app.config["PAGE_CACHE_STALE_SECONDS"] = 60
    ent = _ent(name="广东过期撤销实业有限公司")
    page = f"/enterprises/{ent.id}"
    _anon(app).get(page)
    time.sleep(1.05)
    ent.status = "suspended"
    db.session.commit()
    assert _anon(app).get(page).status_code == 404


def test_unusable_shared_directory_still_serves_pages(app, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    app.config["PAGE_CACHE_DIR"] = str(blocker / "page_cache")
    _ent()
    assert _anon(app).get("/about").headers["X-Page-Cache"] == "miss"
    assert _anon(app).get("/about").headers["X-Page-Cache"] == "hit"  # in-process tier still works


def test_search_pages_are_cached_and_follow_listing_changes(app):
    _ent(name="广东搜索缓存实业有限公司")
    path = "/search?q=搜索缓存"
    first = _anon(app).get(path)
    assert first.status_code == 200 and "广东搜索缓存实业有限公司" in first.get_data(as_text=True)
    assert first.headers["X-Page-Cache"] == "miss"
    assert _anon(app).get(path).headers["X-Page-Cache"] == "hit"
    _ent(name="广东搜索缓存二号实业有限公司")  # a new certified listing: outbox head moves
    after = _anon(app).get(path)
    assert after.headers["X-Page-Cache"] == "miss"
    assert "广东搜索缓存二号实业有限公司" in after.get_data(as_text=True)


def test_search_page_is_not_stored_while_the_index_lags(app):
    app.config["SEARCH_SYNC_INLINE"] = False  # nothing applies the outbox in this process
    _ent(name="广东索引滞后实业有限公司")
    path = "/search?q=索引滞后"
    for _ in range(2):
        resp = _anon(app).get(path)
        assert resp.status_code == 200
        assert resp.headers["X-Page-Cache"] == "miss"


def test_worker_warm_up_goes_around_the_cache(app):
    """gunicorn.conf.py warms each new worker with real renders; a cached answer would leave the
    worker's search stack cold for its first visitor."""
    from pathlib import Path

    from marketplace.page_cache import ENV_BYPASS

    assert f'"{ENV_BYPASS}": True' in (Path(__file__).parent.parent / "gunicorn.conf.py").read_text()
    _ent()
    _anon(app).get("/about")
    assert _anon(app).get("/about").headers["X-Page-Cache"] == "hit"
    warm = _anon(app).get("/about", environ_overrides={ENV_BYPASS: True})
    assert warm.status_code == 200 and "X-Page-Cache" not in warm.headers
