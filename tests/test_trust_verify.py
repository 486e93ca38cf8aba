"""Verify a shop (/verify and the service): desktop, mobile, share and tracking forms of a
certified shop's link; look-alike hosts; revoked / suspended / expired said plainly; short links
not followed; certificate and 统一社会信用代码 lookups."""
from __future__ import annotations

from datetime import timedelta

import pytest

from sqlalchemy import event

from marketplace.clock import china_today
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
    ent.certificate.valid_until = china_today() - timedelta(days=1)
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


# ------------------------------------------------------------------ never public (issue 11 item 6)

def _comparable(data: dict) -> dict:
    """A verify answer without the parts that echo the query itself."""
    return {k: v for k, v in data.items() if k not in ("query", "normalized_url", "page_url")}


@pytest.mark.parametrize("ent_status", [Status.REVOKED, Status.SUSPENDED, Status.EXPIRED])
def test_pending_shop_of_a_later_revoked_enterprise_is_unknown(client, brand, ent_status):
    """A shop that was only ever pending is never named, whatever later happens to its enterprise:
    the API and the page answer exactly as for a shop nobody ever listed."""
    ent, _ = brand
    hidden = make_shop(ent, url="https://never-public.tmall.com/", status=Status.PENDING, name="从未公开的店")
    ent.status = ent_status
    db.session.commit()
    assert hidden.certified_at is None
    seen = client.get("/api/v1/verify", query_string={"url": "https://never-public.tmall.com/"}).get_json()
    unknown = client.get("/api/v1/verify", query_string={"url": "https://nobody-at-all.tmall.com/"}).get_json()
    assert seen["result"] == "not_found" and seen["shop"] is None and seen["enterprise"] is None
    assert _comparable(seen) == _comparable(unknown)
    for q in ("https://never-public.tmall.com/", "https://nobody-at-all.tmall.com/"):
        html = client.get("/verify", query_string={"url": q}).get_data(as_text=True)
        assert "不在认证名录中" in html and "从未公开的店" not in html and ent.name not in html
        assert "撤销" not in html.split('class="verify-help')[0]


@pytest.mark.parametrize("ent_status", [Status.REVOKED, Status.SUSPENDED, Status.EXPIRED, Status.PENDING,
                                        Status.REJECTED, Status.DRAFT])
def test_never_certified_enterprise_is_unknown_by_code_and_shop(client, app, ent_status):
    """An enterprise that was never certified (``certified_at`` empty) answers like an unknown code,
    even in a status that normally only follows certification."""
    ent = make_enterprise("从未认证有限公司", status=Status.DRAFT, certificate=False)
    make_shop(ent, url="https://never-cert.tmall.com/", status=Status.PENDING)
    ent.status = ent_status
    db.session.commit()
    assert ent.certified_at is None
    seen = client.get("/api/v1/verify", query_string={"uscc": ent.uscc}).get_json()
    other = make_enterprise(status=Status.DRAFT).uscc
    db.session.rollback()
    unknown = client.get("/api/v1/verify", query_string={"uscc": other}).get_json()
    assert seen["result"] == "not_found" and seen["enterprise"] is None
    assert _comparable(seen)["message"].replace(ent.uscc, "X") == _comparable(unknown)["message"].replace(other, "X")
    shop = client.get("/api/v1/verify", query_string={"url": "https://never-cert.tmall.com/"}).get_json()
    assert shop["result"] == "not_found" and "从未认证" not in shop["message"]
    html = client.get("/verify", query_string={"uscc": ent.uscc}).get_data(as_text=True)
    assert "从未认证有限公司" not in html


def test_once_certified_shop_still_says_revoked(brand):
    """The rule only hides listings that were never public: a revoked certified shop is named."""
    ent, shops = brand
    ent.status = Status.REVOKED
    db.session.commit()
    assert verify_url("https://meihao.tmall.com/").outcome == Outcome.REVOKED


# ------------------------------------------------------------------ look-alikes (issue 13 item 6)

@pytest.fixture
def cihai(app):
    ent = make_enterprise("潮州慈海陶瓷有限公司", brands=["慈海", "Cihai"])
    shop = make_shop(ent, url="https://cihai.tmall.com/", name="慈海旗舰店")
    own = make_enterprise("佛山美厨电器有限公司", brands=["美厨"])
    own.website = "https://www.meichu-demo.com/"
    own_shop = make_shop(own, platform_slug="own-site", url="https://shop.meichu-demo.com/", name="美厨官方商城")
    db.session.commit()
    return ent, shop, own, own_shop


@pytest.mark.parametrize("pasted", [
    "https://cihai.tmall.com.shop-evil.example/",
    "https://cihai-tmall.com/",
    "https://www.cihai-official.cn/item?id=1",
    "cihai.shop-tmall.net",
])
def test_host_imitating_a_certified_shop_is_suspicious(client, cihai, pasted):
    ent, shop, _, _ = cihai
    result = verify_url(pasted)
    assert result.outcome == Outcome.SUSPICIOUS and result.shop.id == shop.id and result.enterprise.id == ent.id
    data = client.get("/api/v1/verify", query_string={"url": pasted}).get_json()
    assert data["result"] == "suspicious" and data["result_label"] == "疑似仿冒"
    assert data["shop"]["url"] == "https://cihai.tmall.com/" and data["shop"]["go_url"].endswith(f"/go/{shop.id}")
    assert data["enterprise"]["name"] == ent.name
    html = client.get("/verify", query_string={"url": pasted}).get_data(as_text=True)
    assert 'class="verify-result verify-suspicious"' in html and "疑似仿冒" in html
    assert f'href="/go/{shop.id}"' in html and "https://cihai.tmall.com/" in html


def test_brand_in_host_is_suspicious_and_own_domain_is_not(cihai):
    _, _, own, own_shop = cihai
    result = verify_url("https://meichu-demo-sale.top/")
    assert result.outcome == Outcome.SUSPICIOUS and result.enterprise.id == own.id
    assert result.shop.id == own_shop.id
    assert verify_url("https://www.meichu-demo.com/about").outcome == Outcome.NOT_FOUND  # the enterprise's own site
    assert verify_url("https://shop.meichu-demo.com/").outcome == Outcome.CERTIFIED


@pytest.mark.parametrize("pasted", ["https://some-unrelated-shop.example/", "https://cihaix.example/",
                                    "https://shop-tmall.com/", "https://someone.tmall.com/"])
def test_unknown_shop_resembling_nothing_stays_not_listed(client, cihai, pasted):
    assert verify_url(pasted).outcome == Outcome.NOT_FOUND
    html = client.get("/verify", query_string={"url": pasted}).get_data(as_text=True)
    assert 'verify-not_found' in html


def test_look_alike_of_a_never_public_shop_is_not_suspicious(app):
    ent = make_enterprise("隐藏陶瓷有限公司", status=Status.PENDING)
    make_shop(ent, url="https://yincang.tmall.com/", status=Status.PENDING)
    db.session.commit()
    assert verify_url("https://yincang-tmall.com/").outcome == Outcome.NOT_FOUND


# ------------------------------------------------------------------ names (issue 13 item 6)

@pytest.mark.parametrize("typed", ["慈海", "潮州慈海陶瓷有限公司", "慈海官方旗舰店", "cihai", "ＣＩＨＡＩ", "Cihai Co., Ltd."])
def test_names_answer_with_matching_certified_enterprises(client, cihai, typed):
    ent, shop, _, _ = cihai
    result = verify("auto", typed)
    assert result.query_type == "name" and result.outcome == Outcome.NAME_MATCH
    assert [e.id for e in result.matches] == [ent.id]
    data = client.get("/api/v1/verify", query_string={"q": typed}).get_json()
    assert data["result"] == "name_match" and data["matches"][0]["enterprise"]["id"] == ent.id
    assert [s["id"] for s in data["matches"][0]["shops"]] == [shop.id]
    assert client.get("/api/v1/verify", query_string={"name": typed}).get_json()["result"] == "name_match"
    html = client.get("/verify", query_string={"q": typed}).get_data(as_text=True)
    assert "找到认证企业" in html and ent.name in html and "店铺链接只能以" not in html and "field-error" not in html


def test_name_of_never_public_enterprise_is_unknown(client, app):
    make_enterprise("秘密陶瓷有限公司", brands=["秘密陶瓷"], status=Status.PENDING)
    db.session.commit()
    data = client.get("/api/v1/verify", query_string={"name": "秘密陶瓷"}).get_json()
    assert data["result"] == "not_found" and data["matches"] == [] and "秘密陶瓷有限公司" not in data["message"]
    assert data["query_type"] == "name"


@pytest.mark.parametrize("typed", ["美", "x" * 200])
def test_too_short_or_long_name_is_a_clear_error(client, app, typed):
    resp = client.get("/api/v1/verify", query_string={"name": typed})
    assert resp.status_code == 400 and ("两个字" in resp.get_json()["error"] or "不能超过" in resp.get_json()["error"])


# ------------------------------------------------------------------ one home for platform hosts (issue 12)

def test_identity_reads_hosts_from_the_platform_rows(app):
    """Identity has no host list of its own: a host added to a Platform row is recognised."""
    tmall = platform("tmall")
    url = parse_web_url("https://meihao.tmall-new.example/?shop_id=42")
    assert shop_identity(url, [tmall]).key[0] == "url"
    tmall.hosts = tmall.hosts + ";tmall-new.example"
    assert shop_identity(url, [tmall]).key == ("ali-shop", "42")


def test_identity_rules_name_csv_platforms_and_no_hosts():
    import inspect

    from marketplace import data
    from marketplace.services.verify import identity
    from marketplace.validation import urls

    rows = data.rows("platforms.csv")
    assert set(identity.RULES) <= {r["slug"] for r in rows}
    hosts = {h for r in rows for h in r["hosts"].split(";") if h}
    sources = {m.__name__: inspect.getsource(m) for m in (urls,)}
    rules_text = repr(identity.RULES)
    for host in hosts:
        assert host not in rules_text and host.replace(".", "\\.") not in rules_text, host
        assert all(f'"{host}"' not in text for text in sources.values()), host


@pytest.mark.parametrize("pasted", [
    "https://www.vip.com/brand-8801.html",
    "https://m.vip.com/brand-8801.html?spm=a1",
    "vip.com/brand-8801.html#top",
])
def test_shop_on_a_platform_without_id_rule_found_among_many_on_its_host(brand, pasted):
    """A platform without a shop-id rule compares host (no www/m prefix) and path: the shop is
    found in every form even when the host has many shops (the database is asked for the host
    and path, not for every shop of the host)."""
    ent, _shops = brand
    target = make_shop(ent, platform_slug="vip", url="https://www.vip.com/brand-8801.html")
    for n in range(3):
        make_shop(ent, platform_slug="vip", url=f"https://www.vip.com/brand-88{n}.html")
    db.session.commit()
    result = verify_url(pasted)
    assert result.outcome == Outcome.CERTIFIED, (pasted, result.message)
    assert result.shop.id == target.id
    assert verify_url("https://www.vip.com/brand-8802.html").shop is None


def test_identity_pattern_is_written_into_the_statement_safely(brand):
    """The shop lookup's LIKE pattern is part of the SQL text, not a bound parameter: once psycopg
    prepares a statement (after five runs) PostgreSQL plans a bound pattern generically and walks
    every shop instead of the trigram index. Quotes and LIKE wildcards in a path
    stay literal."""
    ent, _shops = brand
    target = make_shop(ent, platform_slug="vip", url="https://www.vip.com/o'neil_100%25.html")
    make_shop(ent, platform_slug="vip", url="https://www.vip.com/o'neilx100%25.html")
    db.session.commit()
    likes: list[str] = []

    def note(conn, cursor, statement, params, context, executemany):
        if " LIKE " in statement:
            likes.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        for _ in range(8):  # past psycopg's prepare threshold
            result = verify_url("https://www.vip.com/o'neil_100%25.html")
            assert result.outcome == Outcome.CERTIFIED and result.shop.id == target.id
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert len(likes) == 8 and all("o''neil" in s and "LIKE '" in s for s in likes)
