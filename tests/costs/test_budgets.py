"""Budgets: set by a domain's approvers, evaluated after each ingestion, one alert per threshold per month."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from costs.budgets import do_set_budget, evaluate_budgets
from costs.models import Budget, BudgetAlert, SpendRollup
from portal.models import AuditEvent, OutgoingMail
from portal.tasks import send_outgoing_mail
from tests.factories import DomainFactory, UserFactory, grant

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def world() -> dict[str, Any]:
    risk, research = DomainFactory(name="risk"), DomainFactory(name="research")
    approver = UserFactory(username="approver", email="approver@example.com")
    grant(approver, "domain_approver", risk)
    finance = UserFactory(username="finance", email="finance@example.com")
    grant(finance, "finance")
    outsider = UserFactory(username="outsider", email="outsider@example.com")
    grant(outsider, "domain_approver", research)
    return {"risk": risk, "research": research, "approver": approver, "finance": finance, "outsider": outsider}


def month_spend(domain: Any, amount: str, days_ago: int = 0) -> None:
    day = TODAY - timedelta(days=days_ago)
    for period, start in (("day", day), ("month", day.replace(day=1))):
        rollup, _ = SpendRollup.objects.get_or_create(
            payer=domain.account,
            period=period,
            start=start,
            level="domain",
            domain_arn=domain.arn,
            key_arn=domain.arn,
            defaults={"amount": Decimal(0)},
        )
        rollup.amount += Decimal(amount)
        rollup.save()


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_approver_sets_a_budget_from_the_page(world: dict[str, Any]) -> None:
    url = reverse("costs:budget-form", args=[world["risk"].pk])
    response = client_for(world["approver"]).post(url, {"monthly_amount": "1000", "thresholds": "100, 50%, 80"})
    assert response.status_code == 302
    budget = Budget.objects.get(domain=world["risk"])
    assert budget.monthly_amount == Decimal("1000") and budget.thresholds == [50, 80, 100]
    assert AuditEvent.objects.filter(action="budget.set", actor=world["approver"]).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"monthly_amount": "0", "thresholds": "50"}, "greater than or equal to 0.01"),
        ({"monthly_amount": "100", "thresholds": "fifty"}, "whole percentages"),
        ({"monthly_amount": "100", "thresholds": "50, 50"}, "listed twice"),
        ({"monthly_amount": "100", "thresholds": "500"}, "from 1 to 200"),
        ({"monthly_amount": "100", "thresholds": "10, 20, 30, 40, 50, 60"}, "At most 5 thresholds"),
    ],
)
def test_bad_budgets_are_refused_with_a_reason(world: dict[str, Any], data: dict[str, str], message: str) -> None:
    body = client_for(world["approver"]).post(reverse("costs:budget-form", args=[world["risk"].pk]), data)
    assert message in body.content.decode()
    assert not Budget.objects.exists()


def test_others_cannot_change_a_domains_budget(world: dict[str, Any]) -> None:
    url = reverse("costs:budget-form", args=[world["risk"].pk])
    assert client_for(world["outsider"]).get(url).status_code == 404
    assert client_for(world["finance"]).post(url, {"monthly_amount": "1", "thresholds": "50"}).status_code == 404
    listing = client_for(world["outsider"]).get(reverse("costs:budget-list")).content.decode()
    assert "risk" not in listing


def test_each_threshold_alerts_once_a_month_on_actual_and_forecast(world: dict[str, Any]) -> None:
    do_set_budget(world["risk"], monthly_amount=Decimal("1000"), thresholds=[50, 80, 100], actor="test")
    month_spend(world["risk"], "600")
    with_callbacks = evaluate_budgets(TODAY)
    actual = {a.threshold for a in with_callbacks if a.basis == "actual"}
    assert actual == {50}
    assert BudgetAlert.objects.filter(basis="actual").count() == 1
    assert evaluate_budgets(TODAY) == []  # nothing new: no second alert for the same threshold this month
    month_spend(world["risk"], "250")
    again = evaluate_budgets(TODAY)
    assert {(a.threshold, a.basis) for a in again if a.basis == "actual"} == {(80, "actual")}
    alert = BudgetAlert.objects.get(threshold=80, basis="actual")
    assert alert.recipients == ["approver@example.com", "finance@example.com"]


def test_alert_emails_go_out_after_commit(world: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    do_set_budget(world["risk"], monthly_amount=Decimal("100"), thresholds=[50], actor="test")
    month_spend(world["risk"], "75")
    with django_capture_on_commit_callbacks() as callbacks:
        evaluate_budgets(TODAY)
    queued = list(OutgoingMail.objects.filter(state="queued"))
    assert len(queued) == len(callbacks) == 2 and mail.outbox == []  # actual and forecast, recorded with the alerts
    for outgoing in queued:
        send_outgoing_mail(outgoing.pk)
    subjects = [m.subject for m in mail.outbox]
    assert any(s.startswith("Budget 50%: risk has reached $75.00") for s in subjects)
    assert all("outsider@example.com" not in m.to for m in mail.outbox)
    assert "/costs/?domain=" in mail.outbox[0].body


def test_the_domain_page_and_the_dashboard_show_the_budget(world: dict[str, Any]) -> None:
    do_set_budget(world["risk"], monthly_amount=Decimal("200"), thresholds=[80], actor="test")
    month_spend(world["risk"], "190")
    page = client_for(world["approver"]).get(reverse("domains:domain-detail", args=[world["risk"].pk]))
    assert "$190.00 spent this month of $200.00 (95.0%)" in page.content.decode()
    dashboard = client_for(world["finance"]).get(reverse("costs:dashboard"))
    risk_row = next(r for r in dashboard.context["domains"] if r["name"] == "risk")
    assert risk_row["budget"]["spend_percent"] == Decimal("95.0")


def test_a_data_scientist_does_not_see_the_domains_budget(world: dict[str, Any]) -> None:
    scientist = UserFactory(username="maria")
    grant(scientist, "data_scientist", world["risk"])
    do_set_budget(world["risk"], monthly_amount=Decimal("200"), thresholds=[80], actor="test")
    month_spend(world["risk"], "190")
    page = client_for(scientist).get(reverse("domains:domain-detail", args=[world["risk"].pk])).content.decode()
    assert "spent this month" not in page


def test_only_the_domains_approvers_set_or_remove_its_budget(world: dict[str, Any]) -> None:
    from django.core.exceptions import ValidationError

    from costs.budgets import do_delete_budget

    for who in (world["finance"], world["outsider"]):
        with pytest.raises(ValidationError, match="Only an approver of risk"):
            do_set_budget(world["risk"], monthly_amount=Decimal("10"), thresholds=[50], actor=who)
    budget = do_set_budget(world["risk"], monthly_amount=Decimal("10"), thresholds=[50], actor=world["approver"])
    with pytest.raises(ValidationError, match="Only an approver of risk"):
        do_delete_budget(budget, actor=world["outsider"])
    assert Budget.objects.filter(pk=budget.pk).exists()


def test_a_budget_forecast_over_its_amount_is_not_shown_as_fine(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    monkeypatch.setattr(timezone, "localdate", lambda *args: date(2026, 3, 6))
    do_set_budget(world["risk"], monthly_amount=Decimal("4500"), thresholds=[80], actor="test")
    for day in range(1, 7):  # $31.81 a day, then a $1,000 day: 26% spent, the last 7 days' pace ends far over
        for period, start in (("day", date(2026, 3, day)), ("month", date(2026, 3, 1))):
            rollup, _ = SpendRollup.objects.get_or_create(
                payer=world["risk"].account,
                period=period,
                start=start,
                level="domain",
                domain_arn=world["risk"].arn,
                key_arn=world["risk"].arn,
                defaults={"amount": Decimal(0)},
            )
            rollup.amount += Decimal("31.81") if day < 6 else Decimal("31.81") + Decimal("1000")
            rollup.save()
    budgets_page = client_for(world["finance"]).get(reverse("costs:budget-list")).content.decode()
    assert "Forecast to month end" in budgets_page
    assert "over, " in budgets_page and "badge-bad" in budgets_page
    dashboard = client_for(world["finance"]).get(reverse("costs:dashboard"))
    risk_row = next(r for r in dashboard.context["domains"] if r["name"] == "risk")
    assert risk_row["budget"]["spend_percent"] < 100 and risk_row["budget"]["forecast_over"]
    assert "over budget, " in dashboard.content.decode()
