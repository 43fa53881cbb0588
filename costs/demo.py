"""Demo data of the costs app: the first ingestion of the demo bill (13 months) and a few budgets."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.utils import timezone

from costs.budgets import do_set_budget, evaluate_budgets
from costs.ingest import start_cost_ingestion
from domains.models import Domain
from portal.models import TaskRun
from portal.runs import summary_text

# Monthly budgets (USD) of some demo domains: one comfortably within, one tight, one overrun.
DEMO_BUDGETS = {"risk-analytics": Decimal("900"), "payments-fraud": Decimal("250"), "research-lab": Decimal("4500")}


def setup_demo(log: Callable[[str], None]) -> None:
    run, _ = start_cost_ingestion(trigger=TaskRun.Trigger.COMMAND, inline=True)
    log(f"Cost ingestion #{run.pk}: {run.get_status_display()}, {summary_text(run)}.")
    for domain in Domain.objects.filter(name__in=DEMO_BUDGETS, removed_at__isnull=True):
        do_set_budget(domain, monthly_amount=DEMO_BUDGETS[domain.name], thresholds=[50, 80, 100], actor="demo")
    alerts = evaluate_budgets(timezone.localdate())
    log(f"Budgets set for {len(DEMO_BUDGETS)} domains; {len(alerts)} threshold alert(s) this month.")
