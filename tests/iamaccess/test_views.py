"""The execution-role pages and API: who sees which role, what a role's page shows, starting a review."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from domains.models import Domain
from iamaccess.models import ExecutionRole, RoleUse
from portal.models import RoleAssignment, TaskRun
from tests.factories import UserFactory, grant
from tests.iamaccess.world import role_arn

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def people(reviewed: TaskRun) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.in_bulk(["admin", "approver", "finance", "scientist"], field_name="username")
    legacy = UserFactory(username="legacy-approver")
    grant(legacy, RoleAssignment.Role.DOMAIN_APPROVER, Domain.objects.get(name="legacy-forecasting"))
    return {**users, "outsider": legacy}


def test_approvers_see_the_roles_of_their_domains_only(people: dict[str, Any]) -> None:
    page = client_for(people["approver"]).get(reverse("iamaccess:role-list"))
    names = [r.name for r in page.context["object_list"]]
    assert "RiskAnalyticsExecution" in names and "ForecastingExecution" not in names
    assert "payments-fraud" in page.content.decode() and "Probes allowed" in page.content.decode()
    outsider = client_for(people["outsider"]).get(reverse("iamaccess:role-list"))
    assert [r.name for r in outsider.context["object_list"]] == ["ForecastingExecution"]
    for who in ("finance", "scientist"):
        empty = client_for(people[who]).get(reverse("iamaccess:role-list"))
        assert list(empty.context["object_list"]) == [] and "No execution role to show" in empty.content.decode()


def test_a_role_of_another_domain_is_not_found(people: dict[str, Any]) -> None:
    risk = ExecutionRole.objects.get(arn=role_arn("risk"))
    for who in ("outsider", "finance", "scientist"):
        client = client_for(people[who])
        assert client.get(reverse("iamaccess:role-detail", args=[risk.pk])).status_code == 404, who
        assert client.get(f"/api/execution-roles/{risk.pk}/").status_code == 404, who
    assert client_for(people["admin"]).get(reverse("iamaccess:role-detail", args=[risk.pk])).status_code == 200


def test_the_role_page_shows_what_it_serves_its_policies_probes_and_findings(people: dict[str, Any]) -> None:
    risk = ExecutionRole.objects.get(arn=role_arn("risk"))
    page = client_for(people["approver"]).get(reverse("iamaccess:role-detail", args=[risk.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "sofia-rossi" in text and "User profile" in text  # what it acts for
    assert "RiskAnalyticsDomainIsolation" in text and "CreateInTheDomainOnly" in text  # policy and statement
    assert 'data-outcome="explicitDeny"' in text and "sagemaker:CreateAutoMLJobV2" in text  # AutoML is denied
    assert 'data-outcome="allowed"' in text
    codes = {f.check_id for f in page.context["findings"]}
    assert {"SE-06", "SE-07", "SE-08"} <= codes and "SE-05" not in codes


def test_the_role_list_pins_its_queries_whatever_the_number_of_roles(
    people: dict[str, Any], django_assert_num_queries: Any
) -> None:
    client = client_for(people["approver"])
    url = reverse("iamaccess:role-list")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    domain = Domain.objects.get(name="research-lab")
    for n in range(20):
        role = ExecutionRole.objects.create(
            arn=f"{role_arn('research')}-{n}", aws_account_id="271828182845", name=f"R{n}"
        )
        RoleUse.objects.create(role=role, domain=domain, kind=RoleUse.Kind.DOMAIN_DEFAULT, source="domain default")
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(url)
    assert len(page.context["object_list"]) == 24


def test_the_list_filters_by_domain_and_account_and_refuses_other_domains(people: dict[str, Any]) -> None:
    client = client_for(people["approver"])
    risk = Domain.objects.get(name="risk-analytics")
    names = [
        r.name for r in client.get(reverse("iamaccess:role-list"), {"domain": risk.domain_id}).context["object_list"]
    ]
    assert names == ["RiskAnalyticsExecution"]
    api = client.get("/api/execution-roles/", {"account": "271828182845"}).json()
    assert [r["name"] for r in api["results"]] == ["ResearchLabExecution"]
    legacy = Domain.objects.get(name="legacy-forecasting")
    assert client.get("/api/execution-roles/", {"domain": legacy.domain_id}).status_code == 400
    found = client.get("/api/execution-roles/", {"q": "fraud"}).json()["results"]
    assert [r["name"] for r in found] == ["PaymentsFraudExecution"]


def test_the_api_gives_a_role_with_its_uses_probes_and_findings(people: dict[str, Any]) -> None:
    client = client_for(people["approver"])
    rows = client.get("/api/execution-roles/").json()["results"]
    risk = next(r for r in rows if r["name"] == "RiskAnalyticsExecution")
    assert risk["domains"] == [Domain.objects.get(name="risk-analytics").domain_id]
    assert risk["summary"]["allowed"] > 0 and risk["simulated_at"]
    detail = client.get(f"/api/execution-roles/{risk['id']}/").json()
    assert detail["policies"]["attached"][0]["name"] == "RiskAnalyticsDomainIsolation"
    assert any(u["name"] == "sofia-rossi" and u["kind"] == "profile" for u in detail["uses"])
    automl = next(p for p in detail["probes"] if p["action"] == "sagemaker:CreateAutoMLJobV2")
    assert automl["outcome"] == "explicitDeny" and automl["matched"][0]["policy"].endswith(
        "RiskAnalyticsDomainIsolation"
    )
    assert detail["finding_ids"]


def test_a_review_is_started_by_admins_for_all_and_approvers_for_their_domain(people: dict[str, Any]) -> None:
    risk = Domain.objects.get(name="risk-analytics")
    legacy = Domain.objects.get(name="legacy-forecasting")
    approver = client_for(people["approver"])
    assert approver.post("/api/iam-reviews/", {}, content_type="application/json").status_code == 403
    assert (
        approver.post("/api/iam-reviews/", {"domain": legacy.domain_id}, content_type="application/json").status_code
        == 404
    )
    started = approver.post("/api/iam-reviews/", {"domain": risk.domain_id}, content_type="application/json")
    assert started.status_code == 201 and started.json()["scope"] == {"domain_arn": risk.arn}
    again = approver.post("/api/iam-reviews/", {"domain": risk.domain_id}, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == started.json()["id"]  # joined, not doubled
    admin = client_for(people["admin"]).post("/api/iam-reviews/", {}, content_type="application/json")
    assert admin.status_code == 201 and admin.json()["scope"] == {}
    assert client_for(people["finance"]).get("/api/iam-reviews/").json()["count"] >= 1  # finance sees every domain's


def test_the_review_button_starts_a_review_and_people_without_the_right_get_404(people: dict[str, Any]) -> None:
    risk = Domain.objects.get(name="risk-analytics")
    before = TaskRun.objects.filter(kind="iam_review").count()
    for who in ("finance", "scientist", "outsider"):
        response = client_for(people[who]).post(reverse("iamaccess:review-start"), {"domain": risk.pk})
        assert response.status_code == 404, who
    assert client_for(people["approver"]).post(reverse("iamaccess:review-start"), {}).status_code == 404
    assert TaskRun.objects.filter(kind="iam_review").count() == before
    response = client_for(people["approver"]).post(
        reverse("iamaccess:review-start"), {"domain": risk.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "IAM review" in response.content.decode()
    response = client_for(people["admin"]).post(reverse("iamaccess:review-start"), {})
    assert response.status_code == 302 and "/execution-roles/reviews/" in response["Location"]
    assert client_for(people["admin"]).post(reverse("iamaccess:review-start"), {"domain": "x"}).status_code == 400


def test_the_domain_page_lists_its_execution_roles_for_its_approvers(people: dict[str, Any]) -> None:
    risk = Domain.objects.get(name="risk-analytics")
    page = client_for(people["approver"]).get(reverse("domains:domain-detail", args=[risk.pk])).content.decode()
    assert 'id="execution-roles"' in page and "RiskAnalyticsExecution" in page and "User profile: 8" in page
    research = Domain.objects.get(name="research-lab")
    scientist = client_for(people["scientist"]).get(reverse("domains:domain-detail", args=[research.pk]))
    assert scientist.status_code == 200 and 'id="execution-roles"' not in scientist.content.decode()
