"""The onboarding API: the same rules and messages as the pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from onboarding.models import PersonaTemplate, ProfileRequest, SpaceRequest
from tests.inventory import ROLE
from tests.onboarding.world import World

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_script_requests_and_an_approver_approves_a_profile(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    response = api(world.scientist).post(
        "/api/profile-requests/", {"domain": world.research.arn, "template": world.persona.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["profile_name"], body["status"], body["request_id"]) == ("maria", "submitted", f"PR-{body['id']}")
    again = api(world.scientist).post(
        "/api/profile-requests/", {"domain": world.research.arn, "template": world.persona.pk}, format="json"
    )
    assert again.status_code == 400
    assert "one person, one profile per domain" in again.json()["detail"][0]
    mine = api(world.scientist).post(f"/api/profile-requests/{body['id']}/approve/")
    assert mine.status_code == 400 and "Only an approver of the domain research" in mine.json()["detail"][0]
    with django_capture_on_commit_callbacks(execute=True):
        decided = api(world.approver).post(f"/api/profile-requests/{body['id']}/approve/")
    assert decided.status_code == 200 and decided.json()["decided_by"] == "arjun"
    final = api(world.scientist).get(f"/api/profile-requests/{body['id']}/").json()
    assert final["status"] == "active" and final["profile_arn"].endswith("/maria")


def test_rejecting_through_the_api_needs_a_reason(world: World) -> None:
    req = (
        api(world.scientist)
        .post("/api/profile-requests/", {"domain": world.research.arn, "template": world.persona.pk}, format="json")
        .json()
    )
    response = api(world.approver).post(f"/api/profile-requests/{req['id']}/reject/", {}, format="json")
    assert response.status_code == 400 and response.json() == {
        "reason": ["Say why the request is rejected; the requester reads it."]
    }
    response = api(world.approver).post(
        f"/api/profile-requests/{req['id']}/reject/", {"reason": "Wrong domain"}, format="json"
    )
    assert response.json()["status"] == "rejected"


def test_an_outsider_gets_404_from_the_api(world: World) -> None:
    req = (
        api(world.scientist)
        .post("/api/profile-requests/", {"domain": world.research.arn, "template": world.persona.pk}, format="json")
        .json()
    )
    outsider = api(world.outsider)
    assert outsider.get(f"/api/profile-requests/{req['id']}/").status_code == 404
    assert outsider.post(f"/api/profile-requests/{req['id']}/approve/").status_code == 404
    assert outsider.get(f"/api/personas/{world.persona.pk}/").status_code == 404
    assert ProfileRequest.objects.get().status == "submitted"


def test_a_lead_requests_a_space_through_the_api_with_its_estimate(world: World) -> None:
    estimate = api(world.lead).get("/api/space-requests/estimate/", {"instance_type": "ml.m5.large", "ebs_size_gb": 50})
    assert estimate.json()["total"] == "26.32" and "2026-11-01" in estimate.json()["prices_source"]
    bad = api(world.lead).get("/api/space-requests/estimate/", {"instance_type": "ml.x", "ebs_size_gb": 5})
    assert bad.status_code == 400 and "instance_type" in bad.json()
    fields = world.space_fields()
    payload = {**fields, "domain": world.research.arn, "expires_on": fields["expires_on"].isoformat()}
    too_big = api(world.lead).post("/api/space-requests/", {**payload, "ebs_size_gb": 500}, format="json")
    assert too_big.status_code == 400 and too_big.json() == {"ebs_size_gb": ["Between 5 and 100 GB in research."]}
    created = api(world.lead).post("/api/space-requests/", payload, format="json")
    assert created.status_code == 201 and created.json()["estimated_monthly_usd"] == "26.32"
    assert created.json()["owner_profile"] == "leila"
    later = (timezone.localdate() + timedelta(days=500)).isoformat()
    extend = api(world.lead).post(
        f"/api/space-requests/{created.json()['id']}/extend/", {"expires_on": later}, format="json"
    )
    assert extend.status_code == 400  # only a live space is extended
    assert SpaceRequest.objects.count() == 1


def test_approvers_write_personas_others_read_them(world: World) -> None:
    payload = {
        "domain": world.research.arn,
        "name": "Analyst",
        "execution_role": ROLE,
        "allowed_instance_types": ["ml.t3.medium"],
        "idle_timeout_minutes": 60,
    }
    assert api(world.scientist).post("/api/personas/", payload, format="json").status_code == 404  # manages nothing
    assert api(world.scientist).get("/api/personas/").json()["count"] == 2  # research and risk, not other
    bad = api(world.approver).post("/api/personas/", {**payload, "allowed_instance_types": ["ml.nope"]}, format="json")
    assert bad.status_code == 400 and "allowed_instance_types" in bad.json()
    created = api(world.approver).post("/api/personas/", payload, format="json")
    assert created.status_code == 201, created.json()
    persona = PersonaTemplate.objects.get(name="Analyst")
    patched = api(world.approver).patch(f"/api/personas/{persona.pk}/", {"idle_timeout_minutes": 240}, format="json")
    assert patched.status_code == 200 and patched.json()["idle_timeout_minutes"] == 240
    moved = api(world.approver).patch(f"/api/personas/{persona.pk}/", {"domain": world.risk.arn}, format="json")
    assert moved.status_code == 400


def test_offboarding_through_the_api(world: World) -> None:
    plan = api(world.approver).get("/api/offboardings/plan/", {"person": "leila"})
    assert [s["action"] for s in plan.json()] == ["delete_profile", "close_login"]
    created = api(world.approver).post("/api/offboardings/", {"person": "leila", "reason": "Moved team"}, format="json")
    assert created.status_code == 201 and created.json()["steps"][0]["target"] == "user profile leila"
    own = api(world.approver).post(f"/api/offboardings/{created.json()['id']}/approve/")
    assert own.status_code == 400 and "Nobody approves their own plan" in own.json()["detail"][0]
    assert api(world.lead).get("/api/offboardings/").status_code == 404
