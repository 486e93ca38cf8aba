"""schemathesis against /api/v1/openapi.json: no server error, no response that contradicts the
document (status codes, content types, headers, bodies), bounded in time."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_headers_conformance, response_schema_conformance,
    status_code_conformance,
)

from marketplace.extensions import db
from marketplace.models import Status
from tests.factories import make_enterprise, make_shop

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.fixture
def app_config(app_config):
    """The rate limit is tested on its own (test_api_public); here it would only add 429s."""
    return {**app_config, "API_RATE_LIMIT": "100000/minute"}


@pytest.fixture
def api_schema(app):
    """A directory with public and non-public listings, then the document as the app serves it."""
    for n, city in enumerate(["佛山", "广州", "汕头"]):
        ent = make_enterprise(brands=[f"接口品牌{n}"], city_name=city, industries=["家电", "陶瓷"],
                              badges=["中华老字号"] if n == 0 else None)
        make_shop(ent, platform_slug="tmall")
        make_shop(ent, platform_slug="jd", shop_type="专卖店")
        make_shop(ent, platform_slug="jd", status=Status.PENDING)
    hidden = make_enterprise(status=Status.REVOKED)
    make_shop(hidden)
    make_enterprise(status=Status.PENDING, certificate=False)
    _certification_events_and_an_authorization(ent)
    db.session.commit()
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def _certification_events_and_an_authorization(ent):
    """Events in the changes feed (an approval, a suspension) and a brand authorization in effect
    for a 专卖店, so that /changes, /certified-shops and /verify answer with every field filled."""
    from datetime import timedelta

    from marketplace.clock import china_today
    from marketplace.models import BrandAuthorization, Role, ShopAuthorization
    from marketplace.services import review
    from marketplace.services.lifecycle import set_shop_status
    from tests.factories import make_application, make_user

    pending = make_enterprise(status=Status.PENDING, certificate=False, owner=make_user())
    make_shop(pending, status=Status.PENDING)
    staff = make_user(Role.STAFF)
    from tests.factories import all_codes_verified
    approved = make_application(pending)
    review.approve(approved.id, staff, shop_checks=all_codes_verified(approved))
    set_shop_status(make_shop(pending), Status.SUSPENDED, staff, "核查中")
    exclusive = next(s for s in ent.shops if s.shop_type == "专卖店")
    db.session.add(BrandAuthorization(
        brand_name="授权品牌", grantor_uscc=pending.uscc, grantor_name=pending.name, distributor_uscc=ent.uscc,
        valid_from=china_today(), valid_until=china_today() + timedelta(days=90), platforms=[exclusive.platform],
        links=[ShopAuthorization(shop=exclusive)]))


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_api_matches_its_openapi_document(case):
    case.call_and_validate(checks=CHECKS)


def test_document_is_openapi_3_and_lists_every_endpoint(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in ("/api/v1/enterprises", "/api/v1/enterprises/{enterprise_id}", "/api/v1/shops",
                 "/api/v1/shops/{shop_id}", "/api/v1/platforms", "/api/v1/industries", "/api/v1/cities",
                 "/api/v1/verify", "/api/v1/changes", "/api/v1/certified-shops"):
        assert path in doc["paths"], path
    # issue 3's search contract is documented next to ours whenever it is served
    if any(r.rule == "/api/v1/search" for r in client.application.url_map.iter_rules()):
        props = doc["components"]["schemas"]["SearchResponse"]["properties"]
        assert set(props) == {"query", "total", "page", "per_page", "results", "facets", "suggestion", "partial",
                              "synonyms"}
        assert "/api/v1/suggest" in doc["paths"]


def test_document_offers_todays_slugs_and_declares_every_status(client):
    from marketplace.models import Industry

    retired = db.session.scalars(db.select(Industry).order_by(Industry.id)).first()
    retired.active = False
    db.session.commit()
    resp = client.get("/api/v1/openapi.json")
    doc = resp.get_json()
    params = {p["name"]: p["schema"] for p in doc["paths"]["/api/v1/enterprises"]["get"]["parameters"]}
    active = sorted(db.session.scalars(db.select(Industry.slug).where(Industry.active.is_(True))))
    assert params["industry"]["enum"] == active and retired.slug not in active
    assert len(params["city"]["enum"]) == 21 and "x-choices" not in resp.get_data(as_text=True)
    assert doc["servers"] == [{"url": "http://localhost"}]
    for path, item in doc["paths"].items():
        responses = item["get"]["responses"]
        assert "default" not in responses and {"200", "429"} <= set(responses), path
    assert client.get(f"/api/v1/enterprises?industry={retired.slug}").status_code == 400


def test_site_pages_keep_their_own_error_pages(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html" and "页面不存在" in page.get_data(as_text=True)
    api = client.get("/api/v1/no-such-endpoint")
    assert api.status_code == 404 and "error" in api.get_json()
