"""网购节 journeys (issue 16 item 2), in a browser at 390 and 1280 px, in order:

(a) a consumer goes from the home page to the live event, filters its offers, and follows an offer
    through /go/ to the shop; (b) staff create an event with a banner; (c) a merchant enrolls a
    certified shop in it with an offer (after a refused attempt); (d) staff review offers: approve
    the merchant's, reject a demo one with a reason, and read the ended demo event's report;
    (e) the consumer sees the approved offer on the new event's page.

The demo data brings a live and an ended event. The merchant is an account made with
``flask create-user`` that takes over a certified demo enterprise (claiming is covered by the
main journeys). Journeys b-e build on each other through ``STATE``.
"""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image, ImageDraw

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, eventually, login, need, shoot

pytestmark = pytest.mark.e2e

STATE: dict = {}
LIVE_SLUG = "yanshi-guanghuo-wanggoujie"
ENDED_SLUG = "yanshi-lingnan-chunji"
EVENT_SLUG = "e2e-lingnan-haowu"
EVENT_NAME = "岭南好物网购节（测试）"
MERCHANT_EMAIL = "events-merchant@e2e.example"
MERCHANT_PASSWORD = "网购节报名的测试商家2026"






def _china(delta: timedelta) -> str:
    """A datetime-local value in China time, ``delta`` from now."""
    from marketplace import clock

    return (clock.china_now() + delta).strftime("%Y-%m-%dT%H:%M")


def _banner() -> bytes:
    im = Image.new("RGB", (1500, 500), (200, 16, 46))
    draw = ImageDraw.Draw(im)
    for i in range(8):
        draw.ellipse((100 + i * 160, 120, 260 + i * 160, 380), outline=(217, 164, 65), width=12)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


# --------------------------------------------------------------------------- (a) consumer


def test_a_consumer_goes_from_home_to_the_live_event_and_an_offer_to_the_shop(page, live_server):
    page.goto("/")
    feature = page.locator("section.home-event a.home-event-link")
    feature.wait_for()
    assert LIVE_SLUG in feature.get_attribute("href")
    # the countdown runs (static JS): the plain end date became "距结束还有 N 天 hh:mm:ss"
    page.locator("section.home-event .countdown-label", has_text="距结束还有").wait_for()
    assert re.search(r"\d+ 天 \d\d:\d\d:\d\d", page.locator("section.home-event .countdown-value").inner_text())
    shoot(page, "ev-a1-consumer-home-live-event")

    feature.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/events/{LIVE_SLUG}")
    page.locator("li.offer").first.wait_for()
    shoot(page, "ev-a2-consumer-live-event")

    # filter by kind of offer (the panel is open on wide screens, a tap away on phones)
    page.locator("aside.filters a.chip", has_text="优惠券").first.click()
    page.wait_for_load_state()
    assert "kind=coupon" in page.url
    kinds = page.locator("li.offer .offer-kind").all_inner_texts()
    assert kinds and set(kinds) == {"优惠券"}
    shoot(page, "ev-a3-consumer-event-coupons")

    # an offer's button goes through /go/<shop>?offer=<id> to the shop's certified URL
    button = page.locator("li.offer .offer-go a").first
    href = button.get_attribute("href")
    shop_id, offer_id = re.search(r"/go/(\d+)\?offer=(\d+)", href).groups()
    shop_url = live_server.sql("SELECT url FROM shop WHERE id = :s", s=int(shop_id))[0][0]
    with page.context.expect_page() as popup_info:
        button.click()
    popup = popup_info.value
    assert eventually(lambda: shop_url in page.context.requested, timeout=10), page.context.requested[-5:]
    popup.close()
    clicks = live_server.sql("SELECT event_id, offer_id FROM click_event WHERE offer_id = :o", o=int(offer_id))
    event_id = live_server.sql("SELECT id FROM shopping_event WHERE slug = :s", s=LIVE_SLUG)[0][0]
    assert clicks and clicks[0] == (event_id, int(offer_id))

    # the events list: live, upcoming, ended
    page.goto("/events")
    page.get_by_role("heading", name="已结束", exact=True).wait_for()
    assert page.locator("article.event-card").count() >= 2
    shoot(page, "ev-a4-consumer-events")


# --------------------------------------------------------------------------- (b) staff create


def test_b_staff_create_an_event_with_a_banner(new_context, live_server, tmp_path):
    page = new_context().new_page()
    login(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto("/staff/")
    page.locator("nav.staff-nav a", has_text="网购节").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="新建网购节").click()
    page.wait_for_load_state()
    page.fill("input[name=name]", EVENT_NAME)
    page.fill("input[name=slug]", "E2E Lingnan")  # refused: upper case and a space
    page.fill("input[name=starts_at]", _china(timedelta(minutes=-5)))
    page.fill("input[name=ends_at]", _china(timedelta(days=7)))
    page.fill("textarea[name=description]", "测试网购节：岭南好物，认证网店联合让利。")
    page.locator("input[name=industry_ids]").nth(0).check()
    banner = tmp_path / "banner.png"
    banner.write_bytes(_banner())
    page.set_input_files("input[name=banner]", str(banner))
    page.get_by_role("button", name="创建").click()
    page.wait_for_load_state()
    page.get_by_text("网址标识须为").first.wait_for()
    assert not live_server.sql("SELECT id FROM shopping_event WHERE name = :n", n=EVENT_NAME)
    shoot(page, "ev-b1-staff-event-form-error")

    page.fill("input[name=slug]", EVENT_SLUG)
    page.set_input_files("input[name=banner]", str(banner))
    page.get_by_role("button", name="创建").click()
    page.wait_for_load_state()
    row = live_server.sql("SELECT id, banner_sha256 FROM shopping_event WHERE slug = :s", s=EVENT_SLUG)
    assert row and row[0][1], "the event or its banner was not stored"
    width = live_server.sql("SELECT width FROM image WHERE sha256 = :h", h=row[0][1])[0][0]
    assert width == 1200  # re-encoded by the image pipeline
    STATE["event_id"] = row[0][0]
    page.get_by_text(EVENT_NAME).first.wait_for()
    shoot(page, "ev-b2-staff-events")
    audit = live_server.sql("SELECT count(*) FROM audit_log WHERE action = 'event.create' AND entity_id = :e",
                            e=STATE["event_id"])
    assert audit[0][0] == 1


# --------------------------------------------------------------------------- (c) merchant enrolls


def test_c_merchant_enrolls_a_shop_with_an_offer(new_context, live_server):
    need(STATE, "event_id")
    made = live_server.flask("create-user", "--role", "merchant", MERCHANT_EMAIL, "--password-stdin",
                             input=MERCHANT_PASSWORD + "\n", check=False)
    assert made.returncode == 0, made.stdout + made.stderr
    industry_id = live_server.sql("SELECT industry_id FROM shopping_event_industry WHERE event_id = :e",
                                  e=STATE["event_id"])[0][0]
    ent_id, shop_id, shop_name = live_server.sql(
        "SELECT e.id, s.id, s.name FROM enterprise e JOIN shop s ON s.enterprise_id = e.id "
        "JOIN enterprise_industry ei ON ei.enterprise_id = e.id AND ei.industry_id = :i "
        "WHERE e.status = 'certified' AND s.status = 'certified' AND e.owner_id IS NULL "
        "ORDER BY e.id DESC LIMIT 1", i=industry_id)[0]
    user_id = live_server.sql("SELECT id FROM \"user\" WHERE email = :m", m=MERCHANT_EMAIL)[0][0]
    live_server.sql("UPDATE enterprise SET owner_id = :u WHERE id = :e", u=user_id, e=ent_id)

    page = new_context().new_page()
    login(page, MERCHANT_EMAIL, MERCHANT_PASSWORD)
    page.get_by_role("link", name="网购节报名").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("/merchant/events")
    section = page.locator("section", has_text=EVENT_NAME).first
    section.get_by_role("link", name=re.compile(re.escape(shop_name))).first.click()
    page.wait_for_load_state()
    assert f"/shops/{shop_id}/events/{STATE['event_id']}/offers/new" in page.url
    page.select_option("select[name=kind]", "threshold")
    assert page.locator("input[name=discount]").is_hidden()  # only the kind's fields (static JS)
    page.fill("input[name=threshold]", "199")
    page.fill("input[name=amount]", "-20")
    page.fill("textarea[name=terms]", "全店通用，每个账号限用一次。")
    page.fill("input[name=coupon_code]", "LINGNAN20")
    page.get_by_role("button", name="提交审核").click()
    page.wait_for_load_state()
    page.get_by_text("减免金额不能为负数").wait_for()
    shoot(page, "ev-c1-merchant-offer-error")

    page.fill("input[name=amount]", "20")
    page.get_by_role("button", name="提交审核").click()
    page.wait_for_load_state()
    assert page.url.endswith("/merchant/events")
    offer = live_server.sql("SELECT id, status, amount_fen FROM offer WHERE shop_id = :s AND event_id = :e",
                            s=shop_id, e=STATE["event_id"])
    assert offer and offer[0][1:] == ("pending", 2000)
    STATE.update(offer_id=offer[0][0], shop_id=shop_id)
    page.get_by_text("满199减20").first.wait_for()
    shoot(page, "ev-c2-merchant-offer-pending")


# --------------------------------------------------------------------------- (d) staff review


def test_d_staff_review_offers_and_read_a_report(new_context, live_server):
    need(STATE, "offer_id")
    page = new_context().new_page()
    login(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto(f"/staff/offers?event={STATE['event_id']}")
    page.get_by_text("满199减20").first.wait_for()
    shoot(page, "ev-d1-staff-offer-queue")
    page.get_by_role("link", name="逐条审核").click()
    page.wait_for_load_state()
    assert page.url.split("?")[0].endswith(f"/staff/offers/{STATE['offer_id']}")
    shoot(page, "ev-d2-staff-offer")
    page.get_by_role("button", name="通过并下一项").click()
    page.wait_for_load_state()
    assert live_server.sql("SELECT status FROM offer WHERE id = :o", o=STATE["offer_id"])[0][0] == "approved"

    # a demo offer waiting in the live demo event: rejected with a reason the merchant reads
    pending = live_server.sql("SELECT o.id FROM offer o JOIN shopping_event e ON e.id = o.event_id "
                              "WHERE e.slug = :s AND o.status = 'pending' ORDER BY o.id LIMIT 1", s=LIVE_SLUG)[0][0]
    page.goto(f"/staff/offers/{pending}")
    page.get_by_role("button", name="驳回并下一项").click()  # no reason: refused
    page.wait_for_load_state()
    page.get_by_text("请填写驳回理由").first.wait_for()
    page.fill("textarea[name=reason]", "使用说明与店铺页面的活动规则不一致，请核对后重新提交。")
    page.get_by_role("button", name="驳回并下一项").click()
    page.wait_for_load_state()
    assert live_server.sql("SELECT status, reason FROM offer WHERE id = :o", o=pending)[0][0] == "rejected"

    ended = live_server.sql("SELECT id FROM shopping_event WHERE slug = :s", s=ENDED_SLUG)[0][0]
    page.goto("/staff/events")
    page.locator("tr", has_text="岭南春季焕新节").get_by_role("link", name="报告").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/staff/events/{ended}/report")
    page.locator("[data-chart=daily] svg").wait_for()  # ECharts drew the chart (SVG renderer, CSP-clean)
    shoot(page, "ev-d3-staff-event-report")
    csv = page.request.get(f"/staff/events/{ended}/report/daily.csv")
    assert csv.status == 200 and csv.text().startswith("\ufeff日期,参与网店,有效优惠,点击")
    STATE["approved"] = True


# --------------------------------------------------------------------------- (e) consumer again


def test_e_consumer_sees_the_approved_offer_on_the_new_event(page, live_server):
    need(STATE, "approved")

    def shown():
        page.goto(f"/events/{EVENT_SLUG}")
        return page.locator("li.offer", has_text="满199减20").count() > 0

    assert eventually(shown), "the approved offer is not on the event page"
    assert page.locator("li.offer code.coupon-code").first.inner_text() == "LINGNAN20"
    assert page.locator("img.event-banner-hero").count() == 1
    shoot(page, "ev-e1-consumer-new-event")
