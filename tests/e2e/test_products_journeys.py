"""名优广货 journeys (issue 16 items 1 and 4), in a browser at 390 and 1280 px, in order:

(a) a consumer searches for a product, narrows the results to 商品, opens the product's page,
    copies a shop link (for WeChat) and goes 进店 through /go/ to the product's page on the shop;
    then browses /products by a facet and sees the enterprise page's products and 进店 buttons;
(b) a merchant adds a product with two photos, a price range and a shop URL (after a refused
    attempt: a price range the wrong way round and a URL on another shop);
(c) staff approve it in the product review queue, and the consumer finds it on /products and by
    search.

The demo data brings 240 products. The merchant is an account made with ``flask create-user`` that
takes over a certified demo enterprise with a certified 天猫 shop. Journeys b-c build on each other
through ``STATE``.
"""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image, ImageDraw

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, eventually, login, need, shoot

pytestmark = pytest.mark.e2e

STATE: dict = {}
MERCHANT_EMAIL = "products-merchant@e2e.example"
MERCHANT_PASSWORD = "名优广货测试商家2026"
PRODUCT_NAME = "岭南测试陈皮礼盒 500g"






def _photo(colour) -> dict:
    im = Image.new("RGB", (600, 600), colour)
    ImageDraw.Draw(im).ellipse((100, 100, 500, 500), fill=(217, 164, 65))
    buf = io.BytesIO()
    im.save(buf, "JPEG")
    return {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()}


# --------------------------------------------------------------------------- (a) consumer


def test_a_consumer_searches_a_product_opens_it_and_goes_to_the_shop(new_context, live_server):
    page = new_context(permissions=["clipboard-read", "clipboard-write"]).new_page()
    pid, name, url = live_server.sql(
        "SELECT p.id, p.name, l.url FROM product p JOIN product_link l ON l.product_id = p.id "
        "WHERE p.status = 'approved' ORDER BY p.id LIMIT 1")[0]
    page.goto("/")
    box = page.locator("input[name=q]").first
    box.fill(name)
    box.press("Enter")
    page.wait_for_load_state()
    page.get_by_role("link", name="商品", exact=True).first.click()
    page.wait_for_load_state()
    assert "kind=product" in page.url
    result = page.locator("li.result-product a", has_text=name).first
    result.wait_for()
    shoot(page, "pr-a1-consumer-search-products")
    result.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/products/{pid}")
    page.get_by_role("heading", name=name).wait_for()
    assert "¥" in page.locator(".product-info .product-price").inner_text()
    shoot(page, "pr-a2-consumer-product-page")

    copy = page.locator(".product-link .copy-button").first
    copy.click()
    page.locator(".product-link .copy-button", has_text="链接已复制").first.wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == url

    go = page.locator(".product-link a.go-button").first
    href = go.get_attribute("href")
    assert re.search(r"/go/\d+\?link=\d+$", href)
    before = live_server.sql("SELECT click_count FROM product WHERE id = :p", p=pid)[0][0]
    with page.context.expect_page() as popup_info:
        go.click()
    popup = popup_info.value
    assert eventually(lambda: url in page.context.requested, timeout=10), page.context.requested[-5:]
    popup.close()
    assert eventually(lambda: live_server.sql("SELECT click_count FROM product WHERE id = :p", p=pid)[0][0] > before)

    # browse by a facet, then the enterprise page: its products, 进店 and copy-link per shop
    page.goto("/products")
    page.locator("aside.filters a.chip").first.click()
    page.wait_for_load_state()
    assert re.search(r"(industry|city|platform)=", page.url)
    assert page.locator(".product-card").count() >= 1
    shoot(page, "pr-a3-consumer-products-facet")
    page.goto(f"/products/{pid}")
    page.locator(".product-info a[href^='/enterprises/']").click()
    page.wait_for_load_state()
    page.locator("#products-title").wait_for()
    assert page.locator(".pub-shop a.go-button", has_text="进店").count() >= 1
    assert page.locator(".pub-shop .copy-button").count() >= 1
    shoot(page, "pr-a4-consumer-enterprise-products")


# --------------------------------------------------------------------------- (b) merchant


def test_b_a_merchant_adds_a_product_with_photos_prices_and_a_shop_url(new_context, live_server):
    made = live_server.flask("create-user", "--role", "merchant", MERCHANT_EMAIL, "--password-stdin",
                             input=MERCHANT_PASSWORD + "\n")
    assert made.returncode == 0, made.stdout + made.stderr
    ent_id, shop_id, shop_url = live_server.sql(
        "SELECT e.id, s.id, s.url FROM enterprise e JOIN shop s ON s.enterprise_id = e.id "
        "JOIN platform p ON p.id = s.platform_id WHERE e.status = 'certified' AND s.status = 'certified' "
        "AND e.owner_id IS NULL AND p.slug = 'tmall' ORDER BY e.id LIMIT 1")[0]
    user_id = live_server.sql("SELECT id FROM \"user\" WHERE email = :m", m=MERCHANT_EMAIL)[0][0]
    live_server.sql("UPDATE enterprise SET owner_id = :u WHERE id = :e", u=user_id, e=ent_id)
    page = new_context().new_page()
    login(page, MERCHANT_EMAIL, MERCHANT_PASSWORD)
    page.goto("/merchant/products")
    page.get_by_role("link", name="添加商品").first.click()
    page.wait_for_load_state()
    page.fill("input[name=name]", PRODUCT_NAME)
    page.select_option("select[name=industry_id]", label="食品饮料")
    page.fill("input[name=price_min]", "168")
    page.fill("input[name=price_max]", "98")
    page.fill("textarea[name=description]", "新会陈皮，三年陈，测试商品。")
    page.set_input_files("input[name=photos]", [_photo((200, 16, 46)), _photo((11, 92, 173))])
    page.fill(f"input[name=url_{shop_id}]", "https://someone-else.tmall.com/item.htm?id=42")
    shoot(page, "pr-b1-merchant-product-form")
    page.get_by_role("button", name="提交审核").click()
    page.wait_for_load_state()
    page.locator(".field-error", has_text="最低价不能高于最高价").wait_for()
    page.locator(".field-error", has_text="不是本店").wait_for()
    assert page.locator("input[name=name]").input_value() == PRODUCT_NAME  # typed input kept
    shoot(page, "pr-b2-merchant-product-refused")
    assert not live_server.sql("SELECT id FROM product WHERE name = :n", n=PRODUCT_NAME)

    page.fill("input[name=price_min]", "98")
    page.fill("input[name=price_max]", "168")
    page.fill(f"input[name=url_{shop_id}]", "https://detail.tmall.com/item.htm?id=777001&spm=a1z10")
    page.set_input_files("input[name=photos]", [_photo((200, 16, 46)), _photo((11, 92, 173))])
    page.get_by_role("button", name="提交审核").click()
    page.wait_for_load_state()
    page.locator(".flash", has_text="审核通过后公开显示").wait_for()
    row = live_server.sql("SELECT id, status, price_min_fen, price_max_fen FROM product WHERE name = :n",
                          n=PRODUCT_NAME)
    assert row and row[0][1:] == ("pending", 9800, 16800)
    pid = row[0][0]
    assert live_server.sql("SELECT count(*) FROM product_photo WHERE product_id = :p", p=pid)[0][0] == 2
    assert live_server.sql("SELECT url FROM product_link WHERE product_id = :p", p=pid)[0][0] == \
        "https://detail.tmall.com/item.htm?id=777001"
    shoot(page, "pr-b3-merchant-products-pending")
    anonymous = new_context().new_page()
    anonymous.context.problems.allow(rf"/products/{pid}$", 404)
    assert anonymous.goto(f"/products/{pid}").status == 404  # not public before review
    STATE.update(product_id=pid, shop_url=shop_url)


# --------------------------------------------------------------------------- (c) staff review


def test_c_staff_approve_the_product_and_it_shows(new_context, live_server):
    need(STATE, "product_id")
    pid = STATE["product_id"]
    page = new_context().new_page()
    login(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto("/staff/")
    page.locator("nav.staff-nav a", has_text="商品审核").click()
    page.wait_for_load_state()
    page.locator("table.data td", has_text=PRODUCT_NAME).wait_for()
    shoot(page, "pr-c1-staff-product-queue")
    page.goto(f"/staff/products/{pid}")
    page.get_by_role("heading", name=PRODUCT_NAME).wait_for()
    shoot(page, "pr-c2-staff-product-review")
    page.get_by_role("button", name="通过并下一件").click()
    page.wait_for_load_state()
    assert live_server.sql("SELECT status FROM product WHERE id = :p", p=pid)[0][0] == "approved"

    consumer = new_context().new_page()
    consumer.goto(f"/products/{pid}")
    consumer.get_by_role("heading", name=PRODUCT_NAME).wait_for()
    assert consumer.locator(".product-gallery img").count() == 2
    assert "¥98 – 168" in consumer.locator(".product-info .product-price").inner_text()
    shoot(page=consumer, name="pr-c3-consumer-new-product")

    def found():
        consumer.goto("/search?q=" + PRODUCT_NAME.split()[0] + "&kind=product")
        return consumer.locator("li.result-product a", has_text=PRODUCT_NAME).count() > 0

    assert eventually(found), "the approved product is not searchable"
    shoot(consumer, "pr-c4-consumer-search-new-product")
