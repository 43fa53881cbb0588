"""A persona's execution role must live in the domain's account or in an account the portal governs: a role of an
unrelated account is refused on the persona form, in the API, and when a profile is requested from an older
persona that carries one."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from onboarding import services
from onboarding.models import PersonaTemplate, ProfileRequest
from portal.models import AuditEvent
from tests.factories import AwsAccountFactory
from tests.onboarding.test_api import api
from tests.onboarding.test_views import client_for
from tests.onboarding.world import World

pytestmark = pytest.mark.django_db

FOREIGN_ROLE = "arn:aws:iam::999999999999:role/SomeoneElsesRole"


def persona_fields(world: World, role: str) -> dict[str, object]:
    return {
        "domain": world.research.pk,
        "name": "Analyst",
        "execution_role": role,
        "allowed_instance_types": ["ml.t3.medium"],
        "idle_timeout_minutes": 60,
        "active": "on",
    }


def test_the_persona_form_refuses_a_role_of_an_unrelated_account(world: World) -> None:
    response = client_for(world.approver).post(reverse("onboarding:persona-new"), persona_fields(world, FOREIGN_ROLE))
    assert response.status_code == 200
    body = response.content.decode()
    assert "The role belongs to account 999999999999" in body
    assert "nor an account registered in the portal" in body
    assert not PersonaTemplate.objects.filter(name="Analyst").exists()
    assert not AuditEvent.objects.filter(action="persona.created").exists()


def test_the_api_refuses_a_role_of_an_unrelated_account_with_a_400(world: World) -> None:
    payload = {**persona_fields(world, FOREIGN_ROLE), "domain": world.research.arn}
    response = api(world.approver).post("/api/personas/", payload, format="json")
    assert response.status_code == 400
    assert "999999999999" in response.json()["execution_role"][0]
    changed = api(world.approver).patch(
        f"/api/personas/{world.persona.pk}/", {"execution_role": FOREIGN_ROLE}, format="json"
    )
    assert changed.status_code == 400 and "execution_role" in changed.json()
    world.persona.refresh_from_db()
    assert "999999999999" not in world.persona.execution_role


def test_a_role_of_another_registered_account_is_accepted(world: World) -> None:
    AwsAccountFactory(account_id="999999999999")
    payload = {**persona_fields(world, FOREIGN_ROLE), "domain": world.research.arn}
    response = api(world.approver).post("/api/personas/", payload, format="json")
    assert response.status_code == 201, response.json()


def test_a_profile_is_not_requested_from_a_persona_with_a_foreign_role(world: World) -> None:
    # A persona saved before the rule existed (written past its validation).
    PersonaTemplate.objects.filter(pk=world.persona.pk).update(execution_role=FOREIGN_ROLE)
    world.persona.refresh_from_db()
    with pytest.raises(ValidationError, match="cannot be used until an approver fixes it"):
        services.do_submit_profile_request(
            actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
        )
    response = api(world.scientist).post(
        "/api/profile-requests/", {"domain": world.research.arn, "template": world.persona.pk}, format="json"
    )
    assert response.status_code == 400 and "999999999999" in str(response.json())
    assert not ProfileRequest.objects.exists()
