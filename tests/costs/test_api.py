"""The costs API: the same figures and scoping as the pages; budgets; ingestion runs."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from costs.models import Budget
from portal.models import TaskRun
from tests.costs.test_views import TODAY, spend
from tests.factories import DomainFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    risk, research = DomainFactory(name="risk"), DomainFactory(name="research")
    finance = UserFactory(username="finance")
    grant(finance, "finance")
    approver = UserFactory(username="approver")
    grant(approver, "domain_approver", risk)
    lead = UserFactory(username="lead")
    grant(lead, "team_lead", research)
    spend(risk, "100.50", 1)
    spend(research, "40.25", 2)
    return {"risk": risk, "research": research, "finance": finance, "approver": approver, "lead": lead}


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_summary_matches_the_dashboard_and_is_scoped(world: dict[str, Any]) -> None:
    body = api(world["finance"]).get("/api/costs/summary/").json()
    assert [(r["name"], r["amount"]) for r in body["results"]] == [("risk", "100.50"), ("research", "40.25")]
    assert body["data_through"] == (TODAY - timedelta(days=1)).isoformat()
    lead = api(world["lead"]).get("/api/costs/summary/").json()
    assert [r["name"] for r in lead["results"]] == ["research"]
    assert api(world["finance"]).get("/api/costs/summary/", {"group": "team"}).status_code == 400
    bad = api(world["finance"]).get("/api/costs/summary/", {"start": "2026-02-01", "end": "2026-01-01"})
    assert bad.status_code == 400 and "before the start" in str(bad.json())


def test_a_data_scientists_summary_is_their_own_spend(world: dict[str, Any]) -> None:
    from tests.factories import UserProfileFactory

    scientist = UserFactory(username="maria")
    grant(scientist, "data_scientist", world["research"])
    own = UserProfileFactory(domain=world["research"], owner=scientist, name="maria-garcia")
    spend(world["research"], "12.00", 2, level="profile", key=own.arn, profile=own)
    body = api(scientist).get("/api/costs/summary/").json()
    assert [(r["name"], r["amount"]) for r in body["results"]] == [("research", "12.00")]
    assert body["data_through"] == (TODAY - timedelta(days=2)).isoformat()
    profiles = api(scientist).get("/api/costs/summary/", {"group": "profile"}).json()["results"]
    assert [r["name"] for r in profiles] == ["maria-garcia"]


def test_rollups_are_listed_within_scope(world: dict[str, Any]) -> None:
    rows = api(world["lead"]).get("/api/costs/rollups/", {"period": "day"}).json()["results"]
    assert {r["domain_arn"] for r in rows} == {world["research"].arn}


def test_an_approver_sets_a_budget_through_the_api_and_others_cannot(world: dict[str, Any]) -> None:
    payload = {"domain_id": world["risk"].domain_id, "monthly_amount": "500.00", "thresholds": [100, 50]}
    created = api(world["approver"]).post("/api/costs/budgets/", payload, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["thresholds"] == [50, 100]
    budget = Budget.objects.get()
    assert api(world["finance"]).get(f"/api/costs/budgets/{budget.pk}/").json()["month_to_date"] == "100.50"
    assert api(world["lead"]).get(f"/api/costs/budgets/{budget.pk}/").status_code == 404
    refused = api(world["finance"]).patch(f"/api/costs/budgets/{budget.pk}/", {"monthly_amount": "1"}, format="json")
    assert refused.status_code == 404  # finance reads budgets, a domain's approvers set them
    changed = api(world["approver"]).patch(f"/api/costs/budgets/{budget.pk}/", {"monthly_amount": "750"}, format="json")
    assert changed.status_code == 200 and Budget.objects.get().monthly_amount == Decimal("750")
    bad = api(world["approver"]).patch(f"/api/costs/budgets/{budget.pk}/", {"thresholds": [50, 50]}, format="json")
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("thresholds", "ok"),
    [
        ([1], True),
        ([200], True),
        ([0], False),
        ([201], False),
        ([10, 20, 30, 40, 50], True),
        ([*range(10, 70, 10)], False),
    ],
)
def test_budget_thresholds_are_bounded_in_value_and_number(world: dict[str, Any], thresholds: list, ok: bool) -> None:
    payload = {"domain_id": world["risk"].domain_id, "monthly_amount": "500.00", "thresholds": thresholds}
    response = api(world["approver"]).post("/api/costs/budgets/", payload, format="json")
    assert (response.status_code == 201) is ok, response.json()
    assert Budget.objects.exists() is ok
    if not ok:
        assert "thresholds" in response.json()


def test_ingestion_runs_start_from_the_api_for_finance_only(world: dict[str, Any]) -> None:
    assert api(world["lead"]).post("/api/costs/runs/", {}, format="json").status_code == 403
    started = api(world["finance"]).post("/api/costs/runs/", {"since": str(TODAY - timedelta(days=3))}, format="json")
    assert started.status_code == 201
    run = TaskRun.objects.get(kind="cost_ingestion")
    assert api(world["finance"]).get(f"/api/costs/runs/{run.pk}/").status_code == 200
    assert api(world["lead"]).get(f"/api/costs/runs/{run.pk}/").status_code == 404
    bad = api(world["finance"]).post("/api/costs/runs/", {"since": "soon"}, format="json")
    assert bad.status_code == 400


def test_cost_run_pages_follow_the_same_rules(world: dict[str, Any]) -> None:
    from django.test import Client
    from django.urls import reverse

    run = TaskRun.objects.create(kind="cost_ingestion", scope_label="all", trigger="schedule")
    finance, lead = Client(), Client()
    finance.force_login(world["finance"])
    lead.force_login(world["lead"])
    assert finance.get(reverse("costs:run-detail", args=[run.pk])).status_code == 200
    assert lead.get(reverse("costs:run-detail", args=[run.pk])).status_code == 404
    assert lead.get(reverse("costs:run-progress", args=[run.pk])).status_code == 404
    assert lead.post(reverse("costs:ingest-start")).status_code == 404
    assert "Cost ingestion runs" in finance.get(reverse("costs:run-list")).content.decode()


def test_the_budget_list_keeps_a_fixed_number_of_queries(world: dict[str, Any]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from costs.budgets import do_set_budget

    do_set_budget(world["risk"], monthly_amount=Decimal("100"), thresholds=[50], actor="test")
    api(world["finance"]).get("/api/costs/budgets/")  # warm Django's per-process caches
    with CaptureQueriesContext(connection) as small:
        assert api(world["finance"]).get("/api/costs/budgets/").status_code == 200
    for _ in range(6):
        domain = DomainFactory()
        spend(domain, "3.00", 1)
        do_set_budget(domain, monthly_amount=Decimal("100"), thresholds=[50], actor="test")
    with CaptureQueriesContext(connection) as large:
        body = api(world["finance"]).get("/api/costs/budgets/").json()
    assert len(large) == len(small)
    assert {b["month_to_date"] for b in body["results"]} >= {"100.50", "3.00"}
