"""Certificate validity follows the China date on every page, the API and the daily job.

A certificate is valid through its ``valid_until`` China date. At 23:30 China time (15:30 UTC)
on that day every public surface says valid and the expiry job leaves it alone; half an hour
after China midnight (16:30 UTC, still the same UTC date) every surface says expired and the job
expires it. Before ``marketplace.clock`` was the one home of "today", the pages and the API asked
the server's local date while the job asked China time, so they disagreed for eight hours a day.
"""
from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

import pytest

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import Certification
from marketplace.services.lifecycle import expire_certificates
from tests.factories import make_certificate, make_enterprise, make_shop

LAST_DAY = date(2030, 6, 28)
EVE = datetime(2030, 6, 28, 15, 30)  # naive UTC = 23:30 China time on LAST_DAY
AFTER = datetime(2030, 6, 28, 16, 30)  # naive UTC = 00:30 China time the day after


@pytest.fixture
def listing(app):
    """A certified enterprise with one shop whose certificate's last valid day is LAST_DAY."""
    with clock.frozen(datetime(2028, 6, 29, 4, 0)):
        ent = make_enterprise(name="广东时区测试实业有限公司", certificate=False)
        cert = make_certificate(ent)
        cert.issued_on, cert.valid_until = date(2028, 6, 29), LAST_DAY
        shop = make_shop(ent, url="https://timezone-test.tmall.com/")
        db.session.commit()
    return ent, cert, shop


def _surfaces(client, ent, cert, shop) -> dict[str, bool]:
    """Whether each public surface presents the certificate as valid right now."""
    number = cert.number
    page = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    certificate = client.get(f"/certificates/{number}")
    badge = client.get(f"/badges/{number}.svg").get_data(as_text=True)
    sitemap = client.get("/sitemaps/1.xml").get_data(as_text=True)
    out = {
        "enterprise page": 'status-valid">有效' in page and "status-expired" not in page,
        "certificate page": "X-Robots-Tag" not in certificate.headers
        and "认证已过期" not in certificate.get_data(as_text=True),
        "badge": f"{number}：有效" in badge,
        "sitemap": f"/certificates/{number}<" in sitemap,
    }
    for key, value in (("certificate", number), ("url", shop.url), ("uscc", ent.uscc)):
        html = client.get("/verify?" + urlencode({key: value})).get_data(as_text=True)
        out[f"verify page ({key})"] = "认证有效" in html and "认证已过期" not in html
    for key, value in (("certificate", number), ("url", shop.url)):
        data = client.get("/api/v1/verify?" + urlencode({key: value})).get_json()
        out[f"api verify ({key})"] = data["result"] == "certified"
    out["api enterprise"] = client.get(f"/api/v1/enterprises/{ent.id}").get_json()["certificate"]["valid"]
    out["model"] = db.session.get(Certification, cert.id).is_valid
    return out


def test_at_2330_china_time_every_surface_still_says_valid(app, client, listing):
    ent, cert, shop = listing
    with clock.frozen(EVE):
        assert clock.china_today() == LAST_DAY
        surfaces = _surfaces(client, ent, cert, shop)
        counts = expire_certificates()
    assert surfaces == {name: True for name in surfaces}
    assert counts["expired"] == 0


def test_half_past_china_midnight_every_surface_says_expired(app, client, listing):
    ent, cert, shop = listing
    with clock.frozen(AFTER):
        assert AFTER.date() == LAST_DAY  # the server's UTC date is still the last valid day
        surfaces = _surfaces(client, ent, cert, shop)
        assert surfaces == {name: False for name in surfaces}
        counts = expire_certificates()
    assert counts["expired"] == 1
