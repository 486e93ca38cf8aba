"""Browser journeys of the campaign portal (issue 16): staff publish news, consumers read it.

(a) staff write an article in Markdown (with a script tag a careless paste might bring), preview
    it, publish it, and schedule a second one for later; (b) a consumer finds the published
    article on the home page and on /news at 390 and 1280 px, reads it (the script never runs),
    filters by category, and cannot reach the scheduled one; the footer carries the site's
    trust signals and the privacy and terms pages open.

Screenshots go to tests/artifacts/portal-*.png (phone and desktop).
"""
from __future__ import annotations

import re
import urllib.error
import urllib.request
from datetime import timedelta

import pytest

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, eventually, login, shoot

pytestmark = pytest.mark.e2e

STATE: dict = {}
TITLE = "广货网上行网购节启动：百家认证网店参加"
SCHEDULED_TITLE = "下周发布：家电以旧换新活动安排"
BODY = """# 活动安排

**时间**：本周六起
认准名录中的认证网店，在“[验证店铺](/verify)”核实后再下单。

- 食品饮料
- 家电

<script>document.title = "被注入了"</script>
<a href="javascript:alert(1)" onclick="alert(2)">可疑链接</a>
"""


def _status(url: str) -> int:
    """What a visitor without cookies gets for ``url``."""
    try:
        with urllib.request.urlopen(url, timeout=15) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code




def test_a_staff_write_preview_publish_and_schedule_news(new_context, live_server):
    from marketplace.clock import china_now

    page = new_context().new_page()
    login(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto("/staff/")
    page.locator("nav.staff-nav a", has_text="资讯发布").click()
    page.wait_for_load_state()
    assert "广东省人民政府关于加快发展电子商务的意见" in page.content()  # the seed policy document
    shoot(page, "portal-a1-staff-news-list")

    page.locator("a.button", has_text="写新文章").first.click()
    page.fill("input[name=title]", TITLE)
    page.select_option("select[name=category]", "event")
    page.fill("input[name=source]", "广货网上行活动办公室（演示）")
    page.fill("textarea[name=body]", BODY)
    page.locator("button[name=action][value=preview]").click()
    page.wait_for_load_state()
    preview = page.locator(".news-preview")
    preview.wait_for()
    assert preview.locator("h2", has_text="活动安排").count() == 1
    assert "可疑链接" in preview.inner_text() and preview.locator("a[href^=javascript]").count() == 0
    assert page.title() != "被注入了"
    shoot(page, "portal-a2-staff-news-preview")
    assert not live_server.sql("SELECT id FROM news_article WHERE title = :t", t=TITLE)  # nothing stored yet

    page.locator("button[name=action][value=publish]").click()
    page.wait_for_load_state()
    assert "已发布" in page.locator(".flashes").inner_text()
    STATE["article_id"] = int(re.search(r"/staff/news/(\d+)/edit", page.url).group(1))
    shoot(page, "portal-a3-staff-news-published")

    page.goto("/staff/news/new")
    page.fill("input[name=title]", SCHEDULED_TITLE)
    page.select_option("select[name=category]", "event")
    page.fill("textarea[name=body]", "活动细则稍后公布。")
    later = (china_now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    page.fill("input[name=publish_at]", later)
    page.locator("button[name=action][value=publish]").click()
    page.wait_for_load_state()
    assert "已定时发布" in page.locator(".flashes").inner_text()
    STATE["scheduled_id"] = int(re.search(r"/staff/news/(\d+)/edit", page.url).group(1))
    actions = [r[0] for r in live_server.sql(
        "SELECT action FROM audit_log WHERE entity_kind = 'news_article' AND entity_id IN (:a, :b) ORDER BY id",
        a=STATE["article_id"], b=STATE["scheduled_id"])]
    assert actions == ["news.create", "news.publish", "news.create", "news.schedule"]


def test_b_consumer_reads_the_news_on_home_and_news_pages(new_context, live_server):
    if "article_id" not in STATE:
        pytest.fail("the staff journey did not publish the article")
    ctx = new_context()
    page = ctx.new_page()

    def home_shows_it():
        page.goto("/")
        return page.locator("section[aria-labelledby=news-title]").get_by_text(TITLE).count() > 0

    assert eventually(home_shows_it), "the published article is not on the home page"
    assert SCHEDULED_TITLE not in page.content()
    footer = page.locator("footer.site-footer")
    assert footer.locator("a[href='https://www.12315.cn/']").count() == 1
    assert footer.locator("a[href='https://beian.miit.gov.cn/']").count() == 1
    assert "主办单位" in footer.inner_text() and "承办单位" in footer.inner_text()
    for width, name in ((390, "phone"), (1280, "desktop")):
        page.set_viewport_size({"width": width, "height": 900})
        section = page.locator("section[aria-labelledby=news-title]")
        section.scroll_into_view_if_needed()
        section.screenshot(path=str(ARTIFACTS / f"portal-b0-home-news-section-{name}.png"))
    shoot(page, "portal-b1-consumer-home")

    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("section[aria-labelledby=news-title] a", has_text=TITLE).click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/news/{STATE['article_id']}")
    assert page.locator("h1").inner_text() == TITLE
    prose = page.locator(".prose")
    assert prose.locator("h2", has_text="活动安排").count() == 1
    assert prose.locator("script").count() == 0 and prose.locator("a[onclick]").count() == 0
    assert page.title() != "被注入了"
    shoot(page, "portal-b2-consumer-article")

    page.goto("/news")
    assert page.locator(".news-list a", has_text=TITLE).count() == 1
    assert SCHEDULED_TITLE not in page.content()
    page.locator("nav.news-cats a", has_text="活动公告").click()
    page.wait_for_load_state()
    assert "category=event" in page.url and page.locator("h1").inner_text() == "活动公告"
    assert page.locator(".news-list a", has_text=TITLE).count() == 1
    shoot(page, "portal-b3-consumer-news-list")

    assert _status(live_server.url(f"/news/{STATE['scheduled_id']}")) == 404
    page.goto("/news?category=policy")
    page.locator(".news-list a", has_text="广东省人民政府关于加快发展电子商务的意见").click()
    page.wait_for_load_state()
    assert "实施“广货网上行”工程" in page.locator(".prose").inner_text()
    shoot(page, "portal-b4-consumer-policy")

    page.locator("footer a", has_text="隐私政策").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "隐私政策"
    shoot(page, "portal-b5-privacy")
    page.locator("footer a", has_text="使用条款").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "使用条款"

    feed = urllib.request.urlopen(live_server.url("/feeds/news.atom"), timeout=15).read().decode()
    assert TITLE in feed and SCHEDULED_TITLE not in feed
