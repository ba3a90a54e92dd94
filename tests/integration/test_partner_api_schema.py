"""schemathesis against the partner API's OpenAPI description, on SQLite and PostgreSQL: no
generated input (valid or not) makes the server answer 5xx, and every answer is JSON or
problem details. Bounded (a few examples per operation) to keep the suite quick."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import Engine

from cakupan.integration.ratelimit import ClientLimiter
from cakupan.web import create_app
from tests.integration.partner_api_support import clock, make_clients

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_no_generated_request_makes_a_server_error(engine: Engine) -> None:
    token = make_clients(engine)["mitra.a"]
    app = create_app(engine, secret_key="test-secret", clock=clock())
    app.state.partner_api_limiter = ClientLimiter(rate=1e6, burst=1_000_000)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app).include(tag="partner-api")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            if not case.headers or "Idempotency-Key" not in case.headers:
                headers["Idempotency-Key"] = f"st-{abs(hash(repr(case.body)))}"
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])
            assert response.headers.get("x-request-id")

        check()
