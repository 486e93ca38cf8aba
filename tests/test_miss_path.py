"""What a page that misses the page cache no longer asks every time (issue 15), and that it still
shows every change at once: paths built once per process, the thesaurus's fingerprint asked
after a change, the enterprise page's shops read without selectinload, and the authorization and
product sets kept with the catalog aggregates."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from flask import render_template_string, url_for
from markupsafe import escape
from sqlalchemy import event, text

from marketplace import page_changes, rate_limits
from marketplace.clock import china_today, monotonic
from marketplace.extensions import db
from marketplace.models import BrandAuthorization, Role, SearchSynonym, Shop, ShopAuthorization, ShopType, Status
from marketplace.search_sync import thesaurus
from marketplace.services import complaint_process as process
from marketplace.services.catalog.detail import get_enterprise
from marketplace.services.products import manage, review
from marketplace.templating import memo_url_for
from tests import factories as f
from tests.test_catalog_cards import Statements
from tests.test_products import data as product_form
from tests.test_search_synonyms import fridge  # noqa: F401 (a fixture)


def _naming(sql: Statements, table: str) -> list[str]:
    return [s for s in sql.seen if f"FROM {table}" in s or f"JOIN {table}" in s]


# --------------------------------------------------------------------------- paths built once


def test_memo_url_for_gives_what_url_for_gives(app):
    cases = [("public.home", {}), ("public.enterprise", {"enterprise_id": 7}),
             ("public.browse", {"city": "foshan", "page": 2}), ("search.search_page", {"q": "凉茶 广州"}),
             ("public.go", {"shop_id": 3, "link": 9}), ("public.enterprise", {"enterprise_id": 7, "_anchor": "shops"})]
    for script_root in ("", "/portal"):
        with app.test_request_context("/", base_url="http://localhost" + script_root):
            for endpoint, values in cases:
                expected = url_for(endpoint, **values)
                assert memo_url_for(endpoint, **values) == expected
                assert memo_url_for(endpoint, **values) == expected  # the kept answer
                assert expected.startswith(script_root + "/")


def test_templates_url_for_is_bound_to_the_request_and_gives_the_same_paths(app):
    cases = [("public.enterprise", {"enterprise_id": 7}), ("public.browse", {"city": "foshan", "page": 2}),
             ("static", {"filename": "css/site.css"}), ("public.home", {"_external": True}),
             ("public.browse", {"page": True})]
    for script_root in ("", "/portal"):
        with app.test_request_context("/", base_url="http://localhost" + script_root):
            bound = render_template_string("{{ url_for is sameas memo }}", memo=memo_url_for)
            assert bound == "False"  # the context processor's, not the global
            for endpoint, values in cases:
                page = render_template_string("{{ url_for(endpoint, **values) }}", endpoint=endpoint, values=values)
                assert page == str(escape(memo_url_for(endpoint, **values))), (endpoint, values)
                assert memo_url_for(endpoint, **values).startswith(("http://", script_root + "/"))


def test_memo_url_for_keeps_the_order_and_type_of_the_values(app):
    with app.test_request_context("/"):
        first = memo_url_for("public.browse", city="foshan", sort="name")
        assert first == "/enterprises?city=foshan&sort=name"
        assert memo_url_for("public.browse", sort="name", city="foshan") == "/enterprises?sort=name&city=foshan"
        assert memo_url_for("public.browse", page=1) == url_for("public.browse", page=1)
        assert memo_url_for("public.browse", page=True) == url_for("public.browse", page=True)
        assert memo_url_for("public.browse", page=2.0) == url_for("public.browse", page=2.0)
    kept = app.extensions["url_memo"]
    assert all(type(v) in (str, int, type(None)) for key in kept for _name, v in key[2:])


def test_memo_url_for_leaves_absolute_and_relative_links_to_url_for(app):
    with app.test_request_context("/", base_url="http://localhost"):
        assert memo_url_for("public.home", _external=True) == "http://localhost/"
    with app.test_request_context("/", base_url="https://localhost"):
        assert memo_url_for("public.home", _external=True) == "https://localhost/"
    kept = app.extensions["url_memo"]
    assert not [k for k in kept if ("_external", True) in k]
    with app.test_request_context("/", base_url="http://localhost/portal"):
        assert memo_url_for("public.home") == "/portal/"
    with app.test_request_context("/"):
        assert memo_url_for("public.home") == "/"


def test_a_static_files_kept_path_follows_its_content(app):
    """Static paths are kept under the file's version, so an edited file still gets a new URL."""
    path = Path(app.static_folder) / f"test-{uuid4().hex}.css"
    try:
        path.write_text("a{}")
        with app.test_request_context("/"):
            first = memo_url_for("static", filename=path.name)
            assert first == url_for("static", filename=path.name) and "?v=" in first
            path.write_text("a{color:red}")
            second = memo_url_for("static", filename=path.name)
            assert second != first and second == url_for("static", filename=path.name)
            assert memo_url_for("static", filename="css/site.css") == url_for("static", filename="css/site.css")
    finally:
        path.unlink(missing_ok=True)


def test_pages_link_under_the_script_root_they_are_served_from(app, client):
    ent = f.make_enterprise(brands=["岭南好物"])
    f.make_shop(ent)
    db.session.commit()
    plain = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    mounted = client.get(f"/enterprises/{ent.id}", base_url="http://localhost/portal").get_data(as_text=True)
    assert f'href="/cities/{ent.city.slug}"' in plain and f'href="/portal/cities/{ent.city.slug}"' in mounted
    assert 'href="/portal/cities/' not in plain
    # the header's and footer's links, kept per script root
    assert '<a href="/portal/enterprises">名优企业</a>' in mounted and '<a href="/enterprises">名优企业</a>' in plain
    assert 'href="/portal/privacy"' in mounted and 'href="/privacy"' in plain


def test_the_kept_navigation_marks_the_page_it_is_on(client, login_as):
    """The header's links are rendered once per page kind; each still marks its own page, and a
    signed-in visitor still gets the links and log-out form that are theirs."""
    for path, current in (("/platforms", "/platforms"), ("/enterprises", "/enterprises"), ("/about", None)):
        for _ in range(2):  # rendered, then kept
            nav = client.get(path).get_data(as_text=True).split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]
            marked = [href for href in ("/enterprises", "/platforms", "/search") if f'<a href="{href}" aria-current="page">' in nav]
            assert marked == ([current] if current else []), path
            assert '<a href="/account/login">登录</a>' in nav
    login_as(f.make_user(Role.MERCHANT))
    db.session.commit()
    nav = client.get("/platforms").get_data(as_text=True).split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]
    assert '<a href="/platforms" aria-current="page">' in nav and "商家中心" in nav and "退出" in nav
    assert "登录" not in nav


# --------------------------------------------------------------------------- thesaurus


def _search_names(client, q: str) -> list[str]:
    return [r["name"] for r in client.get("/api/v1/search", query_string={"q": q}).get_json()["results"]]


@pytest.mark.usefixtures("fridge")
def test_searches_do_not_ask_the_synonym_fingerprint_every_time(app, client, monkeypatch):
    # an interval no busy test machine outlasts between these searches (at 1 s, a loaded CI run
    # once asked again between two of them)
    monkeypatch.setattr(thesaurus, "FINGERPRINT_SECONDS", 600.0)
    assert _search_names(client, "冰箱") == ["霜澈"]
    with Statements(app) as sql:
        for _ in range(3):
            assert _search_names(client, "冰箱") == ["霜澈"]
    assert not _naming(sql, "search_synonym")


@pytest.mark.usefixtures("fridge")
def test_a_synonym_edit_through_the_site_applies_to_the_next_search(app, client, login_as):
    assert _search_names(client, "雪柜") == []
    db.session.add(SearchSynonym(kind="group", terms="冰箱;雪柜", note="测试"))
    db.session.commit()  # writes a page_all outbox row: the worker compares the fingerprint again
    assert _search_names(client, "雪柜") == ["霜澈"]


@pytest.mark.usefixtures("fridge")
def test_a_synonym_written_by_sql_applies_within_the_fingerprint_interval(app, client, monkeypatch):
    assert _search_names(client, "雪柜") == []
    db.session.execute(text("INSERT INTO search_synonym (kind, terms, targets, category, note, active, created_at, "
                            "updated_at) VALUES ('group', '冰箱;雪柜', '', '其他', 'SQL', :t, :now, :now)"),
                       {"t": True, "now": "2026-01-01 00:00:00"})
    db.session.commit()  # no outbox row: nothing tells the worker, only the interval
    monkeypatch.setattr(thesaurus, "FINGERPRINT_SECONDS", 0.0)
    assert _search_names(client, "雪柜") == ["霜澈"]


# --------------------------------------------------------------------------- enterprise page


def test_get_enterprise_reads_every_shop_in_order_with_its_platform(app):
    ent = f.make_enterprise(brands=["甲", "乙"], industries=["陶瓷", "家电"], badges=["中华老字号"])
    f.make_certificate(ent)
    shops = [f.make_shop(ent), f.make_shop(ent, platform_slug="jd"),
             f.make_shop(ent, platform_slug="taobao", status=Status.DRAFT)]
    db.session.commit()
    ent_id, shop_ids = ent.id, [s.id for s in shops]
    db.session.expunge_all()
    with Statements(app) as sql:
        got = get_enterprise(ent_id)
        assert [s.id for s in got.shops] == shop_ids and [s.platform.slug for s in got.shops] == ["tmall", "jd",
                                                                                                 "taobao"]
        assert [s.id for s in got.public_shops] == shop_ids[:2]
        assert got.brand_names == ["甲", "乙"] and len(got.industries) == 2 and got.certificate is not None
    assert len(sql.seen) == 2  # the enterprise with its rows joined, then its shops


def test_get_enterprise_keeps_shops_already_loaded_in_the_session(app):
    ent = f.make_enterprise()
    f.make_shop(ent)
    db.session.commit()
    ent.shops.append(Shop(platform=f.platform("jd"), name="未保存的店", url="https://mall.jd.com/index-1.html",
                          shop_type=ShopType.FLAGSHIP, status=Status.DRAFT))
    assert [s.name for s in get_enterprise(ent.id).shops][-1] == "未保存的店"
    db.session.rollback()


def test_the_enterprise_page_reads_its_shops_as_rows_with_their_platforms(app, client):
    ent = f.make_enterprise(brands=["行牌"])
    tmall = f.make_shop(ent, name="行牌天猫店")
    jd = f.make_shop(ent, platform_slug="jd", name="行牌京东店")
    pending = f.make_shop(ent, platform_slug="taobao", name="行牌待审店", status=Status.PENDING)
    db.session.commit()
    url = f"/enterprises/{ent.id}"
    client.get(url)
    with Statements(app) as sql:
        html = client.get(url).get_data(as_text=True)
    reads = [s for s in sql.seen if s.startswith(("SELECT enterprise.", "SELECT shop."))]
    # the enterprise with its rows joined, then its shops' columns with their platforms: no
    # Shop objects (which would read every column), and nothing loads ent.shops afterwards
    assert len(reads) == 2 and "JOIN platform" in reads[1] and "shop.click_count" not in reads[1]
    assert "行牌天猫店" in html and "行牌京东店" in html and "行牌待审店" not in html
    assert f"/go/{tmall.id}" in html and f"/go/{jd.id}" in html and f"/go/{pending.id}" not in html
    assert 'class="chip chip-platform chip-jd"' in html and "chip-taobao" not in html
    same_as = html.split('"sameAs": [')[1].split("]")[0]
    assert tmall.url in same_as and jd.url in same_as and pending.url not in same_as


def test_unpublished_enterprise_page_still_shows_its_owner_every_shop(app, client, login_as):
    owner = f.make_user(Role.MERCHANT, email="owner@example.com")
    ent = f.make_enterprise(owner=owner, status=Status.PENDING)
    f.make_shop(ent, name="待审核网店", status=Status.PENDING)
    db.session.commit()
    assert client.get(f"/enterprises/{ent.id}").status_code == 404
    login_as(owner)
    html = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    # with its status and stored URL, not a link: nothing of an unpublished listing is clickable
    assert "待审核网店" in html and '<span class="status status-pending">' in html and "/go/" not in html


@pytest.fixture
def brands(app):
    """A brand owner and a distributor with a certified 专卖店, no authorization yet."""
    owner = f.make_enterprise("潮州慈海陶瓷有限公司", brands=["慈海"])
    f.make_shop(owner, url="https://cihai.tmall.com/", name="慈海旗舰店")
    dealer = f.make_enterprise("广州粤联商贸有限公司", brands=["粤联"])
    exclusive = f.make_shop(dealer, url="https://yuelian-cihai.tmall.com/", name="慈海粤联专卖店",
                            shop_type=ShopType.EXCLUSIVE)
    db.session.commit()
    return owner, dealer, exclusive


def _authorize(owner, dealer, shop) -> None:
    db.session.add(BrandAuthorization(
        brand_name="慈海", grantor_uscc=owner.uscc, grantor_name=owner.name, distributor_uscc=dealer.uscc,
        valid_from=china_today(), valid_until=china_today() + timedelta(days=90), platforms=[shop.platform],
        links=[ShopAuthorization(shop=shop)]))


def test_pages_without_authorizations_or_products_ask_no_query_for_them(app, client, brands):
    owner, dealer, _ = brands
    client.get(f"/enterprises/{dealer.id}")
    with Statements(app) as sql:
        for ent in (owner, dealer):
            assert client.get(f"/enterprises/{ent.id}").status_code == 200
        client.get("/verify", query_string={"url": "https://yuelian-cihai.tmall.com/"})
    assert not _naming(sql, "brand_authorization") and not _naming(sql, "shop_authorization")
    assert not _naming(sql, "product")
    # whether the complaint record has anything to count rides on the enterprise's own query
    assert not [s for s in sql.seen if s.startswith("SELECT complaint.")]


def test_the_complaint_record_is_read_only_when_a_complaint_counts(app, client):
    staff = f.make_user(Role.STAFF, email="staff@example.com")
    ent = f.make_enterprise(brands=["记录牌"])
    f.make_shop(ent)
    db.session.commit()
    with Statements(app) as sql:
        html = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    assert '<dt>受理投诉</dt><dd>0</dd>' in html and not [s for s in sql.seen if s.startswith("SELECT complaint.")]
    complaint = f.make_complaint(ent)
    db.session.commit()
    with Statements(app) as sql:
        html = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    assert '<dt>受理投诉</dt><dd>0</dd>' in html  # filed, not accepted yet: not counted, not read
    assert not [s for s in sql.seen if s.startswith("SELECT complaint.")]
    process.accept(complaint, staff)
    db.session.commit()
    with Statements(app) as sql:
        html = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    assert '<dt>受理投诉</dt><dd>1</dd>' in html and [s for s in sql.seen if s.startswith("SELECT complaint.")]


def test_a_new_authorization_shows_at_once_on_both_enterprise_pages(app, client, brands):
    owner, dealer, exclusive = brands
    for ent in (owner, dealer):  # the sets are kept, empty
        assert "品牌授权" not in client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    _authorize(owner, dealer, exclusive)
    db.session.commit()
    assert "「慈海」品牌授权专卖店" in client.get(f"/enterprises/{dealer.id}").get_data(as_text=True)
    assert "慈海粤联专卖店" in client.get(f"/enterprises/{owner.id}").get_data(as_text=True).split("品牌授权网店")[1]


def test_another_workers_authorization_shows_when_this_worker_reads_the_outbox(app, client, brands):
    owner, dealer, exclusive = brands
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 600
    assert "品牌授权专卖店" not in client.get(f"/enterprises/{dealer.id}").get_data(as_text=True)
    _authorize(owner, dealer, exclusive)
    db.session.commit()
    page_changes.tracker().checked_at = monotonic()  # as if another worker had committed
    assert "品牌授权专卖店" not in client.get(f"/enterprises/{dealer.id}").get_data(as_text=True)
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 0
    assert "品牌授权专卖店" in client.get(f"/enterprises/{dealer.id}").get_data(as_text=True)


def test_an_approved_product_shows_at_once_on_its_enterprise_page(app, client):
    owner = f.make_user(Role.MERCHANT, email="owner@example.com")
    staff = f.make_user(Role.STAFF, email="staff@example.com")
    ent = f.make_enterprise(owner=owner, brands=["岭南凉茶"], industries=["食品饮料"])
    shop = f.make_shop(ent, url="https://lingnan.tmall.com/")
    db.session.commit()
    world = {"shop": shop}
    page = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    assert "在售商品" not in page
    product = manage.submit_product(owner, ent.id, product_form(world))
    db.session.commit()
    assert "在售商品" not in client.get(f"/enterprises/{ent.id}").get_data(as_text=True)  # pending
    review.approve_product(product.id, staff)
    db.session.commit()
    assert "岭南凉茶植物饮料" in client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    manage.withdraw_product(owner, product.id)
    db.session.commit()
    assert "岭南凉茶植物饮料" not in client.get(f"/enterprises/{ent.id}").get_data(as_text=True)


def test_the_outbox_check_ends_its_read_with_a_commit(app):
    """psycopg drops every prepared statement of a connection at a ROLLBACK, so a read-only
    check that ended with one made the next pages on that connection parse and plan again."""
    tracker = page_changes.tracker(app)
    tracker.poll(force=True)
    ends: list[str] = []
    with app.app_context():
        engine = db.engine
    commit, rollback = (lambda conn: ends.append("commit")), (lambda conn: ends.append("rollback"))
    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    try:
        tracker.poll(force=True)
    finally:
        event.remove(engine, "commit", commit)
        event.remove(engine, "rollback", rollback)
    assert ends == ["commit"]


def test_the_limiter_skips_only_endpoints_that_declare_no_limit(app):
    """Public pages skip Flask-Limiter's per-request work; a view's, a blueprint's (the API's)
    and a method-exempt limit (log-in's counts POSTs only) still count as declared."""
    for path, method, skipped in (("/", "GET", True), ("/enterprises", "GET", True), ("/login", "GET", False),
                                  ("/login", "POST", False), ("/api/v1/enterprises", "GET", False)):
        with app.test_request_context(path, method=method):
            assert rate_limits._no_limit_declared() is skipped, path


def test_a_query_argument_named_like_a_path_argument_is_not_carried(client):
    """/industries/<slug>?slug=… used to pass ``slug`` twice to url_for: a 500. The path's own
    argument wins and the query's is left out of the page's links."""
    ent = f.make_enterprise(brands=["岭南好物"])
    db.session.commit()
    slug = ent.industries[0].slug
    r = client.get(f"/industries/{slug}", query_string={"slug": "zzz", "page": "2"})
    assert r.status_code == 200
    links = r.get_data(as_text=True).split('class="script-switch')[0]  # the 简/繁 switch keeps the whole URL
    assert "slug=zzz" not in links and f'href="/industries/{slug}?city=' in links


def test_kept_cards_link_under_the_script_root_they_are_served_from(client):
    """A list card's markup is kept on the card, per script root."""
    ent = f.make_enterprise(brands=["岭南好物"])
    f.make_shop(ent)
    db.session.commit()
    for _ in range(2):  # rendered, then kept
        plain = client.get("/enterprises").get_data(as_text=True)
        mounted = client.get("/enterprises", base_url="http://localhost/portal").get_data(as_text=True)
        assert f'class="ent-card-link" href="/enterprises/{ent.id}"' in plain
        assert f'class="ent-card-link" href="/portal/enterprises/{ent.id}"' in mounted
