"""Verify journeys of issues 11 and 13 in a browser: a consumer looks a brand up by name, pastes a
look-alike of its certified shop (red 疑似仿冒, naming the real shop), an unrelated shop (amber),
and a link a browser would read differently from how it looks (refused with the reason)."""
from __future__ import annotations

import pytest

from conftest import shoot

pytestmark = pytest.mark.e2e


def _verify(page, text: str) -> None:
    page.goto("/verify")
    page.fill("#verify-q", text)
    page.locator(".verify-form button[type=submit]").click()
    page.wait_for_load_state()


def test_consumer_checks_a_name_a_look_alike_and_an_unknown_shop(page, live_server):
    row = live_server.sql(
        "SELECT s.id, s.url, s.name, b.name FROM shop s JOIN enterprise e ON e.id = s.enterprise_id "
        "JOIN brand b ON b.enterprise_id = e.id AND b.position = 0 JOIN platform p ON p.id = s.platform_id "
        "WHERE s.status = 'certified' AND e.status = 'certified' AND p.slug = 'tmall' "
        "AND s.url LIKE 'https://%.tmall.com/' ORDER BY s.id LIMIT 1")
    assert row, "the demo data has no certified Tmall shop on its own sub-domain"
    shop_id, shop_url, shop_name, brand = row[0]
    label = shop_url.removeprefix("https://").split(".")[0]

    _verify(page, brand)
    page.locator(".verify-name_match").wait_for()
    assert page.locator(f".verify-matches a[href$='/go/{shop_id}']").count() == 1
    shoot(page, "url1-verify-name")

    _verify(page, f"https://{label}-tmall.com/")
    box = page.locator(".verify-suspicious")
    box.wait_for()
    assert "疑似仿冒" in box.inner_text() and shop_name in box.inner_text()
    assert page.locator(f".verify-real-shop a[href$='/go/{shop_id}']").count() == 1
    shoot(page, "url2-verify-suspicious")

    _verify(page, "https://some-unrelated-shop.example/")
    page.locator(".verify-not_found").wait_for()
    shoot(page, "url3-verify-not-listed")

    _verify(page, "https://evil.example\\.tmall.com/")
    assert "反斜杠" in page.locator("#verify-error").inner_text()
    assert page.locator(".verify-result").count() == 0
    shoot(page, "url4-verify-refused")
