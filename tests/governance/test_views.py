"""Governance pages and API: scoping, filters, CSV, the accept form, the policy page, and the command."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance import engine
from governance.models import Finding, GovernancePolicy
from portal.models import TaskRun
from tests.factories import DomainFactory, UserFactory, UserProfileFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    domain, other = DomainFactory(name="research"), DomainFactory(name="elsewhere")
    approver, scientist, outsider = (
        UserFactory(username="appr"),
        UserFactory(username="sci"),
        UserFactory(username="out"),
    )
    grant(approver, "domain_approver", domain)
    grant(scientist, "data_scientist", domain)
    grant(outsider, "domain_approver", other)
    UserProfileFactory(domain=domain, name="team-shared")
    UserProfileFactory(domain=domain, name="sci-profile", owner=scientist)
    UserProfileFactory(domain=other, name="test-other")
    engine.evaluate()
    return {"domain": domain, "other": other, "approver": approver, "scientist": scientist, "outsider": outsider}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_list_shows_each_person_their_share(world: dict[str, Any]) -> None:
    body = client_for(world["approver"]).get(reverse("governance:finding-list")).content.decode()
    assert "team-shared" in body and "test-other" not in body
    mine = client_for(world["scientist"]).get("/api/findings/").json()
    assert {f["resource_name"] for f in mine["results"]} == {"sci-profile"}  # their own resources only
    outsider = client_for(world["outsider"]).get("/api/findings/", {"domain": world["domain"].domain_id})
    assert outsider.status_code == 400 or outsider.json()["count"] == 0


def test_an_outsider_gets_404_on_a_finding(world: dict[str, Any]) -> None:
    finding = Finding.objects.filter(domain=world["domain"]).first()
    assert client_for(world["outsider"]).get(reverse("governance:finding-detail", args=[finding.pk])).status_code == 404
    assert client_for(world["outsider"]).get(f"/api/findings/{finding.pk}/").status_code == 404


def test_filters_search_and_csv(world: dict[str, Any]) -> None:
    client = client_for(world["approver"])
    api = client.get("/api/findings/", {"check": "ID-01", "severity": "high", "status": "open"}).json()
    assert api["count"] >= 1 and all(f["check_id"] == "ID-01" for f in api["results"])
    body = client.get(reverse("governance:finding-list"), {"q": "team-shared"}).content.decode()
    assert "team-shared" in body and "sci-profile" not in body
    csv = b"".join(
        client.get(reverse("governance:finding-list"), {"format": "csv", "check": "ID-01"}).streaming_content
    )
    assert b"team-shared" in csv and b"test-other" not in csv


def test_the_list_query_count_does_not_grow(world: dict[str, Any], django_assert_num_queries: Any) -> None:
    client = client_for(world["approver"])
    client.get(reverse("governance:finding-list"))  # warm the session
    for n in range(10):
        UserProfileFactory(domain=world["domain"], name=f"shared-{n}")
    engine.evaluate()
    with django_assert_num_queries(7):  # the seventh: the "Fix all N" groups, per check and domain
        assert client.get(reverse("governance:finding-list")).status_code == 200


def test_accepting_from_the_page_and_the_api(world: dict[str, Any]) -> None:
    client = client_for(world["approver"])
    findings = list(Finding.objects.filter(domain=world["domain"], status="open")[:2])
    until = (timezone.localdate() + timedelta(days=30)).isoformat()
    page = client.post(reverse("governance:finding-detail", args=[findings[0].pk]), {"reason": "Lab", "until": until})
    assert page.status_code == 302
    too_long = (timezone.localdate() + timedelta(days=200)).isoformat()
    api = client.post(f"/api/findings/{findings[1].pk}/accept/", {"reason": "Lab", "until": too_long})
    assert api.status_code == 400 and "180" in str(api.json())
    api = client.post(f"/api/findings/{findings[1].pk}/accept/", {"reason": "Lab", "until": until})
    assert api.status_code == 200 and api.json()["status"] == "accepted"
    assert [e["event"] for e in api.json()["history"]] == ["opened", "accepted"]
    lead = UserFactory(username="finance1")
    grant(lead, "finance", world["domain"])
    other = Finding.objects.filter(domain=world["domain"], status="open").first()
    refused = client_for(lead).post(f"/api/findings/{other.pk}/accept/", {"reason": "x", "until": until})
    assert refused.status_code == 400


def test_the_policy_page_and_api(world: dict[str, Any]) -> None:
    client = client_for(world["approver"])
    url = reverse("governance:policy", args=[world["domain"].pk])
    response = client.post(
        url,
        {
            "idle_timeout_cap_minutes": 90,
            "app_idle_hours": 12,
            "gpu_families": "ml.g, ml.p",
            "required_tags": "owner, cost-center",
            "regulated": "yes",
        },
    )
    assert response.status_code == 302
    policy = GovernancePolicy.objects.get(domain=world["domain"])
    assert policy.required_tags == ["owner", "cost-center"] and policy.is_regulated()
    bad = client.put(
        f"/api/governance/policies/{world['domain'].domain_id}/",
        {
            "idle_timeout_cap_minutes": 10,
            "app_idle_hours": 1,
            "gpu_families": [],
            "required_tags": [],
            "regulated": "no",
        },
        content_type="application/json",
    )
    assert bad.status_code == 400 and "525,600" in str(bad.json())
    assert client_for(world["outsider"]).get(url).status_code == 404
    assert (
        client_for(world["scientist"])
        .put(f"/api/governance/policies/{world['domain'].domain_id}/", {}, content_type="application/json")
        .status_code
        == 404
    )


def test_checks_api_counts(world: dict[str, Any]) -> None:
    checks = {c["id"]: c for c in client_for(world["approver"]).get("/api/checks/").json()}
    assert checks["ID-01"]["open"] == 1 and checks["CO-04"]["severity"] == "varies" and checks["UX-01"]["fixable"]


@pytest.mark.django_db(transaction=True)
def test_check_posture_command_records_a_run(world: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    call_command("check_posture", "--domain", world["domain"].domain_id)
    run = TaskRun.objects.get(kind="posture_check")
    assert run.status == "succeeded" and run.domain_arns == [world["domain"].arn]
    assert "Succeeded" in capsys.readouterr().out
