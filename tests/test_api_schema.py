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
    db.session.commit()
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


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
                 "/api/v1/verify"):
        assert path in doc["paths"], path
    # issue 3's search contract is documented next to ours whenever it is served
    if any(r.rule == "/api/v1/search" for r in client.application.url_map.iter_rules()):
        props = doc["components"]["schemas"]["SearchResponse"]["properties"]
        assert set(props) == {"query", "total", "page", "per_page", "results", "facets", "suggestion", "partial",
                              "synonyms"}
        assert "/api/v1/suggest" in doc["paths"]
