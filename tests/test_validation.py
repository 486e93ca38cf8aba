"""USCC, URL and text validation rules."""
import pytest

from marketplace.validation import ValidationError
from marketplace.validation.text import clean_text, normalize_key, split_list
from marketplace.validation.urls import host_matches, normalize_url, validate_shop_url
from marketplace.validation.uscc import normalize_uscc, suggested_city_code


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L", "914403001922038216"])
def test_valid_uscc_examples(code):
    assert normalize_uscc(code) == code


def test_uscc_lower_case_and_spaces_are_accepted_and_upper_cased():
    assert normalize_uscc("  91350100m000100y43 ") == "91350100M000100Y43"


@pytest.mark.parametrize("code,message", [
    ("91350100M000100Y44", "校验位"),
    ("91350100M000100Y4", "18 位"),
    ("91350100M000100Y433", "18 位"),
    ("9135O100M000100Y43", "不允许的字符"),  # letter O
    ("91350100I000100Y43", "不允许的字符"),  # letter I
    ("", "请填写"),
])
def test_invalid_uscc(code, message):
    with pytest.raises(ValidationError, match=message):
        normalize_uscc(code)


def test_guangdong_code_suggests_city():
    assert suggested_city_code("914403001922038216") == "440300"
    assert suggested_city_code("91350100M000100Y43") is None


@pytest.mark.parametrize("raw,expected", [
    ("https://Meidi.TMALL.com/shop/view_shop.htm?spm=a1z10.1&user_number_id=42",
     "https://meidi.tmall.com/shop/view_shop.htm?user_number_id=42"),
    ("HTTP://mall.jd.com:80/index-1000.html#top", "http://mall.jd.com/index-1000.html"),
    ("meidi.tmall.com", "https://meidi.tmall.com/"),
])
def test_normalize_url(raw, expected):
    assert normalize_url(raw) == expected


@pytest.mark.parametrize("raw", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)", "data:text/html,hi",
    "vbscript:msgbox", "ftp://tmall.com/x", "https://user:pw@tmall.com/", "https://exa mple.com/",
    "http://", "https://localhost/",
])
def test_bad_urls_refused(raw):
    with pytest.raises(ValidationError):
        normalize_url(raw)


def test_platform_host_matching_rejects_lookalikes():
    assert host_matches("meidi.tmall.com", ["tmall.com"])
    assert host_matches("tmall.com", ["tmall.com"])
    assert not host_matches("tmall.com.evil.example", ["tmall.com"])
    assert not host_matches("evil-tmall.com", ["tmall.com"])


def test_shop_url_must_belong_to_platform():
    with pytest.raises(ValidationError, match="不属于天猫"):
        validate_shop_url("https://mall.jd.com/index-1.html", ["tmall.com"], platform_name="天猫")
    assert validate_shop_url("https://x.tmall.com/", ["tmall.com"], platform_name="天猫") == "https://x.tmall.com/"


def test_own_site_accepts_enterprise_domain_only():
    url = validate_shop_url("https://shop.brand.com.cn/", [], platform_name="企业自建商城",
                            own_site_domain="https://www.brand.com.cn")
    assert url == "https://shop.brand.com.cn/"
    with pytest.raises(ValidationError):
        validate_shop_url("https://other.com/", [], platform_name="企业自建商城", own_site_domain="https://brand.com.cn")


@pytest.mark.parametrize("value", ["a\x00b", "abc\u202eexe", "bad\x07bell"])
def test_clean_text_refuses_hostile_characters(value):
    with pytest.raises(ValidationError):
        clean_text(value, field="名称", max_length=50)


def test_clean_text_normalises():
    assert clean_text("  ＡＢＣ\u200b  美的  ", field="名称", max_length=50) == "ABC 美的"


def test_clean_text_keeps_chinese_punctuation():
    value = "美的（中国）有限公司：家电，厨电。"
    assert clean_text(value, field="简介", max_length=100, multiline=True) == value


def test_normalize_key_is_idempotent_and_folds():
    assert normalize_key("Ｍｉｄｅａ 美的") == normalize_key(normalize_key("Ｍｉｄｅａ 美的")) == "midea美的"


def test_split_list():
    assert split_list("美的；小天鹅;美的, 华凌") == ["美的", "小天鹅", "华凌"]


# --------------------------------------------------------------------------- browser-parsed URLs

from hypothesis import given, settings, strategies as st  # noqa: E402

from marketplace.validation.urls import parse_web_url, shop_url_problem  # noqa: E402
from tests.url_cases import CLEAN_TMALL_SHOPS, HOST_DIFFERENTIALS, NOT_A_TMALL_SHOP  # noqa: E402

TMALL = ["tmall.com", "tmall.hk"]


@pytest.mark.parametrize("case, url", HOST_DIFFERENTIALS, ids=[c for c, _ in HOST_DIFFERENTIALS])
def test_host_differentials_refused_with_a_chinese_message(case, url):
    with pytest.raises(ValidationError) as err:
        parse_web_url(url, field="店铺网址")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(err.value))


@pytest.mark.parametrize("case, url", NOT_A_TMALL_SHOP, ids=[c for c, _ in NOT_A_TMALL_SHOP])
def test_not_a_tmall_shop(case, url):
    assert shop_url_problem(url, TMALL, platform_name="天猫", website=None)


@pytest.mark.parametrize("typed, stored", CLEAN_TMALL_SHOPS)
def test_clean_shop_urls_stored_canonically(typed, stored):
    assert validate_shop_url(typed, TMALL, platform_name="天猫") == stored


@pytest.mark.parametrize("url, message", [
    ("https://evil.example\\.tmall.com/", "反斜杠"),
    ("https://good.tmall.com@evil.example/", "用户名或密码"),
    ("https://1.2.3.4/", "IP 地址"),
    ("https://good.tmall.com:8443/", "端口"),
    ("https://good.tmall.com./", "末尾多了一个点"),
    ("https://good.xn--tmll-63d.com/", "外文字母"),
    ("https://evil.example;.tmall.com/", "不允许的字符"),
    ("https://evil%2eexample.tmall.com/", "百分号"),
])
def test_each_refusal_says_why(url, message):
    with pytest.raises(ValidationError, match=message):
        parse_web_url(url)


def test_the_host_is_the_browsers():
    assert parse_web_url("https://evil.example?.tmall.com/").host == "evil.example"
    assert parse_web_url("HTTPS://Meihao.TMALL.com:443/a/./b/../c").href == "https://meihao.tmall.com/a/c"
    assert parse_web_url("https://例子.中国/").host == "xn--fsqu00a.xn--fiqs8s"  # Chinese IDN is fine


def test_platform_home_pages_are_not_shops():
    for url in ("https://tmall.com/", "https://www.jd.com/", "https://m.jd.com/index.html"):
        with pytest.raises(ValidationError, match="不是店铺的网址"):
            validate_shop_url(url, ["jd.com", "tmall.com"], platform_name="平台")
    assert validate_shop_url("https://mall.jd.com/index-1.html", ["jd.com"], platform_name="京东")
    assert validate_shop_url("https://shop.m.jd.com/?shopId=1", ["jd.com"], platform_name="京东")


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(st.builds(lambda a, b, c: a + b + c,
                 st.sampled_from(["https://", "http://", "", "HTTPS://", "https:", "https:///"]),
                 st.text(alphabet="abcTM.-_:@[]%;\\?#/0123456789аé例", max_size=25),
                 st.text(max_size=15)))
def test_parse_is_a_fixed_point(raw):
    """What we store parses to itself: the stored form and its host never drift."""
    try:
        url = parse_web_url(raw)
    except ValidationError:
        return
    assert parse_web_url(url.href) == url
