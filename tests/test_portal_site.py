"""Site trust signals (issue 16 §5): the footer (主办 / 承办 / contact / ICP备案号 / 12315), the
privacy and terms pages, and the home page's 人气 rows when nobody has clicked yet."""
from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace.clock import utc_now
from marketplace.extensions import db
from marketplace.models import FeaturedSlot, Placement, Role
from tests.factories import make_enterprise, make_user


@pytest.fixture
def app_config(app_config):
    app_config.update(SITE_ORGANIZER="广东省某某厅（测试）", SITE_OPERATOR="某某中心（测试）",
                      SITE_CONTACT_PHONE="020-1234 5678", SITE_CONTACT_EMAIL="help@gdws.example",
                      SITE_CONTACT_ADDRESS="广州市测试路 1 号", ICP_NUMBER="粤ICP备12345678号-1")
    return app_config


def _footer(html: str) -> str:
    return html.split('<footer class="site-footer">')[1].split("</footer>")[0]


def test_every_kind_of_page_has_the_footer_from_config(app, client, login_as):
    ent = make_enterprise()
    db.session.commit()
    pages = ["/", "/enterprises", f"/enterprises/{ent.id}", "/news", "/about", "/privacy", "/terms", "/verify",
             "/account/login", "/no-such-page"]
    for path in pages:
        footer = _footer(client.get(path).get_data(as_text=True))
        for text in ("主办单位", "广东省某某厅（测试）", "承办单位", "某某中心（测试）", "help@gdws.example",
                     "020-1234 5678", "广州市测试路 1 号"):
            assert text in footer, (path, text)
        assert '<a href="https://beian.miit.gov.cn/" target="_blank" rel="noopener noreferrer">粤ICP备12345678号-1</a>' in footer
        assert 'href="https://www.12315.cn/"' in footer and "12315" in footer
        assert 'href="/privacy"' in footer and 'href="/terms"' in footer, path
        assert 'href="tel:02012345678"' in footer
    login_as(make_user(Role.STAFF))
    db.session.commit()
    assert "粤ICP备12345678号-1" in _footer(client.get("/staff/").get_data(as_text=True))


def test_empty_contact_settings_are_left_out(app, client):
    app.config.update(SITE_CONTACT_PHONE="", SITE_CONTACT_ADDRESS="", ICP_NUMBER="")
    footer = _footer(client.get("/").get_data(as_text=True))
    assert "联系电话" not in footer and "通信地址" not in footer and "beian.miit.gov.cn" not in footer
    assert "主办单位" in footer and "电子邮箱" in footer


def test_privacy_and_terms_pages_say_what_the_site_really_does(client):
    privacy = client.get("/privacy")
    assert privacy.status_code == 200
    html = privacy.get_data(as_text=True)
    for text in ("<h1>隐私政策</h1>", "个人信息保护法", "不使用任何第三方统计", "remember_token",
                 "联系方式仅工作人员可见", "GPS", "加盐哈希", "help@gdws.example", 'href="/terms"'):
        assert text in html, text
    terms = client.get("/terms")
    assert terms.status_code == 200
    html = terms.get_data(as_text=True)
    for text in ("<h1>使用条款</h1>", "认证不是对每一件商品或每一笔交易质量的担保", "来源：广货网上行",
                 "https://www.12315.cn/", "由广东省某某厅（测试）主办", 'href="/privacy"'):
        assert text in html, text
    assert '<link rel="canonical" href="http://localhost/privacy">' in privacy.get_data(as_text=True)


def test_header_links_to_the_news(client):
    header = client.get("/").get_data(as_text=True).split("</header>")[0]
    assert 'href="/news"' in header and "资讯公告" in header


# ------------------------------------------------------------------ 人气 rows without clicks


def _row(html: str, slug: str) -> str:
    return html.split(f'id="row-{slug}"')[1].split("</section>")[0]


def _heading(html: str, slug: str) -> str:
    return html.split(f'id="row-{slug}">')[1].split("</h2>")[0]


def test_rows_without_clicks_show_recently_featured_then_newest_certified(app, client):
    now = utc_now()
    old_featured = make_enterprise(brands=["曾获推荐"], industries=["陶瓷"])
    oldest = make_enterprise(brands=["最早认证"], industries=["陶瓷"])
    newest = make_enterprise(brands=["最新认证"], industries=["陶瓷"])
    middle = make_enterprise(brands=["中间认证"], industries=["陶瓷"])
    for ent, days in ((old_featured, 30), (oldest, 20), (middle, 10), (newest, 1)):
        ent.certified_at = now - timedelta(days=days)
    # a slot that ended last week: staff chose this one, so it leads the fallback row
    db.session.add(FeaturedSlot(placement=Placement.CAROUSEL, enterprise=old_featured, position=0,
                                starts_at=now - timedelta(days=9), ends_at=now - timedelta(days=7)))
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    row = _row(html, "ceramics")
    order = sorted(["曾获推荐", "最新认证", "中间认证", "最早认证"], key=row.index)
    assert order == ["曾获推荐", "最新认证", "中间认证", "最早认证"]
    assert "推荐企业" in _heading(html, "ceramics") and "人气" not in _heading(html, "ceramics")
    assert "暂无访问数据" in row


def test_rows_with_clicks_are_called_popular_and_led_by_clicks(app, client):
    quiet = make_enterprise(brands=["冷门"], industries=["陶瓷"])
    visited = make_enterprise(brands=["常被访问"], industries=["陶瓷"])
    visited.click_count = 12
    quiet.certified_at = utc_now()
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    row = _row(html, "ceramics")
    assert row.index("常被访问") < row.index("冷门")
    assert "人气企业" in _heading(html, "ceramics") and "暂无访问数据" not in row
