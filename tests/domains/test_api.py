"""The inventory REST API: token auth, the same scoping and filters as the pages, accounts and sync runs."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from domains.models import AwsAccount
from portal.apitokens import do_create_token
from portal.models import TaskRun
from tests.factories import (
    TEST_PASSWORD,
    AppFactory,
    DomainFactory,
    SpaceFactory,
    UserFactory,
    UserProfileFactory,
    grant,
)
from tests.inventory import build_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    risk, research = DomainFactory(name="risk", studio_experience="classic"), DomainFactory(name="research")
    approver = UserFactory(username="approver")
    grant(approver, "domain_approver", risk)
    outsider = UserFactory(username="outsider")
    grant(outsider, "domain_approver", research)
    profile = UserProfileFactory(domain=risk, name="maria-garcia")
    space = SpaceFactory(domain=risk, owner_profile=profile)
    app = AppFactory(domain=risk, user_profile=profile)
    return {
        "risk": risk,
        "research": research,
        "approver": approver,
        "outsider": outsider,
        "profile": profile,
        "space": space,
        "app": app,
        "admin": UserFactory(username="root", is_superuser=True),
    }


def api(user: Any) -> APIClient:
    client = APIClient()
    _, key = do_create_token(user, name="test", actor="test")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_script_gets_a_token_with_its_password_and_lists_domains(world: dict[str, Any]) -> None:
    client = APIClient()
    token = client.post("/api/auth/token/", {"username": "approver", "password": TEST_PASSWORD}).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    body = client.get("/api/domains/").json()
    assert [d["name"] for d in body["results"]] == ["risk"]
    assert body["results"][0]["profile_count"] == 1 and body["results"][0]["running_app_count"] == 1


def test_anonymous_calls_are_refused(world: dict[str, Any]) -> None:
    assert APIClient().get("/api/domains/").status_code in (401, 403)


@pytest.mark.parametrize(
    ("path", "key"),
    [("domains", "risk"), ("profiles", "profile"), ("spaces", "space"), ("apps", "app")],
)
def test_an_outsider_gets_404_from_the_api(world: dict[str, Any], path: str, key: str) -> None:
    assert api(world["outsider"]).get(f"/api/{path}/{world[key].pk}/").status_code == 404
    assert api(world["approver"]).get(f"/api/{path}/{world[key].pk}/").status_code == 200


def test_the_api_shares_the_pages_filters(world: dict[str, Any]) -> None:
    client = api(world["admin"])
    assert [d["name"] for d in client.get("/api/domains/", {"studio_experience": "classic"}).json()["results"]] == [
        "risk"
    ]
    names = [p["name"] for p in client.get("/api/profiles/", {"q": "garcia"}).json()["results"]]
    assert names == ["maria-garcia"]
    assert client.get("/api/profiles/", {"idle_shutdown": "sometimes"}).status_code == 400


def test_accounts_api_is_for_admins(world: dict[str, Any], aws_sandbox: None) -> None:
    assert api(world["approver"]).get("/api/accounts/").json()["results"] == []
    refused = api(world["approver"]).post(
        "/api/accounts/", {"account_id": "123456789012", "name": "x", "regions": ["us-east-1"]}, format="json"
    )
    assert refused.status_code == 403
    created = api(world["admin"]).post(
        "/api/accounts/", {"account_id": "123456789012", "name": "Sandbox", "regions": ["us-east-1"]}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["verified_identity"].startswith("arn:aws:")


def test_the_accounts_api_explains_bad_input(world: dict[str, Any], aws_sandbox: None) -> None:
    bad = api(world["admin"]).post(
        "/api/accounts/", {"account_id": "12", "name": "x", "regions": ["mars-1"]}, format="json"
    )
    assert bad.status_code == 400
    assert "region" in str(bad.json()).lower() or "12 digits" in str(bad.json())
    unreachable = api(world["admin"]).post(
        "/api/accounts/", {"account_id": "210987654321", "name": "x", "regions": ["us-east-1"]}, format="json"
    )
    assert unreachable.status_code == 400
    assert "not 210987654321" in unreachable.json()["non_field_errors"][0]
    assert not AwsAccount.objects.filter(account_id__in=["12", "210987654321"]).exists()


def test_a_script_starts_a_sync_and_a_second_request_joins_it(world: dict[str, Any], aws_sandbox: None) -> None:
    build_org(domains=1, profiles=1, spaces=0)
    AwsAccount.objects.create(account_id="123456789012", name="Sandbox", regions=["us-east-1"])
    client = api(world["admin"])
    first = client.post("/api/sync-runs/", {}, format="json")
    assert first.status_code == 201
    again = client.post("/api/sync-runs/", {}, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    listed = client.get("/api/sync-runs/", {"status": "queued"}).json()["results"]
    assert [r["id"] for r in listed] == [first.json()["id"]]


def test_an_outsider_cannot_sync_another_domain_through_the_api(world: dict[str, Any]) -> None:
    response = api(world["outsider"]).post("/api/sync-runs/", {"domain": world["risk"].domain_id}, format="json")
    assert response.status_code == 404
    assert not TaskRun.objects.exists()


def test_the_schema_describes_the_inventory_endpoints(world: dict[str, Any]) -> None:
    schema = api(world["admin"]).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/domains/", "/api/profiles/", "/api/spaces/", "/api/apps/", "/api/accounts/", "/api/sync-runs/"):
        assert path in schema["paths"]
