"""What the costs app shows on other apps' pages (registered in :mod:`portal.registry` by :class:`CostsConfig`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from costs.budgets import budget_status
from costs.models import Budget
from domains.models import Domain
from portal.scoping import VIEW_COSTS, grants_for


def domain_budget(request: HttpRequest, domain: Domain) -> dict[str, Any] | None:
    """This month's spend against the domain's budget, for people who read the domain's spend."""
    if not grants_for(request.user).allows(VIEW_COSTS, domain.arn):
        return None
    budget = Budget.objects.filter(domain=domain).first()
    if budget is None:
        return None
    return {"status": budget_status(budget, timezone.localdate())}
