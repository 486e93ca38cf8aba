"""Consumer pages: every public page renders with its content, title, description and canonical
URL; unknown ids and slugs are 404; non-public enterprises are hidden except from owner/staff;
user text is escaped."""
import re
from html import unescape

import pytest

from factories import city, industry, make_enterprise, make_shop, make_user, platform
from marketplace.extensions import db
from marketplace.models import Role, Status


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def _head(html: str) -> dict:
    """Title, meta description and canonical of a rendered page."""
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    desc = re.search(r'<meta name="description" content="([^"]*)"', html)
    canon = re.findall(r'<link rel="canonical" href="([^"]+)"', html)
    return {"title": unescape(title.group(1)) if title else "", "description": unescape(desc.group(1)) if desc else "",
            "canonical": canon}


def _assert_head(html: str, canonical_path: str) -> dict:
    head = _head(html)
    assert head["title"].strip(), "missing <title>"
    assert len(head["description"]) > 10, "missing meta description"
    assert len(head["canonical"]) == 1, "exactly one canonical link"
    assert head["canonical"][0].startswith("http")
    assert unescape(head["canonical"][0]).endswith(canonical_path), head["canonical"]
    return head


@pytest.fixture
def directory(app):
    """A small directory: two public enterprises in different cities, one pending."""
    a = make_enterprise("佛山顺德美家电器有限公司", brands=["美家", "美家乐"], industries=["家电"],
                        city_name="佛山", badges=["中华老字号"], description="美家专注厨房电器三十年。")
    make_shop(a, platform_slug="tmall", name="美家官方旗舰店")
    make_shop(a, platform_slug="jd", name="美家京东自营旗舰店", shop_type="专卖店")
    b = make_enterprise("潮州市瓷源陶瓷有限公司", brands=["瓷源"], industries=["陶瓷"], city_name="潮州")
    make_shop(b, platform_slug="taobao", name="瓷源陶瓷店", shop_type="专营店")
    pending = make_enterprise("广州待审实业有限公司", brands=["待审牌"], status=Status.PENDING)
    make_shop(pending, status=Status.PENDING, name="待审旗舰店")
    db.session.commit()
    return {"a": a, "b": b, "pending": pending}


def test_home_page(client, directory):
    resp = client.get("/")
    assert resp.status_code == 200
    html = _text(resp)
    head = _assert_head(html, "/")
    assert "广货网上行" in head["title"]
    assert "实惠" in html and "优质" in html and "安全" in html
    assert 'action="/search"' in html and 'name="q"' in html
    assert "美家" in html and "瓷源" in html  # featured fallback / newest
    assert "待审牌" not in html
    assert "/ 10,000" in html and 'role="progressbar"' in html
    assert 'aria-valuenow="2"' in html  # two certified enterprises
    for region in ("珠三角", "粤东", "粤西", "粤北"):
        assert region in html
    assert "/cities/foshan" in html and "/industries/home-appliances" in html
    assert "<script>" not in html.split("</main>")[0]  # no inline script in the page body


def test_home_on_empty_directory(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert "暂无已认证企业" in _text(resp)


def test_browse_page(client, directory):
    resp = client.get("/enterprises")
    assert resp.status_code == 200
    html = _text(resp)
    _assert_head(html, "/enterprises")
    assert "美家" in html and "瓷源" in html and "待审牌" not in html
    assert "共 <strong>2</strong> 家" in html


def test_enterprise_page(client, directory):
    a = directory["a"]
    resp = client.get(f"/enterprises/{a.id}")
    assert resp.status_code == 200
    html = _text(resp)
    head = _assert_head(html, f"/enterprises/{a.id}")
    assert "美家" in head["title"]
    assert "佛山顺德美家电器有限公司" in html and "美家乐" in html
    assert "佛山市" in html and "家电" in html and "中华老字号" in html
    assert "美家专注厨房电器三十年。" in html
    cert = a.certificate
    assert cert.number in html and cert.valid_until.strftime("%Y-%m-%d") in html
    # shops grouped by platform, with platform name and shop type
    assert "天猫" in html and "京东" in html and "专卖店" in html and "旗舰店" in html
    assert html.index("天猫") < html.index("美家官方旗舰店")


def test_enterprise_shop_links_go_through_redirect(client, directory):
    a = directory["a"]
    html = _text(client.get(f"/enterprises/{a.id}"))
    links = re.findall(r'<a class="pub-shop-link" href="([^"]+)"([^>]*)>', html)
    assert len(links) == 2
    shop_ids = {s.id for s in a.shops}
    for href, attrs in links:
        assert re.fullmatch(r"/go/\d+", href)
        assert int(href.rsplit("/", 1)[1]) in shop_ids
        assert 'rel="nofollow noopener"' in attrs and 'target="_blank"' in attrs
    for s in a.shops:  # the raw shop URL is never a link on the page
        assert f'href="{s.url}"' not in html


def test_enterprise_page_hides_non_public_shops(client, app):
    ent = make_enterprise(brands=["半认证"])
    make_shop(ent, name="已认证店")
    make_shop(ent, name="被撤销店", status=Status.REVOKED)
    make_shop(ent, name="待审核店", status=Status.PENDING)
    db.session.commit()
    html = _text(client.get(f"/enterprises/{ent.id}"))
    assert "已认证店" in html and "被撤销店" not in html and "待审核店" not in html


@pytest.mark.parametrize("status", [Status.DRAFT, Status.PENDING, Status.REJECTED, Status.SUSPENDED,
                                    Status.REVOKED, Status.EXPIRED])
def test_non_public_enterprise_is_404_for_consumers(client, status):
    ent = make_enterprise(brands=["不公开"], status=status)
    db.session.commit()
    resp = client.get(f"/enterprises/{ent.id}")
    assert resp.status_code == 404
    assert "不公开" not in _text(resp)


def test_non_public_enterprise_is_404_for_other_merchant(client, login_as):
    owner, other = make_user(), make_user()
    ent = make_enterprise(brands=["别人的"], status=Status.PENDING, owner=owner)
    db.session.commit()
    login_as(other)
    assert client.get(f"/enterprises/{ent.id}").status_code == 404


def test_non_public_enterprise_visible_to_owner_with_banner(client, login_as):
    owner = make_user()
    ent = make_enterprise(brands=["我的草稿"], status=Status.DRAFT, owner=owner)
    make_shop(ent, status=Status.DRAFT, name="草稿网店")
    db.session.commit()
    login_as(owner)
    resp = client.get(f"/enterprises/{ent.id}")
    assert resp.status_code == 200
    html = _text(resp)
    assert "我的草稿" in html and "未公开" in html and "草稿" in html
    assert "草稿网店" in html and "/go/" not in html  # shown, but no click-through link
    assert "noindex" in html and resp.headers["X-Robots-Tag"] == "noindex"


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_non_public_enterprise_visible_to_staff(client, login_as, role):
    ent = make_enterprise(brands=["被暂停"], status=Status.SUSPENDED)
    ent.status_reason = "多次被投诉"
    db.session.commit()
    login_as(make_user(role=role))
    resp = client.get(f"/enterprises/{ent.id}")
    assert resp.status_code == 200
    html = _text(resp)
    assert "已暂停" in html and "多次被投诉" in html


@pytest.mark.parametrize("path", [
    "/enterprises/999999", "/enterprises/0", "/enterprises/abc", "/industries/no-such-industry",
    "/cities/atlantis", "/platforms/no-such-platform", "/go/999999", "/go/abc",
    "/enterprises/2147483648", "/enterprises/99999999999999999999999", "/go/9223372036854775808",
    "/industries/%00", "/cities/" + "深" * 300, "/platforms/a%0Ab",
])
def test_unknown_ids_and_slugs_are_404(client, path):
    resp = client.get(path)
    assert resp.status_code == 404
    assert "页面不存在" in _text(resp)


def test_industry_page(client, directory):
    resp = client.get("/industries/home-appliances")
    assert resp.status_code == 200
    html = _text(resp)
    head = _assert_head(html, "/industries/home-appliances")
    assert "家电" in head["title"]
    assert "美家" in html and "瓷源" not in html


def test_city_page(client, directory):
    resp = client.get("/cities/chaozhou")
    assert resp.status_code == 200
    html = _text(resp)
    head = _assert_head(html, "/cities/chaozhou")
    assert "潮州" in head["title"] and "粤东" in html
    assert "瓷源" in html and "美家" not in html


def test_platforms_directory(client, directory):
    resp = client.get("/platforms")
    assert resp.status_code == 200
    html = _text(resp)
    _assert_head(html, "/platforms")
    for name in ("天猫", "京东", "淘宝", "拼多多"):
        assert name in html
    assert "/platforms/tmall" in html


def test_platform_page(client, directory):
    resp = client.get("/platforms/jd")
    assert resp.status_code == 200
    html = _text(resp)
    head = _assert_head(html, "/platforms/jd")
    plat = platform("jd")
    assert "京东" in head["title"] and plat.description[:10] in html
    assert "美家京东自营旗舰店" in html and "瓷源陶瓷店" not in html
    assert re.search(r'href="/go/\d+" rel="nofollow noopener" target="_blank"', html)


def test_platform_page_shop_type_filter_and_bad_page(client, directory):
    html = _text(client.get("/platforms/jd?shop_type=旗舰店"))
    assert "美家京东自营旗舰店" not in html and "暂无" in html
    html = _text(client.get("/platforms/jd?shop_type=专卖店"))
    assert "美家京东自营旗舰店" in html
    assert client.get("/platforms/jd?page=0").status_code == 400
    resp = client.get("/platforms/jd?page=9")
    assert resp.status_code == 200 and "回到第 1 页" in _text(resp)


def test_about_page(client):
    resp = client.get("/about")
    assert resp.status_code == 200
    html = _text(resp)
    _assert_head(html, "/about")
    assert "实施“广货网上行”工程" in html and "万家名优企业" in html


XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>{{7*7}}'


def test_user_text_is_escaped_everywhere(client):
    ent = make_enterprise("恶意<script>alert(1)</script>公司", brands=["<script>b</script>"],
                          description=XSS)
    make_shop(ent, name='<img src=x onerror="alert(3)">店')
    db.session.commit()
    for path in ("/", "/enterprises", f"/enterprises/{ent.id}", "/industries/home-appliances",
                 "/cities/foshan", "/platforms/tmall"):
        html = _text(client.get(path))
        assert "<script>alert(1)</script>" not in html, path
        assert "<script>b</script>" not in html, path
        assert "<img src=x" not in html, path
        assert "onerror=\"alert" not in html, path
    html = _text(client.get(f"/enterprises/{ent.id}"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    desc = re.search(r'<div class="ent-desc">(.*?)</div>', html, re.S).group(1)
    assert "{{7*7}}" in desc and "49" not in desc


def test_logo_or_initial_placeholder(client, app):
    ent = make_enterprise(brands=["甲"])
    db.session.commit()
    html = _text(client.get(f"/enterprises/{ent.id}"))
    assert 'class="logo logo-xl logo-initial' in html


def test_industry_and_city_lists_on_home_have_counts(client, app):
    for _ in range(3):
        make_enterprise(industries=["陶瓷"], city_name="佛山")
    make_enterprise(industries=["陶瓷"], city_name="佛山", status=Status.REVOKED)
    db.session.commit()
    html = _text(client.get("/"))
    assert re.search(r'href="/industries/ceramics"><span class="tile-name">陶瓷</span><span class="tile-count">3 家', html)
    assert re.search(r'href="/cities/foshan">佛山<span class="muted"> 3</span>', html)
    assert industry("陶瓷") and city("佛山")


def test_report_links_when_complaints_exist(client, app, directory):
    if "complaints.new" not in app.view_functions:
        pytest.skip("complaints feature not registered")
    a = directory["a"]
    html = _text(client.get(f"/enterprises/{a.id}")).replace("&amp;", "&")
    assert "投诉举报" in html
    for s in a.shops:
        assert re.search(rf'href="[^"]*enterprise_id={a.id}[^"]*shop_id={s.id}"', html) or \
            re.search(rf'href="[^"]*shop_id={s.id}[^"]*enterprise_id={a.id}"', html)
