"""The outside audit's bad inputs, each of which once answered 500: every one now answers 400 (or 404 where the
object is out of scope) with a message on the page or in the API's error body, and changes nothing.

Run it on PostgreSQL too (``DATABASE_URL=postgres://...``): PostgreSQL is the database that refuses a NUL in text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from onboarding.models import Offboarding, PersonaTemplate, ProfileRequest, SpacePolicy, SpaceRequest
from portal.models import AuditEvent, RoleAssignment, TaskRun
from tests.onboarding.world import World, build_world

pytestmark = pytest.mark.django_db

HUGE = "999999999999999999999999999999"
NUL = "\x00"


@pytest.fixture
def world(aws_sandbox: None, settings: Any) -> World:
    settings.PROVISION_POLL_SECONDS = 0
    return build_world()


def page(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def nested(depth: int) -> str:
    return '{"domain": ' + "[" * depth + "]" * depth + "}"


# (who, how, path, data, expected status, text expected in the answer)
Row = tuple[str, str, str, Callable[[World], Any], int, str]
ROWS: dict[str, Row] = {
    "space form, huge ebs": (
        "lead",
        "post",
        "/requests/spaces/new/",
        lambda w: {**_space_form(w), "ebs_size_gb": HUGE},
        400,
        "less than or equal to 16384",
    ),
    "space estimate, ebs 1e40": (
        "lead",
        "get",
        "/requests/spaces/estimate/",
        lambda w: {"domain": w.research.pk, "instance_type": "ml.t3.medium", "ebs_size_gb": "1e40"},
        400,
        "Enter a whole number",
    ),
    "space estimate, huge ebs": (
        "lead",
        "get",
        "/requests/spaces/estimate/",
        lambda w: {"domain": w.research.pk, "instance_type": "ml.t3.medium", "ebs_size_gb": HUGE},
        400,
        "less than or equal to 16384",
    ),
    "space form htmx, ebs 1e40": (
        "lead",
        "htmx",
        "/requests/spaces/new/",
        lambda w: {"domain": w.research.pk, "instance_type": "ml.t3.medium", "ebs_size_gb": "1e40"},
        400,
        "Enter a whole number",
    ),
    "api estimate, ebs 1e11": (
        "lead",
        "api-get",
        "/api/space-requests/estimate/",
        lambda w: {"instance_type": "ml.t3.medium", "ebs_size_gb": "100000000000"},
        400,
        "less than or equal to 16384",
    ),
    "api estimate, ebs -1000": (
        "lead",
        "api-get",
        "/api/space-requests/estimate/",
        lambda w: {"instance_type": "ml.t3.medium", "ebs_size_gb": "-1000"},
        400,
        "greater than or equal to 5",
    ),
    "sync, domain abc": ("approver", "post", "/sync/", lambda w: {"domain": "abc"}, 400, "domain"),
    "sync, domain NUL": ("approver", "post", "/sync/", lambda w: {"domain": NUL}, 400, "NUL character"),
    "cost run, since [1]": ("admin", "api-post", "/api/costs/runs/", lambda w: {"since": [1]}, 400, "since"),
    "cost run, since int": ("admin", "api-post", "/api/costs/runs/", lambda w: {"since": 20260101}, 400, "since"),
    "profile request, 50000 levels": (
        "scientist",
        "api-raw",
        "/api/profile-requests/",
        lambda w: nested(50_000),
        400,
        "nested more than",
    ),
    "profile form, person NUL": (
        "approver",
        "get",
        "/requests/profiles/new/",
        lambda w: {"domain": w.research.pk, "person": f"maria{NUL}"},
        400,
        "NUL character",
    ),
    "offboarding form, person NUL (GET)": (
        "approver",
        "get",
        "/offboarding/new/",
        lambda w: {"person": f"maria{NUL}"},
        400,
        "NUL character",
    ),
    "offboarding form, person NUL (POST)": (
        "approver",
        "post",
        "/offboarding/new/",
        lambda w: {"person": f"maria{NUL}", "reason": "left"},
        400,
        "NUL character",
    ),
    "api offboarding plan, person NUL": (
        "approver",
        "api-get",
        "/api/offboardings/plan/",
        lambda w: {"person": f"maria{NUL}"},
        400,
        "NUL character",
    ),
    "api offboarding, person NUL": (
        "approver",
        "api-post",
        "/api/offboardings/",
        lambda w: {"person": f"maria{NUL}", "reason": "left"},
        400,
        "NUL character",
    ),
    "api profile request, justification NUL": (
        "scientist",
        "api-post",
        "/api/profile-requests/",
        lambda w: {"domain": w.research.arn, "template": w.persona.pk, "justification": f"x{NUL}"},
        400,
        "NUL character",
    ),
    "api space request, purpose NUL": (
        "lead",
        "api-post",
        "/api/space-requests/",
        lambda w: {**_space_api(w), "purpose": f"x{NUL}"},
        400,
        "NUL character",
    ),
    "api role, user NUL (scientist)": (
        "scientist",
        "api-post",
        "/api/roles/",
        lambda w: {"user": f"maria{NUL}", "role": "finance"},
        400,
        "NUL character",
    ),
    "api persona, domain NUL (scientist)": (
        "scientist",
        "api-post",
        "/api/personas/",
        lambda w: {"domain": f"arn{NUL}", "name": "x", "execution_role": "arn:aws:iam::1:role/x"},
        400,
        "NUL character",
    ),
    "api space policy, domain NUL (scientist)": (
        "scientist",
        "api-post",
        "/api/space-policies/",
        lambda w: {"domain": f"arn{NUL}", "allowed_instance_types": ["ml.t3.medium"]},
        400,
        "NUL character",
    ),
    "api filter, q NUL": ("scientist", "api-get", "/api/profile-requests/", lambda w: {"q": NUL}, 400, "NUL"),
    "page filter, q NUL": ("scientist", "get", "/requests/profiles/", lambda w: {"q": NUL}, 400, "NUL"),
}


def _space_form(w: World) -> dict[str, Any]:
    fields = w.space_fields()
    return {**fields, "domain": w.research.pk, "expires_on": fields["expires_on"].isoformat()}


def _space_api(w: World) -> dict[str, Any]:
    fields = w.space_fields()
    return {**fields, "domain": w.research.arn, "expires_on": fields["expires_on"].isoformat()}


def _counts() -> tuple[int, ...]:
    models = (AuditEvent, ProfileRequest, SpaceRequest, Offboarding, PersonaTemplate, SpacePolicy, RoleAssignment)
    return (*(m.objects.count() for m in models), TaskRun.objects.count())


@pytest.mark.parametrize("row", list(ROWS), ids=list(ROWS))
def test_the_audits_bad_inputs_answer_400_with_a_message(world: World, row: str) -> None:
    who, how, path, make, expected, text = ROWS[row]
    user = getattr(world, who)
    data = make(world)
    before = _counts()
    if how == "get":
        response = page(user).get(path, data)
    elif how == "htmx":
        response = page(user).get(path, data, headers={"HX-Request": "true"})
    elif how == "post":
        response = page(user).post(path, data)
    elif how == "api-get":
        response = api(user).get(path, data)
    elif how == "api-post":
        response = api(user).post(path, data, format="json")
    else:
        response = api(user).post(path, data, content_type="application/json")
    assert response.status_code == expected, response.content[:500]
    body = response.content.decode()
    if how.startswith("api"):
        json.loads(body)  # the API's error body is JSON
    assert text in body, body[:2000]
    assert _counts() == before, "a refused request changed something"


def test_a_multipart_body_that_cannot_be_read_answers_400(world: World) -> None:
    response = api(world.scientist).generic(
        "POST",
        "/api/profile-requests/",
        b"--b\r\nnot a part\r\n--b--\r\n",
        content_type="multipart/form-data; boundary=b",
    )
    assert response.status_code == 400


def test_a_form_with_more_fields_than_django_reads_answers_400_in_json(world: World) -> None:
    body = "&".join(f"findings={n}" for n in range(1, 1200))
    response = api(world.admin).generic(
        "POST", "/api/findings/propose-fix/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "Too many fields" in response.json()["detail"][0]


@pytest.mark.parametrize(
    "body",
    ['{"justification\\u0000": "x"}', '"\\u0000"', '{"domain": ["a", {"b": "\\u0000"}]}', '[[[["\\u0000"]]]]'],
)
def test_a_nul_anywhere_in_a_json_body_answers_400_naming_the_field(world: World, body: str) -> None:
    response = api(world.scientist).generic("POST", "/api/profile-requests/", body, content_type="application/json")
    assert response.status_code == 400
    answer = json.dumps(response.json())
    assert "NUL character" in answer and "\\u0000" not in answer  # the field is named, the NUL not echoed
