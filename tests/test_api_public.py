"""The public read API: public data only, filters, paging, errors in Chinese JSON, ETag and
Last-Modified with 304, CORS, the rate limit (429 JSON) and verify as JSON."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from marketplace.extensions import db
from marketplace.models import Status
from tests.factories import make_enterprise, make_shop


@pytest.fixture
def directory(app):
    a = make_enterprise("佛山甲电器有限公司", brands=["甲电器"], city_name="佛山", industries=["家电"],
                        badges=["中华老字号"])
    make_shop(a, platform_slug="tmall", url="https://jia.tmall.com/")
    make_shop(a, platform_slug="jd", url="https://mall.jd.com/index-424242.html", shop_type="专卖店")
    make_shop(a, platform_slug="jd", url="https://pending.jd.com/", status=Status.PENDING)
    b = make_enterprise("广州乙陶瓷有限公司", brands=["乙陶瓷"], city_name="广州", industries=["陶瓷"])
    make_shop(b, platform_slug="pinduoduo", url="https://mobile.yangkeduo.com/mall_page.html?mall_id=1")
    c = make_enterprise("汕头丙玩具有限公司", brands=["丙玩具"], city_name="汕头", industries=["家电"])
    revoked = make_enterprise("撤销丁有限公司", brands=["丁"], status=Status.REVOKED)
    make_shop(revoked, url="https://ding.tmall.com/")
    pending = make_enterprise("待审戊有限公司", brands=["戊"], status=Status.PENDING, certificate=False)
    db.session.commit()
    return {"a": a, "b": b, "c": c, "revoked": revoked, "pending": pending}


def test_enterprises_list_only_public(client, directory):
    data = client.get("/api/v1/enterprises").get_json()
    names = {e["name"] for e in data["results"]}
    assert names == {"佛山甲电器有限公司", "广州乙陶瓷有限公司", "汕头丙玩具有限公司"}
    assert data["total"] == 3 and data["page"] == 1 and data["per_page"] == 20 and data["pages"] == 1
    a = next(e for e in data["results"] if e["name"] == "佛山甲电器有限公司")
    assert a["shop_count"] == 2  # the pending shop is not public
    assert a["certificate"]["valid"] is True
    assert a["url"].endswith(f"/enterprises/{directory['a'].id}")


@pytest.mark.parametrize("query, expected", [
    ({"industry": "home-appliances"}, {"甲电器", "丙玩具"}),
    ({"city": "foshan"}, {"甲电器"}),
    ({"region": "粤东"}, {"丙玩具"}),
    ({"region": "珠三角", "industry": "home-appliances"}, {"甲电器"}),
    ({"platform": "jd"}, {"甲电器"}),
    ({"shop_type": "专卖店"}, {"甲电器"}),
    ({"badge": "china-time-honored"}, {"甲电器"}),
    ({"platform": "pinduoduo", "city": "guangzhou"}, {"乙陶瓷"}),
    ({"platform": "tmall", "city": "guangzhou"}, set()),
])
def test_enterprise_filters_combine(client, directory, query, expected):
    data = client.get("/api/v1/enterprises", query_string=query).get_json()
    assert {e["display_name"] for e in data["results"]} == expected


def test_paging_and_sort(client, directory):
    data = client.get("/api/v1/enterprises?per_page=2&page=2&sort=name").get_json()
    assert data["pages"] == 2 and len(data["results"]) == 1 and data["per_page"] == 2
    beyond = client.get("/api/v1/enterprises?page=99")
    assert beyond.status_code == 200 and beyond.get_json()["results"] == []


@pytest.mark.parametrize("query, fragment", [
    ("page=0", "页码"), ("page=-1", "页码"), ("page=abc", "页码"), ("page=1000000000000", "页码"),
    ("per_page=101", "每页数量"), ("per_page=0", "每页数量"), ("sort=random", "排序"),
    ("industry=no-such", "未知的行业"), ("city=beijing", "未知的城市"), ("region=华北", "未知的区域"),
    ("platform=amazon", "未知的平台"), ("shop_type=地摊", "未知的店铺类型"), ("badge=x", "未知的荣誉"),
    ("city=foshan&region=粤东", "区域"), ("page=１", "页码"), ("industry=%00", "无效"),
])
def test_bad_parameters_are_400_json_in_chinese(client, directory, query, fragment):
    resp = client.get("/api/v1/enterprises?" + query)
    assert resp.status_code == 400
    assert resp.is_json and fragment in resp.get_json()["error"]


def test_enterprise_detail_and_hidden_listings(client, directory):
    a = directory["a"]
    data = client.get(f"/api/v1/enterprises/{a.id}").get_json()
    assert data["uscc"] == a.uscc and len(data["shops"]) == 2
    assert {s["url"] for s in data["shops"]} == {"https://jia.tmall.com/", "https://mall.jd.com/index-424242.html"}
    for ent in (directory["revoked"], directory["pending"]):
        resp = client.get(f"/api/v1/enterprises/{ent.id}")
        assert resp.status_code == 404 and "未公开" in resp.get_json()["error"]
    assert client.get("/api/v1/enterprises/99999999999").status_code == 404


def test_shops_list_and_detail(client, directory):
    data = client.get("/api/v1/shops?per_page=100").get_json()
    urls = {s["url"] for s in data["results"]}
    assert urls == {"https://jia.tmall.com/", "https://mall.jd.com/index-424242.html",
                    "https://mobile.yangkeduo.com/mall_page.html?mall_id=1"}
    jd = client.get("/api/v1/shops?platform=jd").get_json()["results"]
    assert [s["enterprise"]["name"] for s in jd] == ["佛山甲电器有限公司"]
    one = client.get(f"/api/v1/shops/{jd[0]['id']}").get_json()
    assert one["go_url"].endswith(f"/go/{jd[0]['id']}")
    revoked_shop = directory["revoked"].shops[0]
    assert client.get(f"/api/v1/shops/{revoked_shop.id}").status_code == 404
    by_ent = client.get(f"/api/v1/shops?enterprise={directory['b'].id}").get_json()
    assert by_ent["total"] == 1


def test_reference_lists(client, directory):
    cities = client.get("/api/v1/cities").get_json()
    assert cities["total"] == 21
    foshan = next(c for c in cities["results"] if c["slug"] == "foshan")
    assert foshan["enterprise_count"] == 1 and foshan["region"] == "珠三角"
    industries = client.get("/api/v1/industries").get_json()["results"]
    assert next(i for i in industries if i["slug"] == "home-appliances")["enterprise_count"] == 2
    platforms = client.get("/api/v1/platforms").get_json()["results"]
    jd = next(p for p in platforms if p["slug"] == "jd")
    assert jd["shop_count"] == 1 and jd["enterprise_count"] == 1 and "jd.com" in jd["hosts"]


def test_etag_304(client, directory):
    first = client.get("/api/v1/enterprises")
    etag = first.headers["ETag"]
    assert etag and first.headers["Cache-Control"].startswith("public")
    again = client.get("/api/v1/enterprises", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    # a change to the data changes the ETag
    directory["c"].status = Status.SUSPENDED
    db.session.commit()
    changed = client.get("/api/v1/enterprises", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_last_modified_304(client, directory):
    first = client.get("/api/v1/cities")
    last_modified = first.headers["Last-Modified"]
    assert client.get("/api/v1/cities", headers={"If-Modified-Since": last_modified}).status_code == 304
    earlier = (datetime.now(timezone.utc) - timedelta(days=3)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert client.get("/api/v1/cities", headers={"If-Modified-Since": earlier}).status_code == 200


def test_cors_on_get_errors_and_preflight(client, directory):
    for path in ("/api/v1/enterprises", "/api/v1/enterprises?page=0", "/api/v1/verify?uscc=1"):
        assert client.get(path, headers={"Origin": "https://other.example"}).headers[
            "Access-Control-Allow-Origin"] == "*"
    pre = client.options("/api/v1/enterprises", headers={
        "Origin": "https://other.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "If-None-Match"})
    assert pre.status_code == 200
    assert pre.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in pre.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in pre.headers["Access-Control-Allow-Headers"]
    assert "ETag" in client.get("/api/v1/platforms").headers["Access-Control-Expose-Headers"]


def test_api_never_writes(client, directory):
    assert client.post("/api/v1/enterprises", data={}).status_code in (400, 405)


def test_verify_json_matches_the_page(client, directory):
    a = directory["a"]
    data = client.get("/api/v1/verify", query_string={
        "url": "https://jia.m.tmall.com/?spm=a1z10&ali_trackid=abc"}).get_json()
    assert data["result"] == "certified"
    assert data["enterprise"]["id"] == a.id and data["certificate"]["number"] == a.certificate.number
    assert data["page_url"].startswith("http://localhost/verify?")
    page = client.get(data["page_url"].replace("http://localhost", "")).get_data(as_text=True)
    assert a.name in page and "认证有效" in page

    revoked = client.get("/api/v1/verify?url=https://ding.tmall.com/").get_json()
    assert revoked["result"] == "revoked" and revoked["enterprise"]["url"] is None
    assert revoked["shops"] == []
    short = client.get("/api/v1/verify?url=https://m.tb.cn/h.abc").get_json()
    assert short["result"] == "short_link" and "不会" in short["message"]
    cert = client.get("/api/v1/verify", query_string={"certificate": a.certificate.number.lower()}).get_json()
    assert cert["result"] == "certified"
    uscc = client.get("/api/v1/verify", query_string={"uscc": a.uscc}).get_json()
    assert uscc["result"] == "certified" and len(uscc["shops"]) == 2
    assert client.get("/api/v1/verify?uscc=" + directory["pending"].uscc).get_json()["result"] == "not_found"


@pytest.mark.parametrize("query", ["", "url=", "url=a.com&uscc=91350100M000100Y43", "uscc=123",
                                   "url=javascript:alert(1)", "certificate=<x>"])
def test_verify_bad_parameters(client, directory, query):
    resp = client.get("/api/v1/verify?" + query)
    assert resp.status_code == 400 and resp.get_json()["error"]


def test_rate_limit_429_json(app, client, directory):
    app.config["API_RATE_LIMIT"] = "5/minute"
    codes = [client.get("/api/v1/platforms").status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
    resp = client.get("/api/v1/cities")  # the limit is shared by every endpoint
    assert resp.status_code == 429
    assert resp.is_json and "频繁" in resp.get_json()["error"]
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "Retry-After" in resp.headers
    # the site's pages are not limited by the API budget
    assert client.get("/verify").status_code == 200


def test_developers_page(client, directory):
    resp = client.get("/developers")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "开放接口" in html and "/api/v1/enterprises" in html and "curl" in html and "openapi.json" in html


def test_last_modified_moves_when_the_directory_changes(client, directory):
    import time

    first = client.get("/api/v1/enterprises")
    last_modified = first.headers["Last-Modified"]
    time.sleep(1.1)  # HTTP dates have one-second resolution
    directory["b"].status = Status.REVOKED
    db.session.commit()
    again = client.get("/api/v1/enterprises", headers={"If-Modified-Since": last_modified})
    assert again.status_code == 200
    assert again.headers["Last-Modified"] != last_modified
    assert "广州乙陶瓷有限公司" not in again.get_data(as_text=True)


def test_api_index_and_docs_redirect(client):
    data = client.get("/api/v1/").get_json()
    assert data["openapi"] == "http://localhost/api/v1/openapi.json"
    assert "http://localhost/api/v1/verify" in data["endpoints"]
    resp = client.get("/api")
    assert resp.status_code == 301 and resp.headers["Location"].endswith("/developers")


def test_developers_page_lists_each_endpoint_with_its_summary(client):
    html = client.get("/developers").get_data(as_text=True)
    assert "认证企业列表（可筛选、排序、分页）" in html and "验证店铺链接、证书编号或统一社会信用代码" in html
    assert "<code>per_page</code>" in html


@pytest.mark.parametrize("query, message", [
    ("/enterprises?city=foshan&region=粤东&platform=amazon", "城市不在所选区域内。"),
    ("/enterprises?region=华北&industry=bad", "未知的行业：bad。可用的值见 /api/v1/industries。"),
    ("/enterprises?sort=x&page=0", "排序方式只能是 newest、name、popular。"),
    ("/enterprises?page=0&per_page=0", "页码 page 必须是 1 到 100000 之间的整数。"),
    ("/enterprises?badge=x&sort=x", "未知的荣誉标识：x。"),
    ("/enterprises?page=x&page=2", "页码 page 必须是 1 到 100000 之间的整数。"),
    ("/shops?enterprise=abc&page=0", "页码 page 必须是 1 到 100000 之间的整数。"),
    ("/shops?enterprise=abc&platform=amazon", "未知的平台：amazon。可用的值见 /api/v1/platforms。"),
    ("/shops?enterprise=%00", "参数 enterprise 无效。"),
    ("/verify?uscc=1&url=" + "x" * 4001, "请提供 q、url、certificate、uscc、name 五个参数中的一个。"),
    ("/verify?url=" + "x" * 4001, "参数过长或含有不允许的字符。"),
])
def test_the_first_bad_argument_in_the_documented_order_decides(client, directory, query, message):
    resp = client.get("/api/v1" + query)
    assert resp.status_code == 400 and resp.get_json() == {"error": message}


def test_blank_arguments_count_as_absent(client, directory):
    plain = client.get("/api/v1/shops")
    blank = client.get("/api/v1/shops?page=%20&per_page=&sort=&industry=%20&region=&enterprise=")
    assert blank.status_code == 200 and blank.data == plain.data


def test_developers_page_lists_path_parameters(client):
    html = client.get("/developers").get_data(as_text=True)
    assert "<code>enterprise_id</code>" in html and "<code>shop_id</code>" in html
