"""Search page and JSON API: finding what people type, facets, paging, hostile input."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.extensions import db
from marketplace.models import Status
from tests import factories as f


@pytest.fixture
def midea(app):
    ent = f.make_enterprise("美的集团股份有限公司", brands=["美的", "Midea"], city_name="佛山",
                            industries=["家电"], description="美的是佛山顺德的家电企业，生产空调和冰箱。")
    f.make_shop(ent, platform_slug="tmall", name="美的官方旗舰店")
    other = f.make_enterprise("佛山市岭南风陶瓷有限公司", brands=["岭南风"], city_name="佛山",
                              industries=["陶瓷"], description="专业生产瓷砖和卫浴。")
    f.make_enterprise("广州酒家集团股份有限公司", brands=["广州酒家"], city_name="广州",
                      industries=["食品饮料"], description="广州老字号，月饼。",
                      badges=["中华老字号"])
    db.session.commit()
    return ent, other


def api(client, **params):
    resp = client.get("/api/v1/search", query_string=params)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def ids(data, kind="enterprise"):
    return [r["id"] for r in data["results"] if r["kind"] == kind]


@pytest.mark.parametrize("q", ["美的", "meidi", "md", "美的集團", "ＭＩＤＥＡ", "midea", "MIDEA", "美\u200b的"])
def test_every_way_of_typing_finds_the_same_enterprise(client, midea, q):
    ent, _ = midea
    data = api(client, q=q)
    assert ids(data)[:1] == [ent.id], (q, data["results"])


def test_api_response_shape(client, midea):
    ent, _ = midea
    data = api(client, q="美的")
    assert set(data) == {"query", "total", "page", "per_page", "results", "facets", "suggestion", "partial", "synonyms"}
    assert data["query"] == "美的" and data["page"] == 1 and data["per_page"] == 20
    r = next(r for r in data["results"] if r["kind"] == "enterprise")
    assert set(r) == {"kind", "id", "name", "url", "highlight", "city", "industries", "platform"}
    assert r["url"] == f"/enterprises/{ent.id}" and r["city"] == "佛山" and r["industries"] == ["家电"]
    assert "<mark>美的</mark>" in r["highlight"]
    shop = next(r for r in data["results"] if r["kind"] == "shop")
    assert shop["platform"] == "天猫" and shop["url"].startswith(f"/enterprises/{ent.id}")
    assert set(data["facets"]) == {"industry", "city", "region", "platform", "shop_type", "badge"}
    assert {"value": "佛山", "count": 2} in data["facets"]["city"]


def test_brand_name_is_not_split(client, midea):
    _, lingnan = midea
    # 岭南风 is 岭南 + 风 in jieba's own dictionary; the brand dictionary keeps it whole
    import rjieba

    assert "岭南风" in rjieba.cut("佛山岭南风陶瓷")
    data = api(client, q="岭南风")
    assert ids(data) == [lingnan.id]
    # a description that merely contains 岭南 does not match the brand
    f.make_enterprise("岭南茶业有限公司", brands=["岭南茶"], description="来自岭南的好茶，清风徐来。")
    db.session.commit()
    assert ids(api(client, q="岭南风")) == [lingnan.id]


def test_name_match_outranks_description_match(client, app):
    in_desc = f.make_enterprise("广东甲实业有限公司", brands=["甲品牌"], description="我们代理销售格力空调。")
    in_brand = f.make_enterprise("珠海格力电器股份有限公司", brands=["格力"], description="空调制造。")
    db.session.commit()
    assert ids(api(client, q="格力")) == [in_brand.id, in_desc.id]


def test_badge_gives_a_modest_boost(client, app):
    plain = f.make_enterprise("广东乙食品有限公司", brands=["乙牌"], description="生产月饼。")
    honoured = f.make_enterprise("广东丙食品有限公司", brands=["丙牌"], description="生产月饼。", badges=["中华老字号"])
    db.session.commit()
    assert ids(api(client, q="月饼")) == [honoured.id, plain.id]


def test_two_word_query_prefers_documents_with_both(client, midea):
    _, lingnan = midea
    gz = f.make_enterprise("广州市瓷砖贸易有限公司", brands=["羊城砖"], city_name="广州", description="销售瓷砖。")
    db.session.commit()
    data = api(client, q="瓷砖 卫浴")
    assert ids(data) == [lingnan.id]
    # a place only boosts: Foshan's tiles first, then the other tiles (a complete match exists)
    data = api(client, q="佛山 瓷砖")
    assert ids(data) == [lingnan.id, gz.id] and data["partial"] is False
    # nothing has both words: partial matches instead of nothing
    data = api(client, q="瓷砖 火星")
    assert lingnan.id in ids(data)


def test_did_you_mean_through_pinyin(client, midea):
    data = api(client, q="广洲")
    assert data["total"] == 0 or data["suggestion"]
    assert data["suggestion"] == "广州"
    page = client.get("/search?q=广洲")
    assert "您是不是要找" in page.get_data(as_text=True) and "广州" in page.get_data(as_text=True)


def test_latin_typo_is_matched_fuzzily(client, midea):
    ent, _ = midea
    data = api(client, q="mideaa")
    assert ent.id in ids(data)


def test_facets_narrow_and_keep_other_values(client, midea):
    ent, lingnan = midea
    gz = f.make_enterprise("广州家电有限公司", brands=["羊城电器"], city_name="广州", industries=["家电"],
                           description="家电。")
    db.session.commit()
    data = api(client, q="家电")
    cities = {v["value"]: v["count"] for v in data["facets"]["city"]}
    assert cities["佛山"] >= 1 and cities["广州"] == 1
    narrowed = api(client, q="家电", city="广州")
    assert ids(narrowed) == [gz.id]
    # the other city's count stays visible while 广州 is selected
    cities2 = {v["value"]: v["count"] for v in narrowed["facets"]["city"]}
    assert cities2 == cities
    html = client.get("/search", query_string={"q": "家电", "city": "广州"}).get_data(as_text=True)
    assert "移除条件 城市：广州" in html and "chip-on" in html


def test_kind_filter_and_sort(client, midea):
    ent, _ = midea
    data = api(client, q="美的", kind="shop")
    assert {r["kind"] for r in data["results"]} == {"shop"}
    for sort in ("relevance", "newest", "visits"):
        assert api(client, q="美的", sort=sort)["total"] == 2


def test_paging_and_per_page(client, app):
    for i in range(5):
        f.make_enterprise(f"广东翻页测试公司{i}", brands=[f"翻页{i}号"], description="翻页测试用的企业。")
    db.session.commit()
    first = api(client, q="翻页", per_page=2)
    assert first["total"] == 5 and len(first["results"]) == 2
    third = api(client, q="翻页", per_page=2, page=3)
    assert len(third["results"]) == 1
    beyond = api(client, q="翻页", per_page=2, page=99)
    assert beyond["results"] == [] and beyond["total"] == 5
    assert client.get("/search?q=翻页&page=99").status_code == 200


@pytest.mark.parametrize("page", ["0", "-1", "abc", str(10 ** 12), "1.5", "１"])
def test_bad_page_is_400(client, midea, page):
    assert client.get("/search", query_string={"q": "美的", "page": page}).status_code == 400
    resp = client.get("/api/v1/search", query_string={"q": "美的", "page": page})
    assert resp.status_code == 400 and "页码" in resp.get_json()["error"]


@pytest.mark.parametrize("params", [{"per_page": "101"}, {"per_page": "0"}, {"kind": "user"}, {"sort": "price"}])
def test_bad_api_params_are_400_in_chinese(client, params):
    resp = client.get("/api/v1/search", query_string={"q": "x", **params})
    assert resp.status_code == 400
    assert any("\u4e00" <= c <= "\u9fff" for c in resp.get_json()["error"])


HOSTILE = [
    '"', '"美的', "美的\"", "(", ")", "((((", "(" * 5000, "[a TO z]", "{a TO z}", "name:美的", "kind:shop",
    "description:*", "*", "?", "美*", "~", "美的~2", "^2", "美的^100", "AND", "OR", "NOT", "AND OR NOT",
    "美的 AND", "\x00", "美\x00的", "\x01\x02\x1f", "\u202e美的", "😀", "😀美的😀", "a" * 600,
    "美" * 500, "<script>alert(1)</script>", "' OR 1=1 --", "%", "_", "\\", "/", "美的/格力", ":", "::",
    "-", "+美的 -格力", "\t\n\r", " ", "ＡＢＣ", "＜＞", "q=1&page=2", "NULL", "None", "{{7*7}}",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_answer_200(client, midea, q):
    page = client.get("/search", query_string={"q": q})
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.get_data(as_text=True)
    assert client.get("/api/v1/search", query_string={"q": q}).status_code == 200
    assert client.get("/api/v1/suggest", query_string={"q": q}).status_code in (200, 400)


def test_invalid_utf8_in_query_string(client, midea):
    """Bytes that are not UTF-8 are refused before the search runs (issue 11 item 7): a Chinese 400."""
    page = client.get("/search?q=%ff%fe%fd")
    assert page.status_code == 400 and "UTF-8" in page.get_data(as_text=True)
    api = client.get("/api/v1/search?q=%ff%fe&city=%c3")
    assert api.status_code == 400 and "UTF-8" in api.get_json()["error"]


def test_highlight_escapes_description(client, app):
    f.make_enterprise("广东XSS测试有限公司", brands=["脚本牌"], description="<img src=x onerror=alert(1)>脚本牌好")
    db.session.commit()
    data = api(client, q="脚本牌")
    hl = data["results"][0]["highlight"]
    assert "<img" not in hl and "&gt;" in hl and "<mark>脚本牌</mark>" in hl
    assert "<img src=x" not in client.get("/search?q=脚本牌").get_data(as_text=True)


def test_suggest_by_prefix_pinyin_and_initials(client, midea):
    for q in ("美", "美的", "mei", "meidi", "md", "Mid"):
        data = client.get("/api/v1/suggest", query_string={"q": q}).get_json()
        texts = [s["text"] for s in data["suggestions"]]
        assert texts and texts[0] in ("美的", "Midea"), (q, data)
        assert all(set(s) == {"text", "kind", "url"} for s in data["suggestions"])
        assert len(data["suggestions"]) <= 10
    plat = client.get("/api/v1/suggest", query_string={"q": "天"}).get_json()["suggestions"]
    assert any(s["kind"] == "platform" and s["text"] == "天猫" for s in plat)
    assert client.get("/api/v1/suggest").get_json() == {"suggestions": []}


def test_empty_state_has_help(client, midea):
    html = client.get("/search?q=完全不存在的词语组合").get_data(as_text=True)
    assert "没有找到" in html and "热门行业" in html and 'href="/enterprises"' in html
    html = client.get("/search").get_data(as_text=True)
    assert "输入品牌" in html and 'data-suggest-url="/api/v1/suggest"' in html
    assert "<script>" not in html.replace("<script src=", "")


def test_revoked_enterprise_disappears_at_once(client, midea):
    ent, _ = midea
    assert ent.id in ids(api(client, q="美的"))
    ent.status = Status.REVOKED
    db.session.commit()
    data = api(client, q="美的")
    assert ent.id not in ids(data) and ids(data, "shop") == []


def test_stale_index_never_shows_non_public_rows(app, client, midea):
    """Even when the index was not updated (outbox rows lost), the database filter hides it."""
    from sqlalchemy import delete, update

    from marketplace.models import Enterprise, SearchOutbox

    ent, _ = midea
    assert ent.id in ids(api(client, q="美的"))
    db.session.execute(update(Enterprise).where(Enterprise.id == ent.id).values(status=Status.SUSPENDED))
    db.session.execute(delete(SearchOutbox))
    db.session.commit()
    assert ent.id not in ids(api(client, q="美的"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(max_size=300), city=st.text(max_size=20), page=st.integers(min_value=1, max_value=5))
def test_property_search_never_errors(client, midea, q, city, page):
    resp = client.get("/api/v1/search", query_string={"q": q, "city": city, "page": str(page)})
    assert resp.status_code in (200, 400)
    if resp.status_code == 400:
        assert "error" in resp.get_json()
    assert client.get("/search", query_string={"q": q}).status_code == 200


def test_a_search_that_finds_nothing_suggests_the_busiest_industries(client):
    """Most public enterprises first, with their counts; a revoked enterprise does not count."""
    for industries in (["陶瓷"], ["陶瓷"], ["家电"]):
        f.make_enterprise(industries=industries)
    f.make_enterprise(industries=["家电"], status=Status.REVOKED)
    db.session.commit()
    html = client.get("/search?q=完全不存在的词语组合").get_data(as_text=True)
    chips = re.findall(r'<a class="chip" href="/industries/[^"]+">([^<]+) <span class="chip-n">(\d+)</span>', html)
    assert chips == [("陶瓷", "2"), ("家电", "1")]
