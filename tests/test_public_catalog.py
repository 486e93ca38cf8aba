"""The catalog service: featured slots in their time windows, fallbacks, counts, home preview."""
from datetime import datetime, timedelta

from factories import industry, make_enterprise, make_shop
from marketplace.extensions import db
from marketplace.models import FeaturedSlot, Placement, Status
from marketplace.services.catalog import aggregates, featured_slots

T0 = datetime(2026, 3, 1, 0, 0, 0)


def _slot(ent, placement=Placement.CAROUSEL, *, start=T0, end=None, position=0, ind=None, title=""):
    slot = FeaturedSlot(placement=placement, enterprise=ent, position=position, starts_at=start, ends_at=end,
                        industry=ind, title=title)
    db.session.add(slot)
    db.session.flush()
    return slot


def test_featured_slots_start_and_end_on_time(app):
    a = make_enterprise(brands=["甲"])
    b = make_enterprise(brands=["乙"])
    _slot(a, start=T0, end=T0 + timedelta(days=2), position=1)
    _slot(b, start=T0 + timedelta(days=1), end=None, position=0)
    before = featured_slots.featured(T0 - timedelta(seconds=1))
    assert not before.curated_carousel  # nothing live yet: fallback
    assert [e.id for e, _ in featured_slots.featured(T0).carousel] == [a.id]
    assert [e.id for e, _ in featured_slots.featured(T0 + timedelta(days=1)).carousel] == [b.id, a.id]  # by position
    # ends_at is exclusive
    assert [e.id for e, _ in featured_slots.featured(T0 + timedelta(days=2)).carousel] == [b.id]
    assert [e.id for e, _ in featured_slots.featured(T0 + timedelta(days=2) - timedelta(seconds=1)).carousel] == [b.id, a.id]
    assert featured_slots.featured(T0 + timedelta(days=400)).curated_carousel


def test_featured_skips_non_public_enterprises(app):
    live = make_enterprise(brands=["公开"])
    revoked = make_enterprise(brands=["撤销"], status=Status.REVOKED)
    _slot(revoked, position=0)
    _slot(live, position=1)
    fe = featured_slots.featured(T0 + timedelta(hours=1))
    assert [e.id for e, _ in fe.carousel] == [live.id]


def test_featured_only_non_public_falls_back(app):
    revoked = make_enterprise(brands=["撤销"], status=Status.REVOKED)
    pub = make_enterprise(brands=["公开"])
    _slot(revoked)
    fe = featured_slots.featured(T0 + timedelta(hours=1))
    assert not fe.curated_carousel and [e.id for e, _ in fe.carousel] == [pub.id]


def test_industry_rows_from_slots(app):
    ind = industry("陶瓷")
    a = make_enterprise(brands=["瓷一"], industries=["陶瓷"])
    b = make_enterprise(brands=["瓷二"], industries=["陶瓷"])
    _slot(b, Placement.INDUSTRY, ind=ind, position=0)
    _slot(a, Placement.INDUSTRY, ind=ind, position=1)
    fe = featured_slots.featured(T0 + timedelta(hours=1))
    assert fe.curated_rows
    assert [(i.id, [e.id for e in ents]) for i, ents in fe.industry_rows] == [(ind.id, [b.id, a.id])]


def test_fallback_prefers_badged_then_most_visited(app):
    plain_popular = make_enterprise(brands=["人气"])
    plain_popular.click_count = 1000
    badged = make_enterprise(brands=["老字号"], badges=["中华老字号"])
    badged.click_count = 10
    quiet = make_enterprise(brands=["冷门"])
    make_enterprise(brands=["未公开"], status=Status.PENDING, badges=["中华老字号"])
    db.session.flush()
    fe = featured_slots.featured(T0)
    assert [e.display_name for e, _ in fe.carousel] == ["老字号", "人气", "冷门"]
    # industry rows: every enterprise is 家电 by default, most visited first
    assert [(i.name, [e.display_name for e in ents]) for i, ents in fe.industry_rows] == [
        ("家电", ["人气", "老字号", "冷门"])]
    assert quiet.id in [e.id for e in fe.industry_rows[0][1]]


def test_counts(app):
    a = make_enterprise()
    make_shop(a)
    make_shop(a, status=Status.PENDING)
    b = make_enterprise(status=Status.SUSPENDED)
    make_shop(b)
    c = aggregates.counts(10_000)
    assert (c.enterprises, c.shops) == (1, 1)
    assert c.platforms >= 10
    assert c.percent == 0.0
    assert aggregates.HomeCounts(5_000, 0, 0, 10_000).percent == 50.0
    assert aggregates.HomeCounts(20_000, 0, 0, 10_000).percent == 100.0


def test_render_home_preview_at_a_date(app):
    a = make_enterprise(brands=["春节特展"])
    make_enterprise(brands=["常规企业"])
    _slot(a, start=T0, end=T0 + timedelta(days=7), title="新春焦点")
    db.session.commit()
    from marketplace.views.public import render_home

    with app.test_request_context("/staff/preview"):
        during = render_home(T0 + timedelta(days=1), preview=True)
        after = render_home(T0 + timedelta(days=8), preview=True)
    assert "新春焦点" in during and "预览" in during and "noindex" in during
    assert "新春焦点" not in after and "自动推荐" in after


def test_home_shows_live_slot(client, app):
    from marketplace.clock import utc_now

    a = make_enterprise(brands=["焦点企业"])
    _slot(a, start=utc_now() - timedelta(hours=1), title="本周焦点")
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "本周焦点" in html and "自动推荐" not in html.split("焦点推荐")[1].split("</section>")[0]


def test_cached_counts_follow_every_committed_change(client, app):
    assert app.config["CATALOG_CACHE_SECONDS"] > 0  # the cache is on, as in production
    a = make_enterprise(brands=["一号"], industries=["陶瓷"])
    make_shop(a)
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert 'aria-valuenow="1"' in html
    b = make_enterprise(brands=["二号"], industries=["陶瓷"])
    db.session.commit()
    import time

    time.sleep(0.6)  # the directory version is checked at most twice a second
    html = client.get("/").get_data(as_text=True)
    assert 'aria-valuenow="2"' in html and "二号" in html
    b.status = Status.REVOKED
    db.session.commit()
    time.sleep(0.6)
    html = client.get("/").get_data(as_text=True)
    assert 'aria-valuenow="1"' in html and "二号" not in html
    browse = client.get("/enterprises").get_data(as_text=True)
    assert "二号" not in browse


def test_revoked_enterprise_never_shown_from_cached_featured_ids(client, app):
    a = make_enterprise(brands=["曾经推荐"], badges=["中华老字号"])
    db.session.commit()
    assert "曾经推荐" in client.get("/").get_data(as_text=True)
    # a status change by bulk SQL skips the outbox: the cached ids are re-checked anyway
    from sqlalchemy import update

    from marketplace.models import Enterprise

    db.session.execute(update(Enterprise).where(Enterprise.id == a.id).values(status=Status.REVOKED))
    db.session.commit()
    assert "曾经推荐" not in client.get("/").get_data(as_text=True)


def test_fallback_rows_show_each_enterprise_once(app):
    both = make_enterprise(brands=["两栖"], industries=["家电", "陶瓷"])
    both.click_count = 100
    make_enterprise(brands=["纯家电"], industries=["家电"])
    make_enterprise(brands=["纯陶瓷"], industries=["陶瓷"])
    db.session.flush()
    rows = {i.name: [e.display_name for e in ents] for i, ents in featured_slots.featured(T0).industry_rows}
    shown = [n for names in rows.values() for n in names]
    assert sorted(shown) == ["两栖", "纯家电", "纯陶瓷"]
