"""The six journeys of issue 7, in order, as their users do them in a browser.

(a) a consumer searches in Chinese and in pinyin, filters by city, opens an enterprise and follows
    a shop link; (b) a merchant registers, creates an enterprise, uploads a logo, adds a shop and
    applies; (c) staff approve it and feature it; (d) the consumer finds it on the home page and in
    search; (e) a consumer reports it; (f) staff handle the report.

Journeys b-f build on each other through ``STATE`` (pytest runs a module's tests in file order).
Checks against the database go through ``live_server.sql`` — the same database the server uses.
"""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from conftest import (
    ADMIN_EMAIL, ADMIN_PASSWORD, eventually, fill_evidence, licence_image, login, mark_codes_verified, need, shoot,
)
from marketplace.clock import china_today

pytestmark = pytest.mark.e2e

STATE: dict = {}
BRAND = "澜汐臻选"
ENT_NAME = "广东澜汐臻选家居用品有限公司"
SHOP_URL = "https://lanxizhenxuan.tmall.com/"
MERCHANT_EMAIL = "owner@lanxi-e2e.example"
MERCHANT_PASSWORD = "澜汐的家居卖到全国2025"


def _uscc(area: str = "440604", serial: str = "MA4E2E7X1") -> str:
    from marketplace.validation.uscc import check_character

    body = f"91{area}{serial}"
    return body + check_character(body)


def _png_bytes() -> bytes:
    img = Image.new("RGB", (300, 300), (200, 30, 40))
    for x in range(60, 240):
        for y in range(120, 180):
            img.putpixel((x, y), (255, 220, 0))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()




def _search(page, query: str) -> None:
    """Type a query in the site's search box and submit it, like a user."""
    box = page.locator("input[name=q]").first
    box.fill(query)
    box.press("Enter")
    page.wait_for_load_state()


def _anonymous_status(url: str) -> int:
    """The status a visitor without cookies gets (redirects not followed)."""
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=15) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code




# --------------------------------------------------------------------------- (a) consumer


def test_a_consumer_searches_filters_opens_and_follows_a_shop_link(page, live_server):
    from pypinyin import lazy_pinyin

    row = live_server.sql(
        "SELECT e.id, e.name, b.name, c.name, c.slug, s.id, s.url FROM enterprise e "
        "JOIN brand b ON b.enterprise_id = e.id AND b.position = 0 JOIN city c ON c.id = e.city_id "
        "JOIN shop s ON s.enterprise_id = e.id AND s.status = 'certified' "
        "WHERE e.status = 'certified' ORDER BY e.id LIMIT 1")
    assert row, "the demo data has no certified enterprise with a certified shop"
    ent_id, ent_name, brand, city_name, city_slug, shop_id, shop_url = row[0]

    page.goto("/")
    shoot(page, "a1-consumer-home")

    # Chinese
    _search(page, brand)
    assert "/search" in page.url
    page.locator(f"main a[href$='/enterprises/{ent_id}']").first.wait_for()
    shoot(page, "a2-consumer-search-chinese")

    # pinyin of the brand, as typed on a phone keyboard without tones
    _search(page, "".join(lazy_pinyin(brand)))
    page.locator(f"main a[href$='/enterprises/{ent_id}']").first.wait_for()
    shoot(page, "a3-consumer-search-pinyin")

    # filter by city on the browse page
    page.goto("/enterprises")
    page.locator("aside.filters a.chip", has_text=city_name).first.click()
    page.wait_for_load_state()
    assert f"city={city_slug}" in page.url
    page.locator("main a[href*='/enterprises/']").first.wait_for()
    shoot(page, "a4-consumer-browse-city")

    # search its brand again, narrow the results with the city facet, open the enterprise
    page.goto("/")
    _search(page, brand)
    page.locator("aside.search-facets a", has_text=city_name).first.click()
    page.wait_for_load_state()
    assert "city=" in page.url
    shoot(page, "a5-consumer-search-city-facet")
    page.locator(f"main a[href$='/enterprises/{ent_id}']").first.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/enterprises/{ent_id}")
    page.get_by_role("heading", name=re.compile(re.escape(brand))).first.wait_for()
    shoot(page, "a6-consumer-enterprise")

    # the shop link goes through /go/<id> and redirects to the stored, certified URL
    link = page.locator(f"main a[href$='/go/{shop_id}']").first
    assert link.get_attribute("rel") and "noopener" in link.get_attribute("rel")
    clicks_before = live_server.sql("SELECT count(*) FROM click_event WHERE shop_id = :s", s=shop_id)[0][0]
    resp = page.request.get(f"/go/{shop_id}", max_redirects=0)
    assert resp.status in (302, 303) and resp.headers["location"] == shop_url
    with page.context.expect_page() as popup_info:
        link.click()
    popup = popup_info.value
    # The browser followed the redirect to the platform (unreachable from here, so not loaded).
    assert eventually(lambda: shop_url in page.context.requested, timeout=10), page.context.requested[-5:]
    popup.close()
    assert live_server.sql("SELECT count(*) FROM click_event WHERE shop_id = :s", s=shop_id)[0][0] >= clicks_before + 2


# --------------------------------------------------------------------------- (b) merchant


def test_b_merchant_registers_creates_enterprise_uploads_logo_adds_shop_and_applies(new_context, live_server, tmp_path):
    page = new_context().new_page()
    page.goto("/")
    page.get_by_role("link", name="商家入驻").first.click()
    page.wait_for_load_state()
    assert "/account/register" in page.url
    page.fill("input[name=email]", MERCHANT_EMAIL)
    page.fill("input[name=password]", MERCHANT_PASSWORD)
    page.fill("input[name=confirm]", MERCHANT_PASSWORD)
    page.check("input[name=agree]")
    shoot(page, "b1-merchant-register")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    assert "/merchant" in page.url, page.url
    shoot(page, "b2-merchant-dashboard-empty")

    # create the enterprise
    page.goto("/merchant/enterprises/new")
    page.fill("input[name=name]", ENT_NAME)
    page.fill("input[name=uscc]", _uscc())
    page.locator("input[name=uscc]").blur()
    page.fill("input[name=brands]", BRAND)
    foshan = live_server.sql("SELECT id FROM city WHERE name LIKE '佛山%'")[0][0]
    page.select_option("select[name=city_id]", str(foshan))
    page.locator("input[name=industry_ids]").first.check()
    page.fill("textarea[name=description]", f"{BRAND}专注实木家具与家居用品，佛山制造，全国包邮。")
    page.fill("input[name=website]", "https://www.lanxi-e2e.example")
    page.fill("input[name=founded_year]", "2012")
    shoot(page, "b3-merchant-enterprise-form")
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()
    ent_id = live_server.sql("SELECT id FROM enterprise WHERE name = :n", n=ENT_NAME)[0][0]
    STATE["ent_id"] = ent_id

    # add a shop (the create step leads to the shop form)
    if "/shops/new" not in page.url:
        page.goto(f"/merchant/enterprises/{ent_id}/shops/new")
    tmall = live_server.sql("SELECT id FROM platform WHERE slug = 'tmall'")[0][0]
    page.select_option("select[name=platform_id]", str(tmall))
    page.fill("input[name=name]", f"{BRAND}旗舰店")
    page.fill("input[name=url]", SHOP_URL + "?spm=a1z10.1&utm_source=e2e")
    shoot(page, "b4-merchant-shop-form")
    page.locator("form.form-card button[type=submit]").click()
    page.wait_for_load_state()
    shop = live_server.sql("SELECT id, url, status FROM shop WHERE enterprise_id = :e", e=ent_id)
    assert len(shop) == 1 and shop[0][1] == SHOP_URL, shop  # tracking parameters stripped
    STATE["shop_id"] = shop[0][0]

    # upload a logo
    logo = tmp_path / "标志.png"
    logo.write_bytes(_png_bytes())
    page.goto(f"/merchant/enterprises/{ent_id}/logo")
    page.set_input_files("input[name=logo]", str(logo))
    page.locator("form.form-card button[type=submit]").click()
    page.wait_for_load_state()
    assert live_server.sql("SELECT logo_sha256 FROM enterprise WHERE id = :e", e=ent_id)[0][0]

    # apply for certification
    page.goto(f"/merchant/enterprises/{ent_id}/submit")
    fill_evidence(page, licence_image(tmp_path / "营业执照.png"))
    shoot(page, "b5-merchant-submit")
    page.get_by_role("button", name="确认提交").click()
    page.wait_for_load_state()
    status = live_server.sql("SELECT status FROM enterprise WHERE id = :e", e=ent_id)[0][0]
    assert status == "pending"
    app_id = live_server.sql(
        "SELECT id FROM application WHERE enterprise_id = :e AND kind = 'enterprise' AND status = 'pending'",
        e=ent_id)[0][0]
    STATE["app_id"] = app_id
    page.goto("/merchant/")
    page.get_by_text("审核中").first.wait_for()
    shoot(page, "b6-merchant-dashboard-pending")
    # not public yet (for anyone but its owner and staff)
    assert _anonymous_status(live_server.url(f"/enterprises/{ent_id}")) == 404


# --------------------------------------------------------------------------- (c) staff


def test_c_staff_approve_and_feature_it(new_context, live_server):
    need(STATE, "ent_id", "app_id")
    ent_id, app_id = STATE["ent_id"], STATE["app_id"]
    page = new_context().new_page()
    login(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto("/staff/review")
    page.get_by_text(ENT_NAME).first.wait_for()
    shoot(page, "c1-staff-queue")
    page.goto(f"/staff/review/{app_id}")
    page.get_by_text(SHOP_URL).first.wait_for()
    shoot(page, "c2-staff-application")
    mark_codes_verified(page)
    page.locator("#approve-form button[type=submit]").click()
    page.wait_for_load_state()
    # a first certification goes on 公示 first; let its period pass and the periodic command run
    assert live_server.sql("SELECT status FROM enterprise WHERE id = :e", e=ent_id)[0][0] == "notice"
    live_server.sql("UPDATE public_notice SET ends_on = :d WHERE enterprise_id = :e", d=china_today(), e=ent_id)
    assert "生效 1 条" in live_server.flask("gongshi-take-effect").stdout
    ent = live_server.sql("SELECT status FROM enterprise WHERE id = :e", e=ent_id)[0][0]
    assert ent == "certified"
    assert live_server.sql("SELECT status FROM shop WHERE id = :s", s=STATE["shop_id"])[0][0] == "certified"
    assert live_server.sql("SELECT number FROM certification WHERE enterprise_id = :e", e=ent_id)

    # feature it in the home page carousel, starting now
    page.goto(f"/staff/curation?pick={ent_id}")
    field = page.locator("form[method=post] [name=enterprise_id]")
    if not field.input_value():
        field.fill(str(ent_id))
    placement = page.locator("form[method=post] select[name=placement]")
    options = placement.locator("option").evaluate_all("os => os.map(o => o.value)")
    placement.select_option(next((o for o in options if "carousel" in o), options[0]))
    page.get_by_role("button", name="添加").click()
    page.wait_for_load_state()
    assert live_server.sql("SELECT count(*) FROM featured_slot WHERE enterprise_id = :e", e=ent_id)[0][0] == 1
    shoot(page, "c3-staff-curation")
    STATE["approved"] = True


# --------------------------------------------------------------------------- (d) consumer again


def test_d_consumer_finds_it_on_the_home_page_and_in_search(page, live_server):
    need(STATE, "approved")
    page.goto("/")
    page.get_by_text(BRAND).first.wait_for()
    shoot(page, "d1-consumer-home-featured")

    result = page.locator(f"main a[href$='/enterprises/{STATE['ent_id']}']")

    def found():
        page.goto("/search?q=" + BRAND)
        return result.count() > 0

    assert eventually(found), "the approved enterprise is not found by search within 15 s"
    shoot(page, "d2-consumer-search-new")
    result.first.click()
    page.wait_for_load_state()
    assert f"/enterprises/{STATE['ent_id']}" in page.url
    page.locator(f"main a[href$='/go/{STATE['shop_id']}']").first.wait_for()
    shoot(page, "d3-consumer-enterprise-new")


# --------------------------------------------------------------------------- (e) consumer reports


def test_e_consumer_reports_it(page, live_server):
    need(STATE, "approved")
    page.goto(f"/enterprises/{STATE['ent_id']}")
    page.get_by_role("link", name="投诉举报").first.click()
    page.wait_for_load_state()
    page.select_option("select[name=kind]", "假冒伪劣")
    page.fill("textarea[name=description]", "在该旗舰店购买的实木椅疑似贴牌仿冒，做工与官网描述不符。")
    page.fill("input[name=contact]", "13800000000")
    shoot(page, "e1-consumer-report-form")
    page.get_by_role("button", name="提交举报").click()
    page.wait_for_load_state()
    row = live_server.sql("SELECT id, reference, status FROM complaint WHERE enterprise_id = :e", e=STATE["ent_id"])
    assert len(row) == 1, row
    STATE["complaint_id"], STATE["complaint_ref"] = row[0][0], row[0][1]
    page.get_by_text(STATE["complaint_ref"]).first.wait_for()
    shoot(page, "e2-consumer-report-submitted")


# --------------------------------------------------------------------------- (f) staff handle it


def test_f_staff_handle_the_report(new_context, live_server):
    need(STATE, "complaint_id")
    page = new_context().new_page()
    login(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto("/staff/complaints")
    page.get_by_text(STATE["complaint_ref"]).first.wait_for()
    shoot(page, "f1-staff-complaints")
    page.goto(f"/staff/complaints/{STATE['complaint_id']}")
    reply = "您好，已联系商家核实该批次产品，并要求其提供授权证明。"
    page.fill("textarea[name=body]", reply)
    public = page.locator("input[name=public]")
    if public.count() and not public.is_checked():
        public.check()
    page.get_by_role("button", name="发送回复").click()
    page.wait_for_load_state()
    outcome = page.locator("select[name=outcome]")
    values = outcome.locator("option").evaluate_all("os => os.map(o => o.value)")
    outcome.select_option(next((v for v in values if v == "resolved"), values[0]))
    page.fill("textarea[name=note]", "商家已下架相关商品并提供授权证明，处理完毕。")
    shoot(page, "f2-staff-complaint")
    page.get_by_role("button", name="办结").click()
    page.wait_for_load_state()
    status = live_server.sql("SELECT status FROM complaint WHERE id = :c", c=STATE["complaint_id"])[0][0]
    assert status in ("resolved", "dismissed")

    # the consumer sees the outcome on the public status page
    consumer = new_context().new_page()
    consumer.goto(f"/complaints/lookup?ref={STATE['complaint_ref']}")
    consumer.get_by_text("已联系商家核实该批次产品").first.wait_for()
    shoot(consumer, "f3-consumer-complaint-status")
