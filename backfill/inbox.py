"""The approver inbox's section of the tag backfill: plans waiting for this person's approval."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from backfill.models import BackfillPlan, CostTagBackfill, may_backfill_costs
from portal.scoping import APPROVE, grants_for

INBOX_ROWS = 10


def inbox_context(request: HttpRequest) -> dict[str, Any] | None:
    """Plans (by someone else) that tag a domain this person approves and that still wait; None when there are none,
    so that the section does not show at all."""
    user = request.user
    grants = grants_for(user)
    if not grants.domains_for(APPROVE):
        return None
    waiting = (
        BackfillPlan.objects.restrict(user)
        .filter(status=BackfillPlan.Status.PLANNED)
        .exclude(created_by=user)
        .select_related("created_by")
        .prefetch_related("approvals")
        .order_by("created_at")
    )
    rows = []
    for plan in waiting[:50]:
        done = {a.domain_arn for a in plan.approvals.all()}
        mine = [arn for arn in plan.domain_arns if arn not in done and grants.allows(APPROVE, arn)]
        if mine:
            names = plan.counts.get("domain_names", {})
            rows.append({"plan": plan, "domains": [names.get(arn, arn) for arn in mine]})
    if not rows:
        return None
    return {"plans": rows[:INBOX_ROWS], "more": len(rows) > INBOX_ROWS}


def cost_tag_inbox_context(request: HttpRequest) -> dict[str, Any] | None:
    """Cost allocation tag backfills someone else requested, waiting for a platform admin or finance person."""
    user = request.user
    if not may_backfill_costs(grants_for(user)):
        return None
    waiting = list(
        CostTagBackfill.objects.filter(status=CostTagBackfill.Status.PROPOSED)
        .exclude(requested_by=user)
        .select_related("payer", "requested_by")
        .order_by("requested_at")[: INBOX_ROWS + 1]
    )
    if not waiting:
        return None
    return {"backfills": waiting[:INBOX_ROWS], "more": len(waiting) > INBOX_ROWS}
