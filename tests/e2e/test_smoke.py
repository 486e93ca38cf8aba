"""The server under test answers and its home page renders without a browser problem."""
import pytest

from conftest import shoot

pytestmark = pytest.mark.e2e


def test_home_page_renders(page):
    page.goto("/")
    assert "广货网上行" in page.title()
    shoot(page, "00-home")
