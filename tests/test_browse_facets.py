"""Browse sidebar counts narrow with the filters already chosen (services/catalog/facets.py)."""
import re
import time

import pytest

from factories import make_enterprise, make_shop
from marketplace.extensions import db
from marketplace.models import Status


@pytest.fixture
def data(app):
    fs_app = make_enterprise(brands=["佛山家电"], city_name="佛山", industries=["家电"])
    make_shop(fs_app, platform_slug="tmall")
    gz_app = make_enterprise(brands=["广州家电"], city_name="广州", industries=["家电"])
    make_shop(gz_app, platform_slug="jd")
    fs_cer = make_enterprise(brands=["佛山陶瓷"], city_name="佛山", industries=["陶瓷"])
    make_shop(fs_cer, platform_slug="jd")
    cz_cer = make_enterprise(brands=["潮州陶瓷"], city_name="潮州", industries=["陶瓷"])
    make_shop(cz_cer, platform_slug="tmall")
    make_shop(cz_cer, platform_slug="jd", status=Status.PENDING)  # not public: never counted
    hidden = make_enterprise(brands=["未公开家电"], city_name="广州", industries=["家电"], status=Status.PENDING)
    make_shop(hidden, platform_slug="jd", status=Status.PENDING)
    db.session.commit()


def _chips(client, query: str) -> dict[str, dict[str, int]]:
    """{legend: {chip label: count}} of the browse sidebar."""
    resp = client.get(f"/enterprises?{query}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    out = {}
    for legend, body in re.findall(r"<legend>(.*?)</legend>(.*?)</fieldset>", html, re.S):
        out[legend] = {name.strip(): int(n) for name, n in
                       re.findall(r'<a class="chip[^"]*"[^>]*>([^<]*?)<span class="chip-n">(\d+)</span>', body)}
    return out


def test_without_filters_the_counts_cover_the_directory(client, data):
    chips = _chips(client, "")
    assert chips["行业"] == {"家电": 2, "陶瓷": 2}
    assert chips["城市 / 区域"] == {"珠三角": 3, "佛山": 2, "广州": 1, "粤东": 1, "潮州": 1, "粤西": 0, "粤北": 0}
    assert chips["电商平台"] == {"天猫": 2, "京东": 2}


def test_a_city_narrows_the_other_facets_but_not_its_own(client, data):
    chips = _chips(client, "city=foshan")
    assert chips["行业"] == {"家电": 1, "陶瓷": 1}
    assert chips["电商平台"] == {"天猫": 1, "京东": 1}
    # the other cities stay selectable, with their counts under the other (no) filters
    assert chips["城市 / 区域"]["广州"] == 1 and chips["城市 / 区域"]["潮州"] == 1


def test_an_industry_hides_cities_and_platforms_without_matches(client, data):
    chips = _chips(client, "industry=ceramics")
    assert chips["城市 / 区域"] == {"珠三角": 1, "佛山": 1, "粤东": 1, "潮州": 1, "粤西": 0, "粤北": 0}
    assert chips["电商平台"] == {"天猫": 1, "京东": 1}
    assert chips["行业"] == {"家电": 2, "陶瓷": 2}


def test_two_filters_combine_and_a_chosen_value_stays_visible_at_zero(client, data):
    chips = _chips(client, "city=chaozhou&industry=home-appliances")
    assert chips["行业"] == {"家电": 0, "陶瓷": 1}
    assert chips["电商平台"] == {}
    chips = _chips(client, "platform=jd&city=guangzhou")
    assert chips["行业"] == {"家电": 1}
    assert chips["电商平台"] == {"京东": 1}  # tmall has no Guangzhou enterprise


def test_cached_counts_follow_a_listing_change(client, app, data):
    assert app.config["CATALOG_CACHE_SECONDS"] > 0  # the catalog cache is on, as in production
    assert _chips(client, "city=foshan")["行业"] == {"家电": 1, "陶瓷": 1}
    assert "facet:industry:city=foshan" in app.extensions["catalog_cache"]
    assert _chips(client, "city=foshan")["行业"] == {"家电": 1, "陶瓷": 1}  # now from the cache
    ent = make_enterprise(brands=["佛山新家电"], city_name="佛山", industries=["家电"])
    make_shop(ent, platform_slug="jd")
    db.session.commit()  # a new certified listing writes an outbox row: the cache is dropped
    time.sleep(0.6)  # the directory version is checked at most twice a second
    assert _chips(client, "city=foshan")["行业"] == {"家电": 2, "陶瓷": 1}
    assert _chips(client, "city=foshan&industry=home-appliances")["电商平台"] == {"天猫": 1, "京东": 1}
