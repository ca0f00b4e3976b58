"""schemathesis against the OpenAPI document the running gateway serves (/openapi.json): no 5xx, every
response as documented.

Bounded (a fixed number of examples per operation, derandomized) so CI stays fast and stable.
One check is left out: "schema-valid data is accepted". A label selector is a string in the
schema and a syntax in Kubernetes; `labelSelector=a in b` is schema-valid and rightly a 400.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from gateway.app import create_app
from gateway.config import Config
from tests.support.gateway import Gateway

# what /openapi.json answers (schemathesis parametrizes at collection, before any fixture serves it);
# test_openapi.py shows the document served over HTTP is this one
SERVED = create_app(Config(demo=True, extra={"TESTING": True})).test_client().get("/openapi.json").get_json()
schema = schemathesis.openapi.from_dict(SERVED)


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case: schemathesis.Case, demo: Gateway) -> None:
    if case.query:  # ?watch=true streams for ever: tests/store/test_live_updates.py covers it
        case.query = {k: v for k, v in case.query.items() if k != "watch"}
    case.call_and_validate(base_url=demo.url, excluded_checks=[positive_data_acceptance])
