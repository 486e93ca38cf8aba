"""How the search reads what Guangdong consumers type: places (nicknames, districts from the
统一社会信用代码, towns, pinyin), pinyin typed loosely, words inside compounds, typos, and honest
answers (partial matches flagged, nothing for nonsense, no misleading "did you mean")."""
from __future__ import annotations

import pytest

from marketplace.extensions import db
from marketplace.search_sync.engines import get_engine
from marketplace.services import synonyms
from marketplace.services.places import all_places, county_levels, district_for_uscc
from search_index.api import SearchRequest
from tests import factories as f


def api(client, q: str, **params) -> dict:
    resp = client.get("/api/v1/search", query_string={"q": q, "kind": "enterprise", **params})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def names(data) -> list[str]:
    return [r["name"] for r in data["results"]]


@pytest.fixture
def gd(app):
    """A few enterprises in known districts (the area code is characters 3-8 of the USCC)."""
    f.make_enterprise("广州市番禺测试食品有限公司", brands=["禺香"], city_name="广州", industries=["食品饮料"],
                      description="主营凉茶和广式月饼。", uscc=f.make_uscc(1, area="440113"))
    f.make_enterprise("广州市天河测试服饰有限公司", brands=["穗衣"], city_name="广州", industries=["服装"],
                      description="主营女装和衬衫。", uscc=f.make_uscc(2, area="440106"))
    f.make_enterprise("佛山市顺德测试电器有限公司", brands=["滘电"], city_name="佛山", industries=["家电"],
                      description="主营电饭煲和电风扇。", uscc=f.make_uscc(3, area="440606"))
    f.make_enterprise("东莞市测试家具有限公司", brands=["莞木"], city_name="东莞", industries=["家具"],
                      description="主营实木家具和沙发。", uscc=f.make_uscc(4, area="441900"))
    f.make_enterprise("深圳市测试科技有限公司", brands=["星健"], city_name="深圳",
                      industries=["电子产品"], description="主营蓝牙耳机。", uscc=f.make_uscc(5, area="440305"))
    f.make_enterprise("佛山市测试陶瓷有限公司", brands=["美岚"], city_name="佛山", industries=["陶瓷"],
                      description="主营大板岩板和抛釉瓷砖。", uscc=f.make_uscc(6, area="440604"))
    f.make_enterprise("佛山市测试建材有限公司", brands=["岩记"], city_name="佛山", industries=["五金建材"],
                      description="主营岩板。", uscc=f.make_uscc(7, area="440605"))
    f.make_enterprise("广州市测试乐器有限公司", brands=["乐韵"], city_name="广州", industries=["玩具"],
                      description="主营儿童乐器。", uscc=f.make_uscc(8, area="440104"))
    f.make_enterprise("江门市测试食品有限公司", brands=["重光"], city_name="江门", industries=["食品饮料"],
                      description="主营陈皮。", uscc=f.make_uscc(9, area="440705"))
    f.make_enterprise("东莞市测试小家电有限公司", brands=["Kelvora"], city_name="东莞", industries=["家电"],
                      description="主营电饭煲。", uscc=f.make_uscc(10, area="441900"))
    f.make_enterprise("汕头市测试食品有限公司", brands=["姜撞"], city_name="汕头", industries=["食品饮料"],
                      description="主营姜撞奶和双皮奶。", uscc=f.make_uscc(11, area="440507"))
    synonyms.seed_synonyms()
    db.session.commit()


def test_places_table_has_every_county_level_division_with_valid_codes():
    counties = county_levels()
    assert len(counties) == 122
    codes = [p.code for p in all_places()]
    assert len(codes) == len(set(codes)) and all(c.startswith("44") and len(c) == 6 for c in codes)
    assert {p.level for p in counties} == {"市辖区", "县级市", "县", "自治县"}
    cities = {p.short_name: p for p in all_places() if p.is_city}
    assert len(cities) == 21 and "羊城" in cities["广州"].nicknames and "鹏城" in cities["深圳"].nicknames
    assert district_for_uscc("91440113MA5F4ARWMD").short_name == "番禺"
    assert district_for_uscc("91440116MA5F4ARWMD").short_name == "黄埔"  # 萝岗区, merged in 2014
    assert district_for_uscc("91440100MA5F4ARWMD") is None  # issued at city level


def test_district_from_the_credit_code_is_indexed_and_shown(client, gd):
    assert names(api(client, "番禺")) == ["禺香"]
    assert names(api(client, "番禺区 凉茶")) == ["禺香"]
    html = client.get("/search", query_string={"q": "番禺"}).get_data(as_text=True)
    assert "广州 · 番禺区" in html


@pytest.mark.parametrize("q, expected", [
    ("羊城 凉茶", ["禺香"]),      # nickname of 广州
    ("鹏城 耳机", ["星健"]),      # nickname of 深圳
    ("北滘 电饭煲", ["滘电"]),    # a town of 顺德 (the enterprise is registered in 顺德)
    ("gz女装", ["穗衣"]),         # initials of 广州 + characters
    ("dg家具", ["莞木"]),         # initials of 东莞 + characters
    ("panyu 月饼", ["禺香"]),     # pinyin of a district
    ("虎门 沙发", ["莞木"]),      # a town of 东莞 (no districts)
])
def test_nicknames_towns_and_place_pinyin_find_the_place(client, gd, q, expected):
    data = api(client, q)
    assert names(data)[:len(expected)] == expected and not data["partial"]


def test_a_place_boosts_rather_than_filters_other_words(client, gd):
    assert names(api(client, "北滘 电饭煲")) == ["滘电", "Kelvora"]  # 顺德's first, then the rest
    data = api(client, "天河 凉茶")  # nothing in 天河 sells 凉茶: a partial match, flagged
    assert data["partial"] is True and names(data) == ["禺香"]
    data = api(client, "天河 番禺")  # places only: each is required, so this is partial
    assert data["partial"] is True and sorted(names(data)) == ["禺香", "穗衣"]


@pytest.mark.parametrize("q", ["Xing Jian", "xing jian", "XINGJIAN", "xīng jiàn", "Xīngjiàn", "xj"])
def test_pinyin_with_spaces_capitals_and_tone_marks(client, gd, q):
    assert names(api(client, q))[:1] == ["星健"]


def test_pinyin_or_initials_mixed_with_characters(client, gd):
    assert names(api(client, "meilan瓷砖")) == ["美岚"]
    assert names(api(client, "ml岩板")) == ["美岚"]


def test_word_inside_a_longer_compound_is_found_below_whole_words(client, gd):
    got = names(api(client, "岩板"))
    assert got == ["岩记", "美岚"]  # 岩板 as a word first; inside 大板岩板 (大/板岩/板) second
    assert names(api(client, "瓷砖")) == ["美岚"]  # inside 抛釉瓷砖 (抛/釉瓷/砖)


def test_latin_brand_with_transposed_letters(client, gd):
    for typo in ("kelvroa", "klevora", "kelvora"):
        assert names(api(client, typo)) == ["Kelvora"], typo


@pytest.mark.parametrize("typed, meant", [("崇光", "重光"), ("月韵", "乐韵")])
def test_did_you_mean_uses_every_reading_of_polyphonic_characters(client, gd, typed, meant):
    data = api(client, typed)
    assert data["total"] == 0 and data["suggestion"] == meant


def test_no_did_you_mean_on_an_exact_brand(client, gd):
    for q in ("重光", "乐韵", "禺香"):
        assert api(client, q)["suggestion"] is None


def test_partial_match_is_flagged_and_worded(client, gd):
    data = api(client, "婴儿奶粉 姜撞奶")
    assert data["partial"] is True and names(data) == ["姜撞"]
    html = client.get("/search", query_string={"q": "婴儿奶粉 姜撞奶"}).get_data(as_text=True)
    assert "没有完全匹配的结果，以下为部分匹配" in html


@pytest.mark.parametrize("q", ["婴儿奶粉", "火星探测器", "量子计算机 南极", "zzzxqv"])
def test_a_query_that_matches_nothing_returns_nothing(client, gd, q):
    data = api(client, q)
    assert data["total"] == 0 and data["results"] == [] and data["partial"] is False


def test_phone_layout_puts_results_before_the_filters(client, gd):
    html = client.get("/search", query_string={"q": "佛山"}).get_data(as_text=True)
    panel = html.index('<details class="filter-panel"')
    assert "data-open-wide" in html[panel:panel + 80] and " open" not in html[panel:panel + 60]
    assert "js/filters.js" in html


def test_an_index_written_by_older_code_is_rebuilt(app, gd):
    engine = get_engine()
    from marketplace.search_sync.applier import ensure_index

    ensure_index()
    path = engine.current_path()
    (__import__("pathlib").Path(path) / "format.json").write_text('{"format": 1}')
    engine.close()
    assert engine.health() == (False, "outdated format")
    assert ensure_index() is True and engine.current_path() != path
    assert engine.search(SearchRequest(q="禺香")).total >= 1
