"""Offboarding a person of the directory from their page: every profile, then the portal login and its token."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from domains import people
from onboarding.models import Offboarding
from portal.apitokens import do_create_token
from portal.models import ApiToken
from tests.onboarding.world import World

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_approver_offboards_a_person_who_then_cannot_log_in_nor_use_a_token(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    token, key = do_create_token(world.lead, name="notebook sync", actor=world.lead)
    assert Client().get("/api/profiles/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    leila = people.person_for_login(world.lead)
    approver = client_for(world.approver)
    page = approver.get(f"/people/{leila.pk}/").content.decode()
    assert f"/offboarding/new/?person={leila.pk}" in page
    preview = approver.get("/offboarding/new/", {"person": leila.pk}).content.decode()
    assert "user profile leila" in preview and "portal login leila" in preview
    assert 'name="close_login"' not in preview  # only a platform admin may keep the login
    created = approver.post("/offboarding/new/", {"person": leila.pk, "reason": "Left the company"})
    plan = Offboarding.objects.get()
    assert created["Location"] == plan.get_absolute_url() and plan.person == leila and plan.close_login
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.approver2).post(f"/offboarding/{plan.pk}/approve/")
    plan.refresh_from_db()
    assert plan.status == "done", plan.error
    world.lead.refresh_from_db()
    assert not world.lead.is_active and not world.lead.role_assignments.exists()
    assert not Client().login(username="leila", password="x")  # noqa: S106 - any password: the login is off
    assert Client().get("/api/profiles/", HTTP_AUTHORIZATION=f"Token {key}").status_code in (401, 403)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_only_an_admin_keeps_the_login_and_says_why(world: World) -> None:
    from django.core.exceptions import ValidationError

    from onboarding import services

    with pytest.raises(ValidationError, match="Only a platform admin may keep"):
        services.do_plan_offboarding(actor=world.approver, person=world.lead, reason="Moved", close_login=False)
    with pytest.raises(ValidationError, match="Say why the portal login stays"):
        services.do_plan_offboarding(actor=world.admin, person=world.lead, reason="Moved", close_login=False)
    plan = services.do_plan_offboarding(
        actor=world.admin, person=world.lead, reason="Moved", close_login=False, keep_login_reason="Still a lead"
    )
    assert "close_login" not in set(plan.steps.values_list("action", flat=True))
    assert plan.keep_login_reason == "Still a lead"


def test_a_person_without_a_portal_login_can_be_offboarded(world: World) -> None:
    from domains.models import Person
    from onboarding import services
    from profiles.models import UserProfile

    ghost = Person.objects.create(display_name="Gus Ghost", email="gus@example.com")
    UserProfile.objects.filter(name="leila").update(person=ghost, owner=None)
    plan = services.do_plan_offboarding(actor=world.approver, person=ghost, reason="Left")
    assert plan.login is None
    assert list(plan.steps.values_list("action", flat=True)) == ["delete_profile"]
