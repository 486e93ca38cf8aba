"""Verify a shop (/verify and the service): desktop, mobile, share and tracking forms of a
certified shop's link; look-alike hosts; revoked / suspended / expired said plainly; short links
not followed; certificate and 统一社会信用代码 lookups."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from marketplace.extensions import db
from marketplace.models import Status
from marketplace.services.verify.identity import shop_identity
from marketplace.services.verify.lookup import verify, verify_url
from marketplace.services.verify.results import Outcome
from marketplace.validation import ValidationError
from marketplace.validation.urls import parse_web_url
from tests.factories import make_certificate, make_enterprise, make_shop, platform


@pytest.fixture
def brand(app):
    """A certified enterprise with shops on Tmall (sub-domain and shop id forms), JD and PDD."""
    ent = make_enterprise("佛山美好电器有限公司", brands=["美好电器"])
    shops = {
        "tmall": make_shop(ent, platform_slug="tmall", url="https://meihao.tmall.com/", name="美好电器官方旗舰店"),
        "tmall_id": make_shop(ent, platform_slug="tmall",
                              url="https://shop.m.tmall.com/shop/shop_index.htm?shop_id=5551234",
                              name="美好电器专卖店", shop_type="专卖店"),
        "jd": make_shop(ent, platform_slug="jd", url="https://mall.jd.com/index-1000123.html",
                        name="美好电器京东自营旗舰店"),
        "pdd": make_shop(ent, platform_slug="pinduoduo",
                         url="https://mobile.yangkeduo.com/mall_page.html?mall_id=778899", name="美好电器拼多多店"),
    }
    db.session.commit()
    return ent, shops


@pytest.mark.parametrize("pasted, key", [
    ("https://meihao.tmall.com/", "tmall"),
    ("meihao.tmall.com", "tmall"),
    ("HTTPS://MEIHAO.TMALL.COM/?spm=a1z10.1-b-s.w5003.1&scm=1007.abc#top", "tmall"),
    ("https://meihao.m.tmall.com/?ali_trackid=2:mm_1&sourceType=shop&suid=ABC", "tmall"),
    ("https://meihao.tmall.com/shop/view_shop.htm?spm=a220o.1000855", "tmall"),
    ("【天猫】「美好电器官方旗舰店」https://meihao.m.tmall.com/?sp_tk=abc 点击链接直接打开", "tmall"),
    ("https://shop.m.tmall.com/shop/shop_index.htm?shop_id=5551234&spm=a2141", "tmall_id"),
    ("https://xyz.tmall.com/shop/view_shop.htm?shop_id=5551234", "tmall_id"),
    ("https://shop5551234.taobao.com/", "tmall_id"),
    ("https://mall.jd.com/index-1000123.html?from=pc", "jd"),
    ("https://shop.m.jd.com/?shopId=1000123&utm_source=iosapp&utm_medium=appshare", "jd"),
    ("https://shop.m.jd.com/shop/home?shopId=1000123", "jd"),
    ("https://mobile.yangkeduo.com/mall_page.html?mall_id=778899&refer_page_name=goods_detail", "pdd"),
    ("https://mobile.pinduoduo.com/mall_page.html?mall_id=778899", "pdd"),
])
def test_certified_shop_in_desktop_mobile_share_and_tracking_forms(brand, pasted, key):
    ent, shops = brand
    result = verify_url(pasted)
    assert result.outcome == Outcome.CERTIFIED, (pasted, result.message)
    assert result.shop.id == shops[key].id
    assert result.enterprise.id == ent.id
    assert result.certificate.number in result.message
    assert ent.name in result.message


@pytest.mark.parametrize("pasted", [
    "https://evil-tmall.com/shop/view_shop.htm?shop_id=5551234",
    "https://mall.jd.com.evil.example/index-1000123.html",
])
def test_look_alike_hosts_are_not_certified(brand, pasted):
    result = verify_url(pasted)
    assert result.outcome == Outcome.NOT_FOUND
    assert result.shop is None and result.enterprise is None


@pytest.mark.parametrize("pasted", [
    "https://meihao.tmall.com.evil.example/",
    "https://meihao.evil-tmall.com/",
    "https://tmall.com-meihao.example/",
    "https://meihao-tmall.com/",
])
def test_look_alike_hosts_naming_a_shop_are_suspicious(brand, pasted):
    ent, shops = brand
    result = verify_url(pasted)
    assert result.outcome == Outcome.SUSPICIOUS and result.label == "疑似仿冒"
    assert result.shop.id == shops["tmall"].id and result.enterprise.id == ent.id
    assert "https://meihao.tmall.com/" in result.message


def test_punycode_look_alike_is_refused(brand):
    with pytest.raises(ValidationError, match="外文字母|无效"):
        verify_url("https://xn--tmll-63d.com/?shop_id=5551234")
    with pytest.raises(ValidationError):
        verify_url("https://xn--tmall-9k7d.com/?shop_id=5551234")


def test_look_alike_host_gets_a_warning(brand):
    result = verify_url("https://evil-tmall.com/?shop_id=5551234")
    assert any("evil-tmall.com" in w and "不是天猫" in w for w in result.warnings)


def test_revoked_shop_says_revoked(brand):
    ent, shops = brand
    shops["jd"].status = Status.REVOKED
    db.session.commit()
    result = verify_url("https://shop.m.jd.com/?shopId=1000123")
    assert result.outcome == Outcome.REVOKED
    assert "撤销" in result.message and "不再是" in result.message
    # the other shops stay certified
    assert verify_url("https://meihao.tmall.com/").outcome == Outcome.CERTIFIED


def test_revoked_enterprise_says_revoked_for_every_shop(brand):
    ent, _ = brand
    ent.status = Status.REVOKED
    ent.certificate.status = "revoked"
    db.session.commit()
    for link in ("https://meihao.tmall.com/", "https://mall.jd.com/index-1000123.html"):
        result = verify_url(link)
        assert result.outcome == Outcome.REVOKED
        assert "认证已被撤销" in result.message


def test_suspended_enterprise_said_plainly(brand):
    ent, _ = brand
    ent.status = Status.SUSPENDED
    db.session.commit()
    result = verify_url("https://meihao.tmall.com/")
    assert result.outcome == Outcome.SUSPENDED
    assert "暂停" in result.message and "不是认证店铺" in result.message


def test_expired_certificate_said_plainly(brand):
    ent, _ = brand
    ent.certificate.valid_until = date.today() - timedelta(days=1)
    db.session.commit()
    result = verify_url("https://meihao.tmall.com/")
    assert result.outcome == Outcome.EXPIRED
    assert "已过期" in result.message


def test_expired_enterprise_status(brand):
    ent, _ = brand
    ent.status = Status.EXPIRED
    db.session.commit()
    assert verify_url("https://meihao.tmall.com/").outcome == Outcome.EXPIRED


@pytest.mark.parametrize("status", [Status.DRAFT, Status.PENDING, Status.REJECTED])
def test_unpublished_listings_are_not_revealed(app, status):
    ent = make_enterprise(status=status)
    make_shop(ent, url="https://hidden.tmall.com/", status=status)
    db.session.commit()
    result = verify_url("https://hidden.tmall.com/")
    assert result.outcome == Outcome.NOT_FOUND
    assert result.enterprise is None and ent.name not in result.message


def test_pending_shop_of_certified_enterprise_is_not_certified(brand):
    ent, _ = brand
    make_shop(ent, url="https://meihao-new.tmall.com/", status=Status.PENDING)
    db.session.commit()
    assert verify_url("https://meihao-new.tmall.com/").outcome == Outcome.NOT_FOUND


@pytest.mark.parametrize("link", [
    "https://m.tb.cn/h.5Xyz123?tk=abc",
    "https://e.tb.cn/h.abc",
    "https://u.jd.com/AbCdEf",
    "https://3.cn/1x-AbCd",
    "https://v.douyin.com/iRNBho6u/",
    "https://url.cn/5ABC",
    "【淘宝】https://m.tb.cn/h.5Xyz123?tk=abc CZ0001 「美好电器官方旗舰店」点击链接直接打开",
])
def test_short_links_are_not_followed(brand, link):
    result = verify_url(link)
    assert result.outcome == Outcome.SHORT_LINK
    assert "短链接" in result.message and "不会" in result.message
    assert result.advice


def test_short_link_share_text_names_the_brand(brand):
    ent, _ = brand
    result = verify_url("【淘宝】https://m.tb.cn/h.5Xyz123?tk=abc 「美好电器官方旗舰店」点击链接直接打开")
    assert [e.id for e in result.mentioned] == [ent.id]


def test_unknown_shop_on_a_platform_names_the_platform(brand):
    result = verify_url("https://someoneelse.tmall.com/")
    assert result.outcome == Outcome.NOT_FOUND
    assert result.platform.slug == "tmall"
    assert "天猫" in result.message and result.advice


def test_impersonating_shop_mentions_the_real_brand(brand):
    ent, _ = brand
    result = verify_url("「美好电器官方旗舰店」https://fake-meihao.tmall.com/ 快来买")
    assert result.outcome == Outcome.NOT_FOUND
    assert ent in result.mentioned
    assert "美好电器" in result.message


def test_product_page_explained(brand):
    result = verify_url("https://detail.tmall.com/item.htm?id=123456789&spm=a1z10")
    assert result.outcome == Outcome.PRODUCT_PAGE
    result = verify_url("https://item.jd.com/100012345678.html")
    assert result.outcome == Outcome.PRODUCT_PAGE


@pytest.mark.parametrize("bad", ["", "   ", "javascript:alert(1)", "ftp://meihao.tmall.com/",
                                 "https://user:pw@meihao.tmall.com/", "not a link at all", "https://a\x00b.com/"])
def test_bad_input_is_a_validation_error(app, bad):
    with pytest.raises(ValidationError):
        verify_url(bad)


def test_certificate_lookup(brand):
    ent, _ = brand
    number = ent.certificate.number
    for typed in (number, number.lower(), f"  {number} ", number.replace("-", "－")):
        result = verify("certificate", typed)
        assert result.outcome == Outcome.CERTIFIED
        assert result.enterprise.id == ent.id
    assert verify("auto", number).query_type == "certificate"
    unknown = verify("certificate", "GDWS-1999-000001")
    assert unknown.outcome == Outcome.NOT_FOUND and "GDWS-1999-000001" in unknown.message
    with pytest.raises(ValidationError):
        verify("certificate", "<script>")


def test_revoked_and_superseded_certificates(brand):
    ent, _ = brand
    old = ent.certificate
    new = make_certificate(ent)
    db.session.commit()
    db.session.refresh(ent)
    assert verify("certificate", new.number).outcome == Outcome.CERTIFIED
    superseded = verify("certificate", old.number)
    assert superseded.outcome == Outcome.EXPIRED and new.number in superseded.message
    new.status = "revoked"
    db.session.commit()
    assert verify("certificate", new.number).outcome == Outcome.REVOKED


def test_uscc_lookup(brand):
    ent, _ = brand
    result = verify("uscc", ent.uscc.lower())
    assert result.outcome == Outcome.CERTIFIED and result.enterprise.id == ent.id
    assert {s.id for s in result.shops} == {s.id for s in ent.public_shops}
    assert verify("auto", ent.uscc).query_type == "uscc"
    assert verify("uscc", "91350100M000100Y43").outcome == Outcome.NOT_FOUND
    with pytest.raises(ValidationError, match="校验位"):
        verify("uscc", ent.uscc[:-1] + ("0" if ent.uscc[-1] != "0" else "1"))
    pending = make_enterprise(status=Status.PENDING)
    db.session.commit()
    assert verify("uscc", pending.uscc).outcome == Outcome.NOT_FOUND


def test_identity_ignores_platform_service_subdomains(app):
    platforms = [platform("tmall"), platform("jd")]
    assert shop_identity(parse_web_url("https://detail.tmall.com/"), platforms).key[0] == "url"
    assert shop_identity(parse_web_url("https://meihao.m.tmall.com/"), platforms).key == ("sub:tmall.com", "meihao")


# ------------------------------------------------------------------ over HTTP

def test_verify_page_certified(client, brand):
    ent, _ = brand
    resp = client.get("/verify", query_string={"q": "https://meihao.m.tmall.com/?spm=abc"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "认证有效" in html and ent.name in html and ent.certificate.number in html
    assert "美好电器官方旗舰店" in html


def test_verify_page_empty_form(client):
    resp = client.get("/verify")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "验证店铺" in html and 'name="q"' in html and "<title>" in html


def test_verify_page_revoked_and_short_link(client, brand):
    ent, shops = brand
    shops["tmall"].status = Status.REVOKED
    db.session.commit()
    html = client.get("/verify", query_string={"url": "https://meihao.tmall.com/"}).get_data(as_text=True)
    assert "认证已撤销" in html
    html = client.get("/verify", query_string={"q": "https://u.jd.com/AbC"}).get_data(as_text=True)
    assert "短链接" in html and "不会替您打开" in html


def test_verify_page_bad_input_keeps_what_was_typed(client):
    resp = client.get("/verify", query_string={"q": "javascript:alert(1)<x>"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "field-error" in html
    assert 'value="javascript:alert(1)&lt;x&gt;"' in html


def test_verify_page_not_found_links_to_report_the_impersonated_brand(client, brand):
    ent, _ = brand
    html = client.get("/verify", query_string={"q": "「美好电器官方旗舰店」https://fake.tmall.com/"}).get_data(as_text=True)
    assert "不在认证名录中" in html
    assert f"/report?enterprise_id={ent.id}" in html


@pytest.mark.parametrize("q", ["\x00", "a" * 5000, "https://" + "a" * 3000 + ".com", "%", "'\"<>", "GDWS-", "９１"])
def test_verify_page_hostile_input_never_500(client, q):
    assert client.get("/verify", query_string={"q": q}).status_code == 200



from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_url_like = st.builds(
    lambda scheme, host, path, query: f"{scheme}{host}{path}{query}",
    st.sampled_from(["https://", "http://", "", "HTTPS://", "javascript:", "//"]),
    st.sampled_from(["meihao.tmall.com", "shop.m.jd.com", "mall.jd.com", "m.tb.cn", "tmall.com.evil.example",
                     "mobile.yangkeduo.com", "例子.中国", "xn--fiqs8s.com", "a", "[::1]", "1.1.1.1:99999"]),
    st.text(max_size=30),
    st.text(max_size=30).map(lambda t: "?" + t),
)


@settings(max_examples=150, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=200), _url_like))
def test_verify_never_fails_on_any_input(brand, text):
    """Any text gives a result or a Chinese ValidationError, never another exception."""
    for kind in ("auto", "url", "certificate", "uscc", "name"):
        try:
            result = verify(kind, text)
        except ValidationError as err:
            assert str(err)
        else:
            assert result.outcome in Outcome.ALL and result.message


def test_verify_page_links_to_the_same_answer_as_json(client, brand):
    ent, _ = brand
    import re as _re

    html = client.get("/verify", query_string={"q": ent.certificate.number}).get_data(as_text=True)
    href = _re.search(r'href="(http://localhost/api/v1/verify\?[^"]+)"', html).group(1).replace("&amp;", "&")
    data = client.get(href.replace("http://localhost", "")).get_json()
    assert data["result"] == "certified" and data["query_type"] == "certificate"
