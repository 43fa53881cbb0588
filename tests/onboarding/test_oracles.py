"""Writes check the caller's scope before anything else: a domain, user or policy the caller may not act on answers
exactly as one that does not exist, so the API never confirms names it should not show."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from onboarding.models import PersonaTemplate, ProfileRequest, SpacePolicy
from tests.factories import UserFactory, grant
from tests.inventory import ROLE
from tests.onboarding.world import World

pytestmark = pytest.mark.django_db

MADE_UP = "arn:aws:sagemaker:us-east-1:111111111111:domain/d-madeup"


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def persona(domain_arn: str) -> dict[str, Any]:
    return {"domain": domain_arn, "name": "Analyst", "execution_role": ROLE, "allowed_instance_types": ["ml.t3.medium"]}


def same_answer(first: Any, second: Any, real: str) -> None:
    assert first.status_code == second.status_code
    assert first.json() == second.json() or (
        first.content.decode().replace(real, MADE_UP) == second.content.decode()
    ), (first.json(), second.json())


def test_a_user_with_no_role_learns_nothing_from_persona_and_policy_writes(world: World) -> None:
    nobody = UserFactory(username="nobody")
    for path, body in (("/api/personas/", persona), ("/api/space-policies/", lambda arn: {"domain": arn})):
        real = api(nobody).post(path, body(world.risk.arn), format="json")
        fake = api(nobody).post(path, body(MADE_UP), format="json")
        assert real.status_code == 404
        same_answer(real, fake, world.risk.arn)
        assert "risk" not in real.content.decode()


def test_an_approver_of_one_domain_cannot_tell_another_domain_from_a_made_up_one(world: World) -> None:
    bea = world.approver2  # approves research only
    real = api(bea).post("/api/personas/", persona(world.risk.arn), format="json")
    fake = api(bea).post("/api/personas/", persona(MADE_UP), format="json")
    assert real.status_code == 400 and "domain" in real.json()
    same_answer(real, fake, world.risk.arn)
    assert "risk" not in real.content.decode().replace(world.risk.arn, "")
    # research has a policy, other has one too but bea does not manage it: both answer like a made-up domain.
    other = api(bea).post("/api/space-policies/", {"domain": world.other.arn}, format="json")
    fake = api(bea).post("/api/space-policies/", {"domain": MADE_UP}, format="json")
    same_answer(other, fake, world.other.arn)
    assert "already" not in other.content.decode()
    assert PersonaTemplate.objects.filter(name="Analyst").count() == 0 and SpacePolicy.objects.count() == 2


def test_a_reader_cannot_change_a_persona_it_may_only_read(world: World) -> None:
    response = api(world.scientist).patch(f"/api/personas/{world.persona.pk}/", {"name": "x"}, format="json")
    assert response.status_code == 404
    assert PersonaTemplate.objects.get(pk=world.persona.pk).name == "Data scientist"


def test_profile_requests_name_only_domains_and_people_in_the_callers_scope(world: World) -> None:
    outside = api(world.scientist).post(
        "/api/profile-requests/", {"domain": world.other.arn, "template": world.other_persona.pk}, format="json"
    )
    fake = api(world.scientist).post(
        "/api/profile-requests/", {"domain": MADE_UP, "template": world.other_persona.pk}, format="json"
    )
    assert outside.status_code == 400 and "other" not in outside.content.decode().replace(world.other.arn, "")
    assert outside.json()["domain"] == [m.replace(MADE_UP, world.other.arn) for m in fake.json()["domain"]]
    someone = api(world.scientist).post(
        "/api/profile-requests/",
        {"domain": world.research.arn, "template": world.persona.pk, "person": "leila"},
        format="json",
    )
    nobody = api(world.scientist).post(
        "/api/profile-requests/",
        {"domain": world.research.arn, "template": world.persona.pk, "person": "no-such-user"},
        format="json",
    )
    assert someone.status_code == nobody.status_code == 400
    assert someone.json()["person"] == [m.replace("no-such-user", "leila") for m in nobody.json()["person"]]
    assert not ProfileRequest.objects.exists()


def test_role_writes_answer_404_before_reading_the_body(world: World) -> None:
    for user in ("leila", "no-such-user"):
        response = api(world.scientist).post("/api/roles/", {"user": user, "role": "finance"}, format="json")
        assert response.status_code == 404


def test_the_profile_name_preview_shows_only_people_the_caller_may_request_for(world: World) -> None:
    def preview(user: Any, person: str) -> str:
        client = Client()
        client.force_login(user)
        response = client.get(
            "/requests/profiles/new/", {"domain": world.research.pk, "person": person}, headers={"HX-Request": "true"}
        )
        assert response.status_code == 200
        body = response.content.decode()
        return body[body.index('id="name-preview"') :].split("</p>")[0]

    admin_name, unknown = preview(world.scientist, "admin"), preview(world.scientist, "no-such-user")
    assert "<strong>maria</strong>" in admin_name
    assert admin_name == unknown  # a scientist's preview is their own name, whoever they name
    assert "<strong>leila</strong>" in preview(world.approver, "leila")
    assert "<strong>(no valid name)</strong>" in preview(world.approver, "no-such-user")
    # An approver of risk only, who may request a profile in research for themselves, previews only their own name.
    grant(world.outsider, "domain_approver", world.risk)
    grant(world.outsider, "data_scientist", world.research)
    assert "<strong>olga</strong>" in preview(world.outsider, "leila")
