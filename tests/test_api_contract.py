"""The API against its own OpenAPI schema: schemathesis sends generated requests (valid and invalid) to every
operation of ``/api/schema/``, as a platform admin and as a user with no role, on the test database with the AWS
sandbox. No answer may be a 5xx, and every answer must be declared: its status code, content type and body schema.

Examples per operation are bounded (``API_FUZZ_EXAMPLES``, default 8 per generation mode) so both runs together
take about 30 s on an idle 2-core machine (about a minute under load); raise it to search harder.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from costs.budgets import do_set_budget
from costs.models import SpendRollup
from onboarding import services
from portal.apitokens import do_create_token
from tests.factories import UserFactory
from tests.onboarding.world import World, build_world

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def world(aws_sandbox: None, settings: Any) -> World:
    """The onboarding world with one of each object the API lists, so list answers are checked with rows."""
    settings.PROVISION_POLL_SECONDS = 0
    world = build_world()
    services.do_submit_profile_request(
        actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
    )
    services.do_submit_space_request(actor=world.lead, **world.space_fields(ebs_size_gb=20))
    services.do_plan_offboarding(actor=world.approver, person=world.lead, reason="Moved team")
    do_set_budget(world.research, monthly_amount=Decimal("100"), thresholds=[50, 100], actor=world.approver)
    today = timezone.localdate()
    for period, start in (("day", today - timedelta(days=1)), ("month", today.replace(day=1))):
        SpendRollup.objects.create(
            payer=world.research.account,
            period=period,
            start=start,
            level="domain",
            domain_arn=world.research.arn,
            key_arn=world.research.arn,
            domain=world.research,
            amount=Decimal("12.34"),
        )
    return world


class WsgiOnTheTestDatabase:
    """The portal's WSGI application on the test's database connection: like Django's test client, it does not
    close the connection at the end of each request (the test's transaction lives on it)."""

    def __init__(self) -> None:
        self.app = get_wsgi_application()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            return self.app(environ, start_response)
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


def api_schema(user: Any) -> Any:
    client = Client()
    client.force_login(user)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = schemathesis.openapi.from_dict(response.json())
    schema.app = WsgiOnTheTestDatabase()
    return schema


def fuzz(schema: Any, token: str) -> tuple[list[str], int]:
    """Every operation, both generation modes; the failures (one per operation and mode) and the calls made."""
    failures: list[str] = []
    calls = 0
    headers = {"Authorization": f"Token {token}"}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                nonlocal calls
                calls += 1
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                run()
            except Unsatisfiable:
                if mode is not GenerationMode.NEGATIVE:
                    raise
                # An operation that takes no parameter and no body has no invalid request to generate.
            except (Exception, BaseExceptionGroup) as exc:  # every operation's failures are reported, not the first
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:1500]}")
    return failures, calls


@pytest.mark.parametrize("who", ["admin", "no role"])
def test_the_api_answers_every_generated_request_as_its_schema_says(world: World, who: str) -> None:
    user = world.admin if who == "admin" else UserFactory(username="nobody")
    token = do_create_token(user, name="contract", actor="test")[1]
    started = time.monotonic()
    failures, calls = fuzz(api_schema(user), token)
    elapsed = time.monotonic() - started
    print(f"\n{who}: {calls} requests in {elapsed:.1f} s")
    assert calls > 0
    assert not failures, "\n\n".join(failures)


def test_the_schema_says_what_the_answers_are() -> None:
    client = Client()
    client.force_login(UserFactory())
    schema = client.get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    for component, field in [
        ("ProfileRequest", "decided_by"),
        ("SpaceRequest", "decided_by"),
        ("Offboarding", "decided_by"),
        ("UserProfile", "owner"),
        ("TaskRun", "started_by"),
        ("TaskRun", "duration"),
    ]:
        assert components[component]["properties"][field].get("nullable") is True, (component, field)
    summary = schema["paths"]["/api/costs/summary/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert summary["schema"] == {"$ref": "#/components/schemas/SpendSummary"}
    assert set(components["SpendSummary"]["properties"]) >= {"start", "end", "group", "results"}
    plan = schema["paths"]["/api/offboardings/plan/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert plan["schema"]["type"] == "array"
    runs = schema["paths"]["/api/costs/runs/"]["post"]
    assert runs["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CostRunStart"}
    assert {"400", "403", "404", "415"} <= set(runs["responses"])
