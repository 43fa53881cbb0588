"""Budgets: services to set them, and their evaluation after each ingestion (one alert per threshold per month).

The services contract (see :mod:`onboarding.services`): ``check_can_manage_budget(actor, domain)`` is the rule and
raises a ``ValidationError``; ``do_set_budget`` and ``do_delete_budget`` always call it, then validate, change and
audit in one transaction. The domain's approvers manage its budget; a system actor (a ``str``: the demo, the cost
ingestion) may too.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from costs import reports
from costs.models import Budget, BudgetAlert, SpendRollup
from domains.models import Domain
from portal import audit
from portal.mail import send_mail_later
from portal.models import RoleAssignment
from portal.roles import role_emails
from portal.scoping import MANAGE, grants_for, is_system_actor

Role = RoleAssignment.Role
AUDIT_ACTIONS = {
    "budget.set": "Budget set or changed",
    "budget.deleted": "Budget removed",
    "budget.threshold_crossed": "Budget threshold crossed",
}


def check_can_manage_budget(actor: Any, domain: Domain) -> None:
    if not is_system_actor(actor) and not grants_for(actor).allows(MANAGE, domain.arn):
        raise ValidationError(f"Only an approver of {domain.name} may set or remove its budget.")


def do_set_budget(domain: Domain, *, monthly_amount: Decimal, thresholds: list[int], actor: Any) -> Budget:
    """Create or change a domain's budget; validated before anything is stored, audited with before and after."""
    check_can_manage_budget(actor, domain)
    budget = Budget.objects.filter(domain=domain).first()
    before = {"monthly_amount": str(budget.monthly_amount), "thresholds": budget.thresholds} if budget else None
    candidate = budget or Budget(domain=domain)
    candidate.monthly_amount = monthly_amount
    candidate.thresholds = sorted(thresholds)
    candidate.updated_by = actor if actor is not None and not isinstance(actor, str) else None
    candidate.full_clean(exclude=["domain", "updated_by"])
    if candidate.monthly_amount <= 0:
        raise ValidationError({"monthly_amount": "A budget is more than zero."})
    with transaction.atomic():
        candidate.save()
        audit.record(
            "budget.set",
            candidate,
            actor=actor,
            domain_arn=domain.arn,
            before=before,
            after={"monthly_amount": str(candidate.monthly_amount), "thresholds": candidate.thresholds},
        )
    return candidate


def do_delete_budget(budget: Budget, *, actor: Any) -> None:
    check_can_manage_budget(actor, budget.domain)
    with transaction.atomic():
        audit.record(
            "budget.deleted",
            budget,
            actor=actor,
            domain_arn=budget.domain.arn,
            before={"monthly_amount": str(budget.monthly_amount), "thresholds": budget.thresholds},
        )
        budget.delete()


def statuses(budgets: Any, today: date) -> dict[int, dict[str, Any]]:
    """This month's spend and forecast against each budget, by domain id (three queries in all)."""
    budgets = list(budgets.select_related("domain"))
    arns = [b.domain.arn for b in budgets]
    figures = reports.month_figures_by_domain(SpendRollup.objects.filter(domain_arn__in=arns), today)
    none = reports.figures_from_days({}, None, today)
    result = {}
    for budget in budgets:
        found = figures.get(budget.domain.arn, none)
        amount = budget.monthly_amount
        result[budget.domain_id] = {
            "budget": budget,
            "spend": found["month_to_date"],
            "forecast": found["forecast"],
            "spend_percent": (found["month_to_date"] / amount * 100).quantize(Decimal("0.1")),
            "forecast_percent": (found["forecast"] / amount * 100).quantize(Decimal("0.1")),
            "over": found["month_to_date"] > amount,
            "forecast_over": found["forecast"] > amount,
        }
    return result


def budget_status(budget: Budget, today: date) -> dict[str, Any]:
    """This month's spend and forecast against one budget."""
    return statuses(Budget.objects.filter(pk=budget.pk), today)[budget.domain_id]


@transaction.atomic
def evaluate_budgets(today: date) -> list[BudgetAlert]:
    """Record (and mail, after commit) every threshold crossed this month that was not alerted yet.

    Each alert's email is recorded with the alert and sent by its own task, so a mail server error for one alert
    never keeps the others from going out."""
    month = reports.month_start(today)
    new_alerts: list[BudgetAlert] = []
    for status in statuses(Budget.objects.all(), today).values():
        budget = status["budget"]
        for threshold in sorted(budget.thresholds):
            limit = (budget.monthly_amount * threshold / 100).quantize(reports.CENT)
            for basis, value in (
                (BudgetAlert.Basis.ACTUAL, status["spend"]),
                (BudgetAlert.Basis.FORECAST, status["forecast"]),
            ):
                if value < limit:
                    continue
                alert, created = BudgetAlert.objects.get_or_create(
                    budget=budget,
                    month=month,
                    threshold=threshold,
                    basis=basis,
                    defaults={"spend": value, "limit": limit},
                )
                if created:
                    alert.recipients = recipients(budget.domain)
                    alert.save(update_fields=["recipients"])
                    audit.record(
                        "budget.threshold_crossed",
                        alert,
                        actor="cost ingestion",
                        domain_arn=budget.domain.arn,
                        after={
                            "threshold": threshold,
                            "basis": basis,
                            "spend": str(value),
                            "limit": str(limit),
                            "month": month.isoformat(),
                        },
                    )
                    send_alert(alert)
                    new_alerts.append(alert)
    return new_alerts


def recipients(domain: Domain) -> list[str]:
    """The domain's approvers and finance (for every domain or this one), by email."""
    return role_emails([Role.DOMAIN_APPROVER, Role.FINANCE], [domain.arn])


def send_alert(alert: BudgetAlert) -> None:
    """Record the alert's email; it goes out once the transaction that recorded the alert commits."""
    domain = alert.budget.domain
    what = "has reached" if alert.basis == BudgetAlert.Basis.ACTUAL else "is forecast to reach"
    subject = (
        f"Budget {alert.threshold}%: {domain.name} {what} ${alert.spend} of ${alert.budget.monthly_amount} "
        f"({alert.month:%B %Y})"
    )
    link = f"{settings.PORTAL_BASE_URL.rstrip('/')}/costs/?domain={domain.arn}"
    body = (
        f"SageMaker spend of the domain {domain.name} ({domain.domain_id}, account {domain.account.account_id}) "
        f"{what} {alert.threshold}% of its monthly budget for {alert.month:%B %Y}.\n\n"
        f"{alert.get_basis_display()}: ${alert.spend}\nThreshold: ${alert.limit} ({alert.threshold}% of "
        f"${alert.budget.monthly_amount})\n\nSee the spend: {link}\n"
    )
    send_mail_later(subject, body, alert.recipients)
