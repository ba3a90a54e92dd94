"""Issue 21, item 14: schemathesis over the WHOLE API (every operation of /api/openapi.json,
not only the partner tag) with a partner, an agent and a national (head office) token, on SQLite
and PostgreSQL: no generated request makes a server error. Seeded (``derandomize``) and bounded
(6 examples per operation and token: about a minute per token and engine on the shared
2-core machine)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import Engine

from cakupan.db import transaction
from cakupan.integration.ratelimit import ClientLimiter
from cakupan.users import create_user, issue_token
from cakupan.web import create_app
from tests.integration.partner_api_support import ACTOR, clock, make_clients

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _national_token(engine: Engine) -> str:
    with transaction(engine) as session:
        user = create_user(
            session, ACTOR, username="pusat", role="head_office", password="kopi-tubruk-2026"
        )
        return issue_token(session, ACTOR, user.user.id, "schemathesis").plain


@pytest.mark.parametrize("who", ["mitra.a", "agen.a", "pusat"])
def test_no_generated_request_makes_a_server_error(engine: Engine, who: str) -> None:
    tokens = make_clients(engine)
    tokens["pusat"] = _national_token(engine)
    app = create_app(engine, secret_key="test-secret", clock=clock())
    app.state.partner_api_limiter = ClientLimiter(rate=1e6, burst=1_000_000)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            headers = {"Authorization": f"Bearer {tokens[who]}"}
            if not case.headers or "Idempotency-Key" not in case.headers:
                headers["Idempotency-Key"] = f"st-{abs(hash(repr(case.body)))}"
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])

        try:
            check()
        except Exception as error:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {str(error)[:300]}")
    assert failures == []
