"""Every number a person types has bounds (AWS's limits where AWS has one), the same on the pages and the API;
the edges are tested on both sides."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from onboarding.models import PersonaTemplate, SpacePolicy, SpaceRequest
from tests.inventory import ROLE
from tests.onboarding.world import World

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    ("size", "status"), [(-1000, 400), (0, 400), (4, 400), (5, 200), (16384, 200), (16385, 400), (10**11, 400)]
)
def test_the_estimate_takes_only_sizes_sagemaker_allows(world: World, size: int, status: int) -> None:
    response = api(world.lead).get(
        "/api/space-requests/estimate/", {"instance_type": "ml.t3.medium", "ebs_size_gb": size}
    )
    assert response.status_code == status, response.json()
    if status == 200:
        assert float(response.json()["total"]) > 0
    else:
        assert "ebs_size_gb" in response.json()


@pytest.mark.parametrize(("minutes", "ok"), [(59, False), (60, True), (525600, True), (525601, False)])
def test_idle_shutdown_is_60_to_525600_minutes(world: World, minutes: int, ok: bool) -> None:
    fields = world.space_fields(idle_timeout_minutes=minutes, ebs_size_gb=20)
    payload = {**fields, "domain": world.research.arn, "expires_on": fields["expires_on"].isoformat()}
    response = api(world.lead).post("/api/space-requests/", payload, format="json")
    assert (response.status_code == 201) is ok, response.json()
    if not ok:
        assert "idle_timeout_minutes" in response.json() and not SpaceRequest.objects.exists()
    persona = {
        "domain": world.research.arn,
        "name": f"Idle {minutes}",
        "execution_role": ROLE,
        "allowed_instance_types": ["ml.t3.medium"],
        "idle_timeout_minutes": minutes,
    }
    response = api(world.approver).post("/api/personas/", persona, format="json")
    assert (response.status_code == 201) is ok, response.json()
    assert PersonaTemplate.objects.filter(name=f"Idle {minutes}").exists() is ok


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("max_ebs_gb", 4, False),
        ("max_ebs_gb", 16384, True),
        ("max_ebs_gb", 16385, False),
        ("max_days", 0, False),
        ("max_days", 730, True),
        ("max_days", 731, False),
        ("auto_approve_quota", 0, True),
        ("auto_approve_quota", 100, True),
        ("auto_approve_quota", 101, False),
    ],
)
def test_space_policies_are_bounded(world: World, field: str, value: int, ok: bool) -> None:
    policy = SpacePolicy.objects.get(domain=world.research)
    response = api(world.approver).patch(f"/api/space-policies/{policy.pk}/", {field: value}, format="json")
    assert (response.status_code == 200) is ok, response.json()
    policy.refresh_from_db()
    assert (getattr(policy, field) == value) is ok
    if not ok:
        assert field in response.json()


def test_the_estimate_follows_a_domain_change_without_an_error(world: World) -> None:
    from django.test import Client

    client = Client()
    client.force_login(world.outsider)  # team lead of other, whose policy offers only ml.t3.medium
    response = client.get(
        "/requests/spaces/new/",
        {"domain": world.other.pk, "instance_type": "ml.m5.large", "ebs_size_gb": "20"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "ml.t3.medium at $" in response.content.decode()
