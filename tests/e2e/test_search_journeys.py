"""Search journeys of issue 14 in a real browser: results first on a phone with the filters behind
a button, synonyms shown on the page, and staff adding a synonym the next search uses."""
from __future__ import annotations


import pytest

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, DESKTOP, PHONE, eventually, login, shoot

pytestmark = pytest.mark.e2e




def test_s1_on_a_phone_results_come_first_and_filters_sit_behind_a_button(page):
    page.set_viewport_size(PHONE)
    page.goto("/search?q=" + "豉油")  # Cantonese for 酱油: found through the shipped synonyms
    first = page.locator("ol.result-list li").first
    first.wait_for()
    assert first.bounding_box()["y"] < PHONE["height"], "the first result must be visible without scrolling"
    assert "已包含同义词：酱油" in page.locator(".search-expanded").inner_text()
    panel = page.locator("details.filter-panel")
    assert panel.get_attribute("open") is None and not page.locator(".facet").first.is_visible()
    shoot(page, "s1-search-synonym")
    page.set_viewport_size(PHONE)
    page.locator("details.filter-panel > summary").click()
    page.locator(".facet").first.wait_for(state="visible")
    page.screenshot(path=str(ARTIFACTS / "s1-search-filters-open-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.goto("/search?q=" + "羊城 凉茶")
    page.locator(".facet").first.wait_for(state="visible")  # wide screens: the panel starts open
    assert "已按地区查找：广州" in page.locator(".search-expanded").inner_text()
    shoot(page, "s2-search-place")


def test_s2_staff_add_a_synonym_and_the_next_search_uses_it(new_context):
    staff = new_context().new_page()
    login(staff, ADMIN_EMAIL, ADMIN_PASSWORD)
    staff.goto("/staff/synonyms")
    staff.select_option("select[name=kind]", "group")
    staff.fill("input[name=terms]", "凉茶，廿五味茶")
    staff.select_option("select[name=category]", "俗称")
    staff.fill("input[name=note]", "浏览器测试")
    staff.get_by_role("button", name="添加").click()
    staff.wait_for_load_state()
    assert "已添加同义词规则" in staff.locator("body").inner_text()
    staff.goto("/staff/synonyms?try=" + "廿五味茶")
    assert "凉茶" in staff.locator(".synonym-trial").inner_text()
    shoot(staff, "s3-staff-synonyms")

    consumer = new_context().new_page()

    def found():
        consumer.goto("/search?q=" + "廿五味茶")
        return consumer.locator("ol.result-list li").count() > 0

    assert eventually(found), "the new synonym must apply to the next search"
    assert "已包含同义词：凉茶" in consumer.locator(".search-expanded").inner_text()
    staff.goto("/staff/audit?action=synonym.")
    assert "synonym.create" in staff.locator(".audit-list").inner_text()
