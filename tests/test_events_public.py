"""网购节 for consumers: the pages, what they may show, filters, click-through, home, page cache,
and the demo events."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import ClickEvent, Offer, OfferStatus, Role, ShoppingEvent, Status
from marketplace.services import lifecycle
from marketplace.services.events import listing, report
from tests import factories as f


@pytest.fixture
def world(app):
    owner = f.make_user(Role.MERCHANT)
    ent = f.make_enterprise(owner=owner, city_name="佛山", industries=["家电"])
    shop = f.make_shop(ent, platform_slug="tmall")
    other_ent = f.make_enterprise(city_name="广州", industries=["陶瓷"])
    other_shop = f.make_shop(other_ent, platform_slug="jd")
    event = f.make_event(slug="guanghuo-live", name="广货测试网购节")
    live = f.make_offer(event, shop, coupon_code="GD2026")
    discount = f.make_offer(event, other_shop, kind="discount")
    db.session.commit()
    return {"owner": owner, "ent": ent, "shop": shop, "other_ent": other_ent, "other_shop": other_shop,
            "event": event, "live": live, "discount": discount}


def page(client, url: str) -> str:
    resp = client.get(url)
    assert resp.status_code == 200, url
    return resp.get_data(as_text=True)


# --------------------------------------------------------------------------- what is shown


def test_events_index_lists_live_upcoming_and_ended_but_not_hidden(world, client):
    f.make_event(name="下月网购节", starts_in=timedelta(days=30))
    f.make_event(name="去年网购节", starts_in=-timedelta(days=400))
    f.make_event(name="下线的网购节", hidden=True)
    db.session.commit()
    html = page(client, "/events")
    assert html.index("广货测试网购节") < html.index("下月网购节") < html.index("去年网购节")
    assert "下线的网购节" not in html
    assert "2 家认证网店 · 2 项优惠" in html


def test_event_page_shows_only_approved_running_offers_of_certified_shops(world, client):
    event, shop = world["event"], world["shop"]
    for status in (OfferStatus.PENDING, OfferStatus.REJECTED, OfferStatus.WITHDRAWN):
        f.make_offer(event, shop, status=status, threshold_fen=77700)
    f.make_offer(event, shop, ends_at=clock.utc_now() - timedelta(minutes=1), threshold_fen=88800)
    draft_shop = f.make_shop(world["ent"], status=Status.DRAFT)
    f.make_offer(event, draft_shop, threshold_fen=99900)
    db.session.commit()
    html = page(client, f"/events/{event.slug}")
    assert "满300减50" in html and "8.5折" in html and "GD2026" in html
    for hidden in ("满777", "满888", "满999"):
        assert hidden not in html


def test_an_offer_past_its_end_is_never_shown(world, client):
    offer = world["live"]
    with clock.frozen(offer.ends_at - timedelta(seconds=1)):
        assert "满300减50" in page(client, f"/events/{world['event'].slug}")
    with clock.frozen(offer.ends_at):
        html = page(client, f"/events/{world['event'].slug}")
        assert "满300减50" not in html and "本期网购节已结束" in html


def test_revoked_shops_and_suspended_enterprises_lose_their_offers_at_once(world, client):
    slug, staff = world["event"].slug, f.make_user(Role.STAFF)
    lifecycle.set_shop_status(world["shop"], Status.REVOKED, staff, "售假")
    db.session.commit()
    html = page(client, f"/events/{slug}")
    assert "满300减50" not in html and "8.5折" in html
    lifecycle.set_enterprise_status(world["other_ent"], Status.SUSPENDED, staff, "核查中")
    db.session.commit()
    assert "8.5折" not in page(client, f"/events/{slug}")
    assert client.get(f"/go/{world['shop'].id}?offer={world['live'].id}").status_code == 404


def test_upcoming_offers_are_marked_and_ended_events_show_participants_only(world, client):
    soon = f.make_offer(world["event"], world["shop"], kind="gift", starts_at=clock.utc_now() + timedelta(days=2))
    db.session.commit()
    html = page(client, f"/events/{world['event'].slug}")
    assert f'id="offer-{soon.id}"' in html and "开始</span>" in html
    ended = f.make_event(slug="old-one", starts_in=-timedelta(days=30), lasts=timedelta(days=5))
    f.make_offer(ended, world["shop"])
    db.session.commit()
    html = page(client, "/events/old-one")
    assert "本期网购节已结束" in html and world["ent"].display_name in html and "满300减50" not in html


def test_hidden_and_unknown_events_are_404(world, client):
    world["event"].hidden = True
    db.session.commit()
    for url in ("/events/guanghuo-live", "/events/nope", "/events/" + "x" * 300, "/events/a%00b"):
        assert client.get(url).status_code == 404, url
    assert client.get("/events/guanghuo-live?page=abc").status_code in (400, 404)


def test_countdown_degrades_to_plain_china_time(world, client):
    html = page(client, f"/events/{world['event'].slug}")
    end = world["event"].ends_at
    assert f'data-countdown="{end.isoformat()}Z"' in html
    assert clock.to_china(end).strftime("%Y-%m-%d %H:%M") in html and "（北京时间）" in html
    assert "js/countdown.js" in html and "<script>" not in html


# --------------------------------------------------------------------------- filters


def test_filters_narrow_the_shops_and_facets_count_under_the_other_filters(world, client):
    slug = world["event"].slug
    html = page(client, f"/events/{slug}?kind=discount")
    assert "8.5折" in html and "满300减50" not in html
    html = page(client, f"/events/{slug}?city=foshan")
    assert "满300减50" in html and "8.5折" not in html
    html = page(client, f"/events/{slug}?industry=ceramics&platform=jd")
    assert "8.5折" in html and "满300减50" not in html
    html = page(client, f"/events/{slug}?platform=tmall&kind=discount")
    assert "没有符合条件的优惠" in html
    facets = listing.event_facets(world["event"], listing.parse_event_filters({"kind": "discount"}),
                                  clock.utc_now())
    assert [(k, n) for k, _label, n in facets.kinds] == [("threshold", 1), ("discount", 1)]
    assert [(c.name, n) for c, n in facets.cities] == [("广州", 1)]


def test_unknown_filter_values_are_ignored(world, client):
    html = page(client, f"/events/{world['event'].slug}?kind=cashback&city=atlantis&platform=%00")
    assert "满300减50" in html and "8.5折" in html


# --------------------------------------------------------------------------- click-through


def test_go_records_the_offer_and_event_behind_a_click(world, client):
    offer = world["live"]
    resp = client.get(f"/go/{offer.shop_id}?offer={offer.id}")
    assert resp.status_code == 302 and resp.headers["Location"] == world["shop"].url
    click = db.session.scalar(select(ClickEvent))
    assert (click.shop_id, click.event_id, click.offer_id) == (offer.shop_id, world["event"].id, offer.id)


@pytest.mark.parametrize("arg", ["other", "abc", "-1", "99999999999999", ""])
def test_a_forged_offer_argument_is_not_attributed_but_still_redirects(world, client, arg):
    value = str(world["discount"].id) if arg == "other" else arg  # an offer of another shop
    resp = client.get(f"/go/{world['shop'].id}?offer={value}")
    assert resp.status_code == 302
    click = db.session.scalar(select(ClickEvent))
    assert click.event_id is None and click.offer_id is None


def test_offer_buttons_link_through_go_with_the_offer(world, client):
    html = page(client, f"/events/{world['event'].slug}")
    assert f'/go/{world["shop"].id}?offer={world["live"].id}' in html
    assert 'rel="nofollow noopener"' in html


# --------------------------------------------------------------------------- home page


def test_home_features_the_live_event(world, client):
    html = page(client, "/")
    assert "广货测试网购节" in html and f'href="/events/{world["event"].slug}"' in html
    assert "距结束还有" in html


def test_home_features_the_next_event_when_none_is_live(app, client):
    assert "网购节 ·" not in page(client, "/")
    f.make_event(name="即将到来的网购节", starts_in=timedelta(days=3))
    db.session.commit()
    time.sleep(0.6)  # the cached schedule follows the outbox head, read at most twice a second
    html = page(client, "/")
    assert "即将到来的网购节" in html and "距开始还有" in html


# --------------------------------------------------------------------------- page cache


@pytest.fixture
def cached(app_config):
    app_config["PAGE_CACHE_SECONDS"] = 60
    app_config["PAGE_CACHE_CHECK_SECONDS"] = 0
    return app_config


def test_event_pages_are_cached_for_anonymous_visitors(cached, world, app):
    url = f"/events/{world['event'].slug}"
    assert app.test_client().get(url).headers["X-Page-Cache"] == "miss"
    assert app.test_client().get(url).headers["X-Page-Cache"] == "hit"
    assert app.test_client().get("/events").headers["X-Page-Cache"] == "miss"
    assert app.test_client().get("/events").headers["X-Page-Cache"] == "hit"


def test_a_cached_page_is_not_served_after_an_offer_ends(cached, world, app):
    """The clock is pinned, so a slow machine cannot let the offer end before the second visit."""
    now = clock.utc_now()
    end = now + timedelta(seconds=30)
    f.make_offer(world["event"], world["shop"], kind="gift", ends_at=end)
    db.session.commit()
    with clock.frozen(now):
        for url in (f"/events/{world['event'].slug}", "/"):
            app.test_client().get(url)
            second = app.test_client().get(url)
            assert second.headers["X-Page-Cache"] == "hit"
            assert "帆布袋" in second.get_data(as_text=True) or url == "/"
    with clock.frozen(end + timedelta(seconds=1)):
        after = app.test_client().get(f"/events/{world['event'].slug}")
        assert after.headers["X-Page-Cache"] == "miss" and "帆布袋" not in after.get_data(as_text=True)
        assert app.test_client().get("/").headers["X-Page-Cache"] == "miss"


def test_withdrawing_or_revoking_drops_cached_event_pages_at_once(cached, world, app, login_as):
    url = f"/events/{world['event'].slug}"
    app.test_client().get(url)
    assert app.test_client().get(url).headers["X-Page-Cache"] == "hit"
    merchant = login_as(world["owner"], app.test_client())
    assert merchant.post(f"/merchant/offers/{world['live'].id}/withdraw").status_code == 302
    fresh = app.test_client().get(url)
    assert fresh.headers["X-Page-Cache"] == "miss" and "满300减50" not in fresh.get_data(as_text=True)
    assert app.test_client().get(url).headers["X-Page-Cache"] == "hit"
    lifecycle.set_shop_status(world["other_shop"], Status.REVOKED, f.make_user(Role.STAFF), "售假")
    db.session.commit()
    fresh = app.test_client().get(url)
    assert fresh.headers["X-Page-Cache"] == "miss" and "8.5折" not in fresh.get_data(as_text=True)


def test_next_change_is_the_earliest_start_or_end_ahead(world):
    now = clock.utc_now()
    soon = f.make_offer(world["event"], world["shop"], starts_at=now + timedelta(hours=3))
    later = f.make_event(starts_in=timedelta(hours=5))
    db.session.commit()
    assert listing.event_next_change(world["event"], now) == soon.starts_at
    assert listing.event_next_change(world["event"], world["event"].ends_at) is None
    time.sleep(0.6)  # the cached schedule follows the outbox head, read at most twice a second
    assert listing.next_change(now) == soon.starts_at
    assert listing.next_change(soon.starts_at) == later.starts_at


# --------------------------------------------------------------------------- demo data


def test_demo_events_are_one_live_and_one_ended_and_load_once(app):
    from marketplace.services.events.demo import ENDED_SLUG, LIVE_SLUG, load_demo_events

    owner = f.make_user()
    for n in range(60):
        f.make_shop(f.make_enterprise(owner=owner if n == 0 else None))
    summary = load_demo_events()
    db.session.commit()
    assert summary["events"] == 2 and summary["offers"] > 40 and summary["clicks"] > 0
    now = clock.utc_now()
    live = db.session.scalar(select(ShoppingEvent).where(ShoppingEvent.slug == LIVE_SLUG))
    ended = db.session.scalar(select(ShoppingEvent).where(ShoppingEvent.slug == ENDED_SLUG))
    assert live.state(now) == "live" and ended.state(now) == "ended"
    assert "演示" in live.name and "虚构" in live.description and "虚构" in ended.description
    assert listing.public_events(now)["live"][0].offers > 30
    assert db.session.scalar(select(func.count()).select_from(Offer).where(Offer.status == OfferStatus.PENDING)) == 2
    assert load_demo_events() == {"events": 0, "offers": 0, "clicks": 0}
    dailies = next(t for t in report.event_report(ended) if t.name == "daily")
    assert len(dailies.rows) == 10 and all(row[3] > 0 for row in dailies.rows)
    assert re.match(r"\d\d-\d\d", dailies.rows[0][0])


def test_text_from_staff_and_merchants_is_escaped_and_pages_are_csp_clean(world, client, login_as):
    from tests.test_security_routes import _page_problems

    world["event"].name = '<script>alert("name")</script>网购节'
    world["event"].description = '"><img src=x onerror=alert(1)> {{7*7}}'
    world["live"].terms = "<svg onload=alert(2)> 说明"
    world["shop"].name = "<b>bold</b>店"
    db.session.commit()
    problems = []
    for url in ("/", "/events", f"/events/{world['event'].slug}", f"/events/{world['event'].slug}?kind=threshold"):
        html = page(client, url)
        problems += _page_problems(url, html)
    staff = login_as(f.make_user(Role.STAFF), client.application.test_client())
    for url in ("/staff/events", "/staff/offers", f"/staff/offers/{world['live'].id}",
                f"/staff/events/{world['event'].id}/report"):
        problems += _page_problems(url, page(staff, url))
    merchant = login_as(world["owner"], client.application.test_client())
    problems += _page_problems("/merchant/events", page(merchant, "/merchant/events"))
    assert not problems, problems
    assert "{{7*7}}" in page(client, f"/events/{world['event'].slug}")
