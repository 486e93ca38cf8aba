"""Browse: each filter alone and combined, sorts, pagination, hostile parameters."""
import re
from datetime import timedelta

import pytest

from factories import make_enterprise, make_shop
from marketplace.extensions import db
from marketplace.models import Status
from marketplace.clock import utc_now
from marketplace.validation.text import pinyin_sort_key


def _names(resp) -> list[str]:
    """Display names of the enterprise cards on a browse page, in order."""
    assert resp.status_code == 200, resp.status_code
    return re.findall(r'<h3 class="ent-card-title">(.*?)</h3>', resp.get_data(as_text=True))


@pytest.fixture
def catalog_data(app):
    """Enterprises chosen so each filter selects a different subset."""
    fs_app = make_enterprise(brands=["佛山家电"], city_name="佛山", industries=["家电"], badges=["中华老字号"])
    make_shop(fs_app, platform_slug="tmall", shop_type="旗舰店")
    gz_app = make_enterprise(brands=["广州家电"], city_name="广州", industries=["家电"])
    make_shop(gz_app, platform_slug="jd", shop_type="专卖店")
    fs_cer = make_enterprise(brands=["佛山陶瓷"], city_name="佛山", industries=["陶瓷"])
    make_shop(fs_cer, platform_slug="jd", shop_type="旗舰店")
    cz_cer = make_enterprise(brands=["潮州陶瓷"], city_name="潮州", industries=["陶瓷"], badges=["广东老字号"])
    make_shop(cz_cer, platform_slug="tmall", shop_type="专营店")
    # a jd shop that is only pending must not make its enterprise match platform=jd
    make_shop(cz_cer, platform_slug="jd", shop_type="旗舰店", status=Status.PENDING)
    hidden = make_enterprise(brands=["未公开家电"], city_name="佛山", industries=["家电"], status=Status.PENDING,
                             badges=["中华老字号"])
    make_shop(hidden, platform_slug="tmall", status=Status.PENDING)
    db.session.commit()
    return {"fs_app": fs_app, "gz_app": gz_app, "fs_cer": fs_cer, "cz_cer": cz_cer}


@pytest.mark.parametrize("query, expected", [
    ("", {"佛山家电", "广州家电", "佛山陶瓷", "潮州陶瓷"}),
    ("industry=home-appliances", {"佛山家电", "广州家电"}),
    ("city=foshan", {"佛山家电", "佛山陶瓷"}),
    ("region=粤东", {"潮州陶瓷"}),
    ("region=珠三角", {"佛山家电", "广州家电", "佛山陶瓷"}),
    ("platform=jd", {"广州家电", "佛山陶瓷"}),
    ("shop_type=专营店", {"潮州陶瓷"}),
    ("badge=china-time-honored", {"佛山家电"}),
    # two filters combined
    ("industry=home-appliances&city=foshan", {"佛山家电"}),
    ("industry=ceramics&region=珠三角", {"佛山陶瓷"}),
    ("platform=jd&shop_type=旗舰店", {"佛山陶瓷"}),
    ("platform=tmall&badge=guangdong-time-honored", {"潮州陶瓷"}),
    ("city=chaozhou&platform=jd", set()),
    # city wins over region when both are given
    ("city=foshan&region=粤东", {"佛山家电", "佛山陶瓷"}),
])
def test_filters(client, catalog_data, query, expected):
    names = _names(client.get("/enterprises?" + query))
    assert set(names) == expected
    assert len(names) == len(expected)


@pytest.mark.parametrize("query", [
    "industry=nope", "city=../../etc", "region=火星", "platform=%00", "shop_type=<script>", "badge=x" * 50,
    "sort=drop table", "industry[]=1", "city=" + "深" * 500, "region=&city=&platform=",
])
def test_bad_filter_values_are_ignored(client, catalog_data, query):
    resp = client.get("/enterprises?" + query)
    assert resp.status_code == 200
    assert len(_names(resp)) == 4
    assert "<script>" not in resp.get_data(as_text=True).split("<main")[1]


def test_active_filters_are_shown_and_removable(client, catalog_data):
    html = client.get("/enterprises?industry=home-appliances&city=foshan&sort=name").get_data(as_text=True)
    chips = re.findall(r'<a class="chip chip-active" href="([^"]+)"', html)
    assert len(chips) == 2
    hrefs = [c.replace("&amp;", "&") for c in chips]
    remove_industry = next(h for h in hrefs if "industry=" not in h)
    remove_city = next(h for h in hrefs if "city=" not in h)
    assert "city=foshan" in remove_industry and "sort=name" in remove_industry
    assert "industry=home-appliances" in remove_city
    assert set(_names(client.get(remove_industry))) == {"佛山家电", "佛山陶瓷"}
    assert set(_names(client.get(remove_city))) == {"佛山家电", "广州家电"}
    assert "清除全部" in html


def test_filter_links_combine_with_current_ones(client, catalog_data):
    html = client.get("/enterprises?city=foshan").get_data(as_text=True).replace("&amp;", "&")
    link = re.search(r'href="([^"]*industry=ceramics[^"]*)"', html).group(1)
    assert "city=foshan" in link
    assert _names(client.get(link)) == ["佛山陶瓷"]


def test_industry_page_combines_with_other_filters(client, catalog_data):
    assert set(_names(client.get("/industries/home-appliances?city=guangzhou"))) == {"广州家电"}
    assert set(_names(client.get("/cities/foshan?platform=tmall"))) == {"佛山家电"}


def test_sorts(client, app):
    now = utc_now()
    specs = [("中山乙", 5, 3), ("阿里丙", 50, 1), ("北方甲", 500, 2)]  # brand, clicks, days ago
    for brand, clicks, days in specs:
        ent = make_enterprise(name=brand + "有限公司", brands=[brand])
        ent.name_sort = pinyin_sort_key(ent.name)
        ent.click_count = clicks
        ent.certified_at = now - timedelta(days=days)
    db.session.commit()
    assert _names(client.get("/enterprises")) == ["阿里丙", "北方甲", "中山乙"]  # newest certified first
    assert _names(client.get("/enterprises?sort=newest")) == ["阿里丙", "北方甲", "中山乙"]
    assert _names(client.get("/enterprises?sort=name")) == ["阿里丙", "北方甲", "中山乙"]  # a, b, z
    assert _names(client.get("/enterprises?sort=popular")) == ["北方甲", "阿里丙", "中山乙"]
    assert _names(client.get("/enterprises?sort=bogus")) == ["阿里丙", "北方甲", "中山乙"]


def test_pinyin_sort_is_not_codepoint_order(client, app):
    # 张 (zhang) has a lower code point than 安 (an) would sort after by pinyin
    for brand in ("张记", "安记"):
        ent = make_enterprise(name=brand + "食品有限公司", brands=[brand])
        ent.name_sort = pinyin_sort_key(ent.name)
    db.session.commit()
    assert _names(client.get("/enterprises?sort=name")) == ["安记", "张记"]


def test_pagination(client, app):
    app.config["PER_PAGE"] = 3
    for i in range(7):
        make_enterprise(brands=[f"分页{i}"])
    db.session.commit()
    first, second, third = (_names(client.get(f"/enterprises?page={p}&sort=name")) for p in (1, 2, 3))
    assert len(first) == 3 and len(second) == 3 and len(third) == 1
    assert not set(first) & set(second)
    html = client.get("/enterprises?page=2&sort=name").get_data(as_text=True).replace("&amp;", "&")
    assert 'rel="next"' in html and "page=3" in html and "sort=name" in html
    head = re.search(r'<link rel="canonical" href="([^"]+)"', html).group(1)
    assert head.endswith("/enterprises?page=2")


def test_page_beyond_last_shows_empty_state_with_link_back(client, catalog_data):
    resp = client.get("/enterprises?page=50&industry=home-appliances")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert _names(resp) == []
    assert "回到第 1 页" in html
    assert 'href="/enterprises?industry=home-appliances"' in html
    assert 'name="robots" content="noindex' in html


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1000000000000", "1.5", "", " ", "%00", "1e3", "0x10"])
def test_bad_page_values_are_400(client, catalog_data, page):
    resp = client.get("/enterprises?page=" + page)
    assert resp.status_code == 400, page
    assert "请求无效" in resp.get_data(as_text=True)


def test_bad_page_on_every_paginated_page(client, catalog_data):
    for path in ("/enterprises", "/industries/ceramics", "/cities/foshan", "/platforms/tmall"):
        for page in ("0", "-1", "abc", "1000000000000"):
            assert client.get(f"{path}?page={page}").status_code == 400, (path, page)


def test_empty_state_for_no_match(client, catalog_data):
    resp = client.get("/enterprises?city=shanwei")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "没有符合条件的认证企业" in html


def test_region_filter_from_home_links(client, catalog_data):
    html = client.get("/").get_data(as_text=True).replace("&amp;", "&")
    links = re.findall(r'href="(/enterprises\?region=[^"]+)"', html)
    assert len(links) == 4
    for link in links:
        assert client.get(link).status_code == 200


def test_canonical_and_title_name_the_filters(client, catalog_data):
    html = client.get("/enterprises?sort=popular&city=foshan&industry=home-appliances&utm_source=x").get_data(as_text=True)
    canonical = re.search(r'<link rel="canonical" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert canonical.endswith("/enterprises?industry=home-appliances&city=foshan")  # no sort, no junk
    title = re.search(r"<title>(.*?)</title>", html).group(1)
    assert "家电" in title and "佛山市" in title
    html = client.get("/industries/home-appliances?city=foshan&page=1").get_data(as_text=True)
    canonical = re.search(r'<link rel="canonical" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert canonical.endswith("/industries/home-appliances?city=foshan")
